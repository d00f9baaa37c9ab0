"""Per-chat event isolation that also keeps Telegram's order of updates.

aiogram handles polled updates as concurrent tasks. Redis isolation alone serializes a chat's
updates but lets them run in any order, so a key typed right after tapping its provider could
be handled before the tap and answered "I did not understand" (with the key left in the chat).
Tasks reach ``lock()`` in update order without suspending on the way, and asyncio's lock serves
waiters first-come first-served, so a local lock per chat restores the order; the Redis lock
inside it still excludes other replicas. While both are held, the chat's dialog is served by
the storage's scope (:mod:`bot.storage.fsm`): read once, written once before the locks go.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncGenerator
from contextlib import AbstractAsyncContextManager, asynccontextmanager, nullcontext

from aiogram.fsm.storage.base import BaseStorage, KeyBuilder, StorageKey
from aiogram.fsm.storage.redis import RedisEventIsolation
from redis.asyncio import Redis

from bot.storage.fsm import ScopedRedisStorage


class OrderedEventIsolation(RedisEventIsolation):
    def __init__(
        self, redis: Redis, key_builder: KeyBuilder, storage: BaseStorage | None = None
    ) -> None:
        super().__init__(redis, key_builder=key_builder)
        self._local: dict[StorageKey, tuple[asyncio.Lock, int]] = {}
        self._storage = storage if isinstance(storage, ScopedRedisStorage) else None

    def _scope(self, key: StorageKey) -> AbstractAsyncContextManager[None]:
        return nullcontext() if self._storage is None else self._storage.scope(key)

    @asynccontextmanager
    async def lock(self, key: StorageKey) -> AsyncGenerator[None, None]:
        local, users = self._local.get(key, (asyncio.Lock(), 0))
        self._local[key] = (local, users + 1)
        try:
            # The scope ends (its writes land) before the Redis lock is let go.
            async with local, super().lock(key), self._scope(key):
                yield None
        finally:
            local, users = self._local[key]
            if users <= 1:
                del self._local[key]
            else:
                self._local[key] = (local, users - 1)
