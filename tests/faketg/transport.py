"""An httpx transport that serves Bot API calls from FakeTelegram in-process (no sockets).

It is ``InProcessSession`` for ``bot.botapi.BotApi``: handler tests give the worker a client
served by the same FakeTelegram as the bot's aiogram session. The request is read as the HTTP
server reads it (query string plus JSON body, flattened to strings by ``params``), so the fake
judges both clients alike.
"""

from __future__ import annotations

import json
import re

import httpx

from . import errors
from .errors import ApiError, bad_request
from .params import as_arg
from .server import FakeTelegram

_PATH = re.compile(r"^/bot(?P<token>[^/]*)/(?P<method>[^/]+)$")


class FakeTelegramTransport(httpx.AsyncBaseTransport):
    def __init__(self, server: FakeTelegram) -> None:
        self.server = server

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        await request.aread()
        match = _PATH.match(request.url.path)
        # The checks the server's aiohttp handler makes before call_direct, which skips them.
        if match is None:
            return _error(ApiError(404, errors.NOT_FOUND))
        if match["token"] != self.server.token:
            return _error(ApiError(401, errors.UNAUTHORIZED))
        args = dict(request.url.params)
        if request.content:
            try:
                body = json.loads(request.content)
            except ValueError:
                return _error(bad_request("Can't parse JSON object"))
            if isinstance(body, dict):
                for name, value in body.items():
                    arg = as_arg(value)
                    if arg is not None:
                        args[name] = arg
        status, text = await self.server.call_direct(match["method"], args)
        return _response(status, text)


def _error(error: ApiError) -> httpx.Response:
    return _response(error.error_code, json.dumps(error.payload(), ensure_ascii=False))


def _response(status: int, text: str) -> httpx.Response:
    return httpx.Response(
        status,
        content=text.encode(),
        headers={"content-type": "application/json; charset=utf-8"},
    )
