"""Short-lived shared copies of what providers sell (``cache:<name>``), as JSON.

Shared by processes through Redis; TTLs are the callers', since prices, stock and menus each
move at their own pace.
"""

from __future__ import annotations

import json
from typing import Any

from redis.asyncio import Redis

from bot.storage import keys


class JsonCache:
    def __init__(self, redis: Redis) -> None:
        self._redis = redis

    async def get(self, name: str) -> Any | None:
        """The cached value, or None when it is missing or has expired."""
        raw = await self._redis.get(keys.cache(name))
        return json.loads(raw) if raw is not None else None

    async def put(self, name: str, value: Any, ttl: int) -> None:
        await self._redis.set(keys.cache(name), json.dumps(value), ex=ttl)
