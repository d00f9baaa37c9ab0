"""The dialogs' storage: one read and one write per update, aiogram's keys and format."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

from aiogram.fsm.storage.base import DefaultKeyBuilder, StorageKey
from aiogram.fsm.storage.redis import RedisStorage
from fakeredis import FakeAsyncRedis

from bot.storage import keys
from bot.storage.fsm import ScopedRedisStorage
from tests.harness import running_harness

KEY = StorageKey(bot_id=1, chat_id=7, user_id=7)
OTHER = StorageKey(bot_id=1, chat_id=8, user_id=8)


class CountingRedis(FakeAsyncRedis):
    """Records every command sent, one by one or in a pipeline, with its first key."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.commands: list[str] = []
        self.keyed: list[tuple[str, str]] = []

    async def execute_command(self, *args: Any, **options: Any) -> Any:
        self.note(args)
        return await super().execute_command(*args, **options)  # type: ignore[no-untyped-call]

    def note(self, args: tuple[Any, ...]) -> None:
        self.commands.append(str(args[0]).upper())
        self.keyed.append((str(args[0]).upper(), str(args[1]) if len(args) > 1 else ""))

    def pipeline(self, transaction: bool = True, shard_hint: Any = None) -> Any:
        pipe = super().pipeline(transaction, shard_hint)
        execute = pipe.execute

        async def counted(raise_on_error: bool = True) -> Any:
            for args, _options in pipe.command_stack:
                self.note(args)
            return await execute(raise_on_error)

        pipe.execute = counted  # type: ignore[method-assign]
        return pipe


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
        redis.commands.clear()
    # Written when the scope ends, in one round trip, in aiogram's own format.
    assert redis.commands[:2] == ["SET", "SET"]
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


async def test_a_menu_step_reads_its_user_and_its_dialog_once(tmp_path: Path) -> None:
    redis = CountingRedis()
    async with running_harness(tmp_path, redis=redis) as harness:
        user = await harness.connected()
        await user.send("/buy")
        redis.keyed.clear()
        await user.press("Telegram")
        assert "Telegram" in user.last().text
        user_key, fsm_prefix = keys.user(user.id), f"{keys.FSM_PREFIX}:"
        reads = {"GET", "MGET", "HGET", "HMGET", "HGETALL", "EXISTS"}
        user_reads = [c for c, key in redis.keyed if c in reads and key == user_key]
        dialog_reads = [c for c, key in redis.keyed if c in reads and key.startswith(fsm_prefix)]
        assert user_reads == ["HMGET"]  # language and key together
        assert dialog_reads == ["MGET"]  # state and data together
