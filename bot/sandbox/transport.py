"""An httpx transport that serves the emulator in-process, faults included.

    client = httpx.AsyncClient(transport=EmulatorTransport(emu), base_url="https://sandbox.test")
    await client.get("/stubs/handler_api.php", params={"api_key": ..., "action": "getBalance"})

A timeout fault raises :class:`httpx.ReadTimeout` (after the request was carried out, in
``when="after"`` mode); latency is an ``asyncio.sleep``.
"""

from __future__ import annotations

import asyncio
from urllib.parse import parse_qsl

import httpx

from bot.sandbox.emulator import Emulator

__all__ = ["HANDLER_PATH", "EmulatorTransport", "merge_params"]

HANDLER_PATH = "/stubs/handler_api.php"


def merge_params(query: list[tuple[str, str]], form: list[tuple[str, str]]) -> dict[str, str]:
    """Query string and form body as one mapping; the body wins, like PHP's ``$_REQUEST``."""
    merged = dict(query)
    merged.update(form)
    return merged


class EmulatorTransport(httpx.AsyncBaseTransport):
    def __init__(self, emulator: Emulator) -> None:
        self.emulator = emulator

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        if not request.url.path.endswith(HANDLER_PATH):
            return httpx.Response(404, text="Not Found", request=request)
        form: list[tuple[str, str]] = []
        if request.method == "POST":
            body = (await request.aread()).decode("utf-8", "replace")
            content_type = request.headers.get("content-type", "")
            if "application/x-www-form-urlencoded" in content_type or not content_type:
                form = parse_qsl(body, keep_blank_values=True)
        elif request.method != "GET":
            return httpx.Response(405, text="Method Not Allowed", request=request)
        params = merge_params(list(request.url.params.multi_items()), form)
        outcome = self.emulator.serve(params)
        if outcome.latency > 0:
            await asyncio.sleep(outcome.latency)
        if outcome.reply is None:
            raise httpx.ReadTimeout(
                "sandbox: the answer was lost (timeout fault)", request=request
            )
        reply = outcome.reply
        return httpx.Response(
            reply.status,
            headers={"content-type": reply.content_type},
            content=reply.body.encode("utf-8"),
            request=request,
        )
