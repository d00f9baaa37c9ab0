"""Pytest fixtures and helpers that connect the real aiogram client to ``FakeTelegram``.

Import the fixtures into a conftest.py (``from tests.faketg.fixtures import fake_telegram,
fake_bot``) to use them by name.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import pytest_asyncio
from aiogram import Bot, Dispatcher
from aiogram.client.default import DefaultBotProperties
from aiogram.client.session.aiohttp import AiohttpSession
from aiogram.client.telegram import TelegramAPIServer

from .server import FakeTelegram


class LoopbackSession(AiohttpSession):
    """AiohttpSession without the 250 ms pause its close() makes for TLS shutdown.

    Requests go through the unchanged aiohttp session code; loopback HTTP has no TLS to wait
    for, and the pause would add up over hundreds of tests.
    """

    async def close(self) -> None:
        if self._session is not None and not self._session.closed:
            await self._session.close()


def make_bot(server: FakeTelegram, *, parse_mode: str | None = "HTML") -> Bot:
    """An aiogram Bot that talks to ``server`` exactly as it would to api.telegram.org."""
    session = LoopbackSession(api=TelegramAPIServer.from_base(server.base_url))
    return Bot(server.token, session=session, default=DefaultBotProperties(parse_mode=parse_mode))


@asynccontextmanager
async def polling(dispatcher: Dispatcher, bot: Bot, **kwargs: Any) -> AsyncIterator[None]:
    """Run ``dispatcher`` long polling in the background for the duration of the block."""
    task = asyncio.create_task(
        dispatcher.start_polling(bot, handle_signals=False, close_bot_session=False, **kwargs)
    )
    # One turn of the loop lets start_polling take its lock, so stop_polling can find it.
    await asyncio.sleep(0)
    try:
        yield
    finally:
        if not task.done():
            await dispatcher.stop_polling()
        await task


@pytest_asyncio.fixture
async def fake_telegram() -> AsyncIterator[FakeTelegram]:
    async with FakeTelegram() as server:
        yield server


@pytest_asyncio.fixture
async def fake_bot(fake_telegram: FakeTelegram) -> AsyncIterator[Bot]:
    bot = make_bot(fake_telegram)
    try:
        yield bot
    finally:
        await bot.session.close()
