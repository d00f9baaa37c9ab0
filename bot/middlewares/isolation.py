"""Per-chat event isolation that also keeps Telegram's order of updates.

aiogram handles polled updates as concurrent tasks. Redis isolation alone serializes a chat's
updates but lets them run in any order, so a key typed right after tapping its provider could
be handled before the tap and answered "I did not understand" (with the key left in the chat).
Tasks reach ``lock()`` in update order without suspending on the way, and asyncio's lock serves
waiters first-come first-served, so a local lock per chat restores the order; the Redis lock
inside it still excludes other replicas.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncGenerator
from contextlib import asynccontextmanager

from aiogram.fsm.storage.base import StorageKey
from aiogram.fsm.storage.redis import RedisEventIsolation


class OrderedEventIsolation(RedisEventIsolation):
    def __init__(self, *args: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        self._local: dict[StorageKey, tuple[asyncio.Lock, int]] = {}

    @asynccontextmanager
    async def lock(self, key: StorageKey) -> AsyncGenerator[None, None]:
        local, users = self._local.get(key, (asyncio.Lock(), 0))
        self._local[key] = (local, users + 1)
        try:
            async with local, super().lock(key):
                yield None
        finally:
            local, users = self._local[key]
            if users <= 1:
                del self._local[key]
            else:
                self._local[key] = (local, users - 1)
