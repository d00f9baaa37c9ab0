"""An aiogram session that serves Bot API calls from FakeTelegram in-process (no sockets).

Handler tests and benchmarks use it: aiogram prepares each call and checks each answer exactly
as it does over HTTP, so Telegram's errors surface as the same exceptions.
"""

from __future__ import annotations

from collections.abc import AsyncGenerator
from typing import Any

from aiogram import Bot
from aiogram.client.session.base import BaseSession
from aiogram.client.telegram import PRODUCTION
from aiogram.methods import TelegramMethod
from aiogram.methods.base import TelegramType

from tests.faketg.server import FakeTelegram


class InProcessSession(BaseSession):
    """Serves Bot API calls from FakeTelegram directly, with aiogram's own response checks."""

    def __init__(self, server: FakeTelegram) -> None:
        super().__init__(api=PRODUCTION)
        self.server = server

    async def make_request(
        self, bot: Bot, method: TelegramMethod[TelegramType], timeout: int | None = None
    ) -> TelegramType:
        args: dict[str, str] = {}
        files: dict[str, Any] = {}
        for key, value in method.model_dump(warnings=False).items():
            prepared = self.prepare_value(value, bot=bot, files=files)
            if prepared:
                args[key] = prepared
        status, text = await self.server.call_direct(method.__api_method__, args)
        response = self.check_response(bot=bot, method=method, status_code=status, content=text)
        return response.result  # type: ignore[return-value]

    async def stream_content(
        self,
        url: str,
        headers: dict[str, Any] | None = None,
        timeout: int = 30,
        chunk_size: int = 65536,
        raise_for_status: bool = True,
    ) -> AsyncGenerator[bytes, None]:
        raise RuntimeError("file downloads are not used by the bot")
        yield b""  # pragma: no cover

    async def close(self) -> None:
        return None
