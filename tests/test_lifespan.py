"""Shutdown lets the updates being handled finish, one waiting for its chat's turn included."""

from __future__ import annotations

import asyncio
from typing import Any

from aiogram import Bot, Router
from aiogram.fsm.storage.memory import SimpleEventIsolation
from aiogram.types import Message, Update

from bot.dispatcher import BotDispatcher
from bot.lifespan import finish_updates

TOKEN = "123456:TEST-TOKEN"


def message_update(update_id: int) -> Update:
    raw: dict[str, Any] = {
        "update_id": update_id,
        "message": {
            "message_id": update_id,
            "date": 0,
            "chat": {"id": 1, "type": "private"},
            "from": {"id": 1, "is_bot": False, "first_name": "Alice"},
            "text": "hello",
        },
    }
    return Update.model_validate(raw)


async def test_shutdown_waits_for_updates_in_flight() -> None:
    entered, release = asyncio.Event(), asyncio.Event()
    router = Router()

    @router.message()
    async def slow(message: Message) -> None:
        entered.set()
        await release.wait()

    dispatcher = BotDispatcher(events_isolation=SimpleEventIsolation())
    dispatcher.include_router(router)
    bot = Bot(TOKEN)
    try:
        first = asyncio.create_task(dispatcher.feed_update(bot, message_update(1)))
        # The same chat: this one waits for the first to let go of the chat's lock.
        second = asyncio.create_task(dispatcher.feed_update(bot, message_update(2)))
        await asyncio.wait_for(entered.wait(), 5)
        assert set(dispatcher.updates_in_flight()) == {first, second}

        finishing = asyncio.create_task(finish_updates(dispatcher, timeout=10))
        await asyncio.sleep(0.05)
        assert not finishing.done()
        release.set()
        await asyncio.wait_for(finishing, 10)
        assert first.done()
        assert second.done()
        assert dispatcher.updates_in_flight() == []
    finally:
        await bot.session.close()


async def test_the_caller_is_not_waited_for() -> None:
    dispatcher = BotDispatcher()
    seen: list[list[asyncio.Task[Any]]] = []
    router = Router()

    @router.message()
    async def stopping(message: Message) -> None:
        # A shutdown started from inside an update must not wait for itself.
        seen.append(dispatcher.updates_in_flight())

    dispatcher.include_router(router)
    bot = Bot(TOKEN)
    try:
        await dispatcher.feed_update(bot, message_update(1))
    finally:
        await bot.session.close()
    assert seen == [[]]
