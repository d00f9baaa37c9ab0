"""The dialogs' storage: one read and one write per update, aiogram's keys and format."""

from __future__ import annotations

import asyncio
from typing import Any

from aiogram.fsm.storage.base import DefaultKeyBuilder, StorageKey
from aiogram.fsm.storage.redis import RedisStorage
from fakeredis import FakeAsyncRedis

from bot.storage.fsm import ScopedRedisStorage

KEY = StorageKey(bot_id=1, chat_id=7, user_id=7)
OTHER = StorageKey(bot_id=1, chat_id=8, user_id=8)


class CountingRedis(FakeAsyncRedis):
    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.commands: list[str] = []

    async def execute_command(self, *args: Any, **options: Any) -> Any:
        self.commands.append(str(args[0]).upper())
        return await super().execute_command(*args, **options)  # type: ignore[no-untyped-call]


def storages() -> tuple[CountingRedis, ScopedRedisStorage, RedisStorage]:
    redis = CountingRedis()
    builder = DefaultKeyBuilder(prefix="t")
    return redis, ScopedRedisStorage(redis, builder), RedisStorage(redis, builder)


async def test_an_update_reads_its_dialog_once_and_writes_it_once() -> None:
    redis, storage, plain = storages()
    await plain.set_state(KEY, "Buy:country")
    await plain.set_data(KEY, {"service": "tg"})
    redis.commands.clear()
    async with storage.scope(KEY):
        assert await storage.get_state(KEY) == "Buy:country"
        data = await storage.get_data(KEY)
        data["country"] = 6  # a copy: nothing stored until it is set
        assert await storage.get_data(KEY) == {"service": "tg"}
        await storage.update_data(KEY, {"country": 6})
        await storage.set_state(KEY, "Buy:operator")
        assert await storage.get_state(KEY) == "Buy:operator"
        assert redis.commands == ["MGET"]
        assert await plain.get_state(KEY) == "Buy:country"  # not written yet
    # Written when the scope ends, in aiogram's own format.
    assert await plain.get_state(KEY) == "Buy:operator"
    assert await plain.get_data(KEY) == {"service": "tg", "country": 6}


async def test_a_cleared_dialog_leaves_no_keys_and_an_unchanged_one_is_not_written() -> None:
    redis, storage, plain = storages()
    await plain.set_state(KEY, "Buy:country")
    await plain.set_data(KEY, {"service": "tg"})
    async with storage.scope(KEY):
        await storage.set_state(KEY, None)
        await storage.set_data(KEY, {})
    assert await redis.keys("*") == []
    redis.commands.clear()
    async with storage.scope(KEY):
        assert await storage.get_state(KEY) is None
        await storage.set_data(KEY, {})
    assert redis.commands == ["MGET"]


async def test_outside_its_scope_the_storage_goes_to_redis() -> None:
    _, storage, plain = storages()
    async with storage.scope(KEY):
        # Another chat's dialog is not this update's to cache.
        await storage.set_state(OTHER, "Rent:hours")
        assert await plain.get_state(OTHER) == "Rent:hours"
        # A task started in the update that outlives it writes straight through.
        later = asyncio.Event()

        async def outlives() -> None:
            await later.wait()
            await storage.set_data(KEY, {"late": True})

        task = asyncio.create_task(outlives())
    later.set()
    await task
    assert await plain.get_data(KEY) == {"late": True}
