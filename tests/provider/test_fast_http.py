"""The aiohttp transport, against real servers on loopback: answers come through whole, and a
failure says whether the request left, so a purchase is never repeated on a lost answer."""

from __future__ import annotations

import asyncio
import gzip
import socket
from collections.abc import AsyncIterator

import httpx
import pytest
from aiohttp import web

from bot.provider import errors as e
from bot.provider.fast_http import ReadsThroughAiohttp
from bot.provider.transport import Transport, build_http_client


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture
async def provider() -> AsyncIterator[str]:
    async def handler(request: web.Request) -> web.Response:
        action = request.query.get("action", "")
        if action == "slow":
            await asyncio.sleep(5)
        if action == "gzip":
            body = gzip.compress(b"ACCESS_BALANCE:12.50")
            return web.Response(body=body, headers={"Content-Encoding": "gzip"})
        return web.Response(text=f"{request.method} {action} {request.query.get('api_key')}")

    app = web.Application()
    app.router.add_get("/stubs/handler_api.php", handler)
    runner = web.AppRunner(app)
    await runner.setup()
    port = free_port()
    await web.TCPSite(runner, "127.0.0.1", port).start()
    yield f"http://127.0.0.1:{port}/stubs/handler_api.php"
    await runner.cleanup()


@pytest.fixture
async def hangs_up() -> AsyncIterator[tuple[str, list[bytes]]]:
    """A server that reads each request and closes the connection without answering."""
    seen: list[bytes] = []

    async def serve(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        seen.append(await reader.readuntil(b"\r\n\r\n"))
        writer.close()

    server = await asyncio.start_server(serve, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    yield f"http://127.0.0.1:{port}/stubs/handler_api.php", seen
    server.close()
    await server.wait_closed()


async def test_an_answer_comes_through_with_the_query_and_decoded(provider: str) -> None:
    async with build_http_client() as http:
        for action in ("getBalance", "getNumber"):  # a read through aiohttp, a purchase not
            answer = await http.get(provider, params={"action": action, "api_key": "k1"})
            assert answer.status_code == 200
            assert answer.text == f"GET {action} k1"
        transport = ReadsThroughAiohttp({"gzip"}, httpx.Limits())
        async with httpx.AsyncClient(transport=transport) as zipping:
            zipped = await zipping.get(provider, params={"action": "gzip"})
            assert zipped.text == "ACCESS_BALANCE:12.50"


async def test_a_refused_connection_never_left() -> None:
    async with build_http_client() as http:
        transport = Transport(http, f"http://127.0.0.1:{free_port()}/", "key", read_retries=0)
        with pytest.raises(e.ProviderConnectError):
            await transport.call("getNumber", service="tg", country=0)
        with pytest.raises(e.ProviderConnectError):
            await transport.call("getStatus", id=1)  # through aiohttp: said the same way


async def test_a_silent_provider_times_out(provider: str) -> None:
    transport = ReadsThroughAiohttp({"slow"}, httpx.Limits())
    async with httpx.AsyncClient(transport=transport, timeout=httpx.Timeout(0.3)) as http:
        with pytest.raises(httpx.ReadTimeout):
            await http.get(provider, params={"action": "slow"})


async def test_a_purchase_whose_answer_was_lost_is_not_sent_again(
    hangs_up: tuple[str, list[bytes]],
) -> None:
    url, seen = hangs_up
    async with build_http_client() as http:
        transport = Transport(http, url, "key", read_retries=3, backoff=0.01)
        with pytest.raises(e.ProviderError) as caught:
            await transport.call("getNumber", service="tg", country=0)
        assert not isinstance(caught.value, e.ProviderConnectError)  # it may have run
        assert len(seen) == 1
        with pytest.raises(e.ProviderError):
            await transport.call("getStatus", id=1)  # a read is asked again
        assert len(seen) > 2
