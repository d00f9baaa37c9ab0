"""The dialogs' storage: one read and one write per update, aiogram's keys and format."""

from __future__ import annotations

import asyncio
from datetime import timedelta
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


LOCK = "t:lock:7"


def held(storage: ScopedRedisStorage, timeout: float = 60.0) -> Any:
    return storage.locked(KEY, LOCK, timeout)


async def test_an_update_takes_its_lock_and_dialog_in_one_command_and_gives_back_in_one() -> None:
    redis, storage, plain = storages()
    await plain.set_state(KEY, "Buy:country")
    await plain.set_data(KEY, {"service": "tg"})
    async with held(storage):
        pass  # Redis learns both scripts once (SCRIPT LOAD)
    redis.commands.clear()
    async with held(storage):
        assert redis.commands == ["EVALSHA"]
        assert await redis.get(LOCK) is not None
        redis.commands.clear()
        assert await storage.get_state(KEY) == "Buy:country"
        data = await storage.get_data(KEY)
        data["country"] = 6  # a copy: nothing stored until it is set
        assert await storage.get_data(KEY) == {"service": "tg"}
        await storage.update_data(KEY, {"country": 6})
        await storage.set_state(KEY, "Buy:operator")
        assert await storage.get_state(KEY) == "Buy:operator"
        assert redis.commands == []  # served from memory
        assert await plain.get_state(KEY) == "Buy:country"  # not written yet
        redis.commands.clear()
    # Written as the lock goes, in one script, in aiogram's own format.
    assert redis.commands == ["EVALSHA"]
    assert await redis.get(LOCK) is None
    assert await plain.get_state(KEY) == "Buy:operator"
    assert await plain.get_data(KEY) == {"service": "tg", "country": 6}


async def test_a_cleared_dialog_leaves_no_keys_and_an_unchanged_one_is_not_written() -> None:
    redis, storage, plain = storages()
    await plain.set_state(KEY, "Buy:country")
    await plain.set_data(KEY, {"service": "tg"})
    async with held(storage):
        await storage.set_state(KEY, None)
        await storage.set_data(KEY, {})
    assert await redis.keys("*") == []
    await plain.set_state(KEY, "Buy:country")
    await redis.expire("t:7:7:state", 100)  # a write would drop the lifetime
    async with held(storage):
        assert await storage.get_state(KEY) == "Buy:country"
        await storage.set_data(KEY, {})
    assert await redis.keys("*") == [b"t:7:7:state"]
    assert await redis.ttl("t:7:7:state") > 90


async def test_the_lifetimes_of_the_storage_hold_for_what_the_script_writes() -> None:
    redis = CountingRedis()
    storage = ScopedRedisStorage(
        redis, DefaultKeyBuilder(prefix="t"), state_ttl=30, data_ttl=timedelta(minutes=2)
    )
    async with held(storage):
        await storage.set_state(KEY, "Buy:country")
        await storage.set_data(KEY, {"service": "tg"})
    assert 29_000 < await redis.pttl("t:7:7:state") <= 30_000
    assert 119_000 < await redis.pttl("t:7:7:data") <= 120_000


async def test_a_second_holder_waits_for_the_lock_and_sees_what_the_first_wrote() -> None:
    _, storage, _ = storages()
    other = ScopedRedisStorage(storage.redis, storage.key_builder)  # another process
    order: list[str] = []

    async def second() -> None:
        async with held(other):
            order.append("second in")
            assert await other.get_state(KEY) == "Rent:hours"

    async with held(storage):
        waiting = asyncio.create_task(second())
        await asyncio.sleep(0.25)
        assert order == []
        await storage.set_state(KEY, "Rent:hours")
        order.append("first out")
    await waiting
    assert order == ["first out", "second in"]


async def test_a_lock_that_ran_out_and_was_taken_is_not_let_go_by_the_late_update() -> None:
    redis, storage, plain = storages()
    async with held(storage, timeout=0.05):
        await asyncio.sleep(0.1)
        await redis.set(LOCK, "someone else's")
        await storage.set_state(KEY, "Buy:country")
    assert await redis.get(LOCK) == b"someone else's"
    assert await plain.get_state(KEY) == "Buy:country"


async def test_outside_its_scope_the_storage_goes_to_redis() -> None:
    _, storage, plain = storages()
    async with held(storage):
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
        redis.commands.clear()
        await user.press("Telegram")
        assert "Telegram" in user.last().text
        user_key, fsm_prefix = keys.user(user.id), f"{keys.FSM_PREFIX}:"
        reads = {"GET", "MGET", "HGET", "HMGET", "HGETALL", "EXISTS"}
        user_reads = [c for c, key in redis.keyed if c in reads and key == user_key]
        dialog_reads = [c for c, key in redis.keyed if c in reads and key.startswith(fsm_prefix)]
        assert user_reads == ["HMGET"]  # language and key together
        assert dialog_reads == []  # state and data come with the chat's lock
        assert redis.commands.count("EVALSHA") == 2  # the lock taken, and let go
