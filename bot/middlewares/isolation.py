"""Per-chat event isolation that also keeps Telegram's order of updates.

aiogram handles polled updates as concurrent tasks. Redis isolation alone serializes a chat's
updates but lets them run in any order, so a key typed right after tapping its provider could
be handled before the tap and answered "I did not understand" (with the key left in the chat).
Tasks reach ``lock()`` in update order without suspending on the way, and asyncio's lock serves
waiters first-come first-served, so a local lock per chat restores the order; the Redis lock
inside it still excludes other replicas. While both are held, the chat's dialog is served by
the storage's scope (:mod:`bot.storage.fsm`): read with the Redis lock taken, written with it
let go, one script each.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncGenerator
from contextlib import AbstractAsyncContextManager, asynccontextmanager

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

    def _held(self, key: StorageKey) -> AbstractAsyncContextManager[None]:
        """The Redis lock, with the dialog read and written under it when the storage can."""
        if self._storage is None:
            return super().lock(key)
        timeout = float(self.lock_kwargs.get("timeout", 60))
        return self._storage.locked(key, self.key_builder.build(key, "lock"), timeout)

    @asynccontextmanager
    async def lock(self, key: StorageKey) -> AsyncGenerator[None, None]:
        local, users = self._local.get(key, (asyncio.Lock(), 0))
        self._local[key] = (local, users + 1)
        try:
            async with local, self._held(key):
                yield None
        finally:
            local, users = self._local[key]
            if users <= 1:
                del self._local[key]
            else:
                self._local[key] = (local, users - 1)
