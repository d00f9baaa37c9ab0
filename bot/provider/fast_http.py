"""An httpx transport that sends reads through aiohttp: the provider client keeps httpx's API
(and the tests their in-process transports), and the polls cost a tenth of the CPU.

Measured on this machine against an aiohttp server on loopback, 16 requests in flight:
httpx's own transport (httpcore over anyio) spent ~4 ms of CPU per request, aiohttp's ~0.35
ms, server included; at 10,000 open activations the worker spent a fifth of its CPU in
httpcore. aiohttp already comes with aiogram.

Only reads go that way (``ReadsThroughAiohttp``). aiohttp sends a GET again by itself when a
connection drops before the answer, and the protocol buys, cancels and finishes with GETs: a
purchase must never be repeated on a lost answer, so every other action keeps httpx's own
transport, which does not retry.

Which failures say the request never left matters too: the transport above retries only on
those, so only failures to connect (or to get a pooled connection in time) become
``httpx.ConnectError`` / ``httpx.ConnectTimeout``; a connection lost after the request was
written is ``httpx.ReadError`` and a silent server ``httpx.ReadTimeout``.
"""

from __future__ import annotations

from collections.abc import Collection

import aiohttp
import httpx

#: Connections kept per host beyond those in use is aiohttp's business; this bounds them all.
DEFAULT_CONNECTIONS = 32


class AiohttpTransport(httpx.AsyncBaseTransport):
    def __init__(self, limits: httpx.Limits | None = None) -> None:
        connections = (limits.max_connections if limits else None) or DEFAULT_CONNECTIONS
        self._connections = connections
        self._keepalive = (limits.keepalive_expiry if limits else None) or 5.0
        self._session: aiohttp.ClientSession | None = None

    def _client(self) -> aiohttp.ClientSession:
        # Made on first use: a session belongs to the running event loop.
        if self._session is None or self._session.closed:
            connector = aiohttp.TCPConnector(
                limit=self._connections, keepalive_timeout=self._keepalive
            )
            self._session = aiohttp.ClientSession(
                connector=connector, auto_decompress=True, cookie_jar=aiohttp.DummyCookieJar()
            )
        return self._session

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        timeout = request.extensions.get("timeout", {})
        connect = timeout.get("connect")
        pool = timeout.get("pool")
        limits = aiohttp.ClientTimeout(
            # aiohttp's "connect" covers waiting for a pooled connection and connecting.
            connect=None if connect is None and pool is None else (connect or 0) + (pool or 0),
            sock_connect=connect,
            sock_read=timeout.get("read"),
        )
        body = await request.aread()
        try:
            async with self._client().request(
                request.method,
                str(request.url),
                headers=[
                    (name, value)
                    for name, value in request.headers.multi_items()
                    if name.lower() not in {"accept-encoding", "host", "content-length"}
                ],
                data=body or None,
                allow_redirects=False,
                timeout=limits,
            ) as response:
                content = await response.read()
                return httpx.Response(
                    response.status,
                    headers=[(k, v) for k, v in response.headers.items() if _passes(k)],
                    content=content,
                    request=request,
                )
        except aiohttp.ConnectionTimeoutError as error:
            raise httpx.ConnectTimeout(str(error), request=request) from error
        except aiohttp.ClientConnectorError as error:
            raise httpx.ConnectError(str(error), request=request) from error
        except (aiohttp.SocketTimeoutError, TimeoutError) as error:
            raise httpx.ReadTimeout(str(error) or "timed out", request=request) from error
        except aiohttp.InvalidURL as error:
            raise httpx.UnsupportedProtocol(str(error), request=request) from error
        except (aiohttp.ClientError, OSError) as error:
            # Lost after the request was written (or while reading the answer): it may have run.
            raise httpx.ReadError(str(error) or type(error).__name__, request=request) from error

    async def aclose(self) -> None:
        if self._session is not None:
            await self._session.close()
            self._session = None


def _passes(header: str) -> bool:
    # The body is handed over decoded: its transfer headers no longer describe it.
    return header.lower() not in {"content-encoding", "transfer-encoding", "content-length"}


class ReadsThroughAiohttp(httpx.AsyncBaseTransport):
    """Requests whose ``action`` only reads go through aiohttp, the rest through httpx's own
    transport (which never sends a request twice)."""

    def __init__(self, reads: Collection[str], limits: httpx.Limits) -> None:
        self._reads = frozenset(reads)
        self._fast = AiohttpTransport(limits)
        self._careful = httpx.AsyncHTTPTransport(limits=limits)

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        if request.url.params.get("action") in self._reads:
            return await self._fast.handle_async_request(request)
        return await self._careful.handle_async_request(request)

    async def aclose(self) -> None:
        await self._fast.aclose()
        await self._careful.aclose()
