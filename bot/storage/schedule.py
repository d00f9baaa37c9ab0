"""When each followed item (activation, rent, mail) is next polled, shared by all workers.

* ``due`` — sorted set: member -> the time it is next due
* ``leases`` — sorted set: member -> when the worker that claimed it gives up its claim

``claim`` moves due members to ``leases`` atomically (a Lua script), so several worker
processes share the work and never poll one item at once; a member whose worker died comes
back when its lease runs out. A handler that wants an item polled now (after "Another code")
calls ``due_now``; if a worker holds the item, its ``release`` keeps the earlier time.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Iterable

from redis.asyncio import Redis
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError

from bot.storage import keys

DUE = keys.SCHEDULE_DUE
LEASES = keys.SCHEDULE_LEASES

# KEYS: due, leases. ARGV: now, lease seconds, limit.
_CLAIM = """
local expired = redis.call('ZRANGEBYSCORE', KEYS[2], '-inf', ARGV[1])
for _, member in ipairs(expired) do
  redis.call('ZREM', KEYS[2], member)
  redis.call('ZADD', KEYS[1], 'LT', ARGV[1], member)
end
local candidates = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', ARGV[1], 'LIMIT', 0, ARGV[3])
local claimed = {}
local until_ = tonumber(ARGV[1]) + tonumber(ARGV[2])
for _, member in ipairs(candidates) do
  if not redis.call('ZSCORE', KEYS[2], member) then
    redis.call('ZREM', KEYS[1], member)
    redis.call('ZADD', KEYS[2], until_, member)
    table.insert(claimed, member)
  end
end
return claimed
"""

# KEYS: due, leases. ARGV: member, next time ("" to stop following it).
_RELEASE = """
redis.call('ZREM', KEYS[2], ARGV[1])
if ARGV[2] ~= '' then
  local current = redis.call('ZSCORE', KEYS[1], ARGV[1])
  if (not current) or tonumber(ARGV[2]) < tonumber(current) then
    redis.call('ZADD', KEYS[1], ARGV[2], ARGV[1])
  end
end
return 1
"""


class Schedule:
    def __init__(self, redis: Redis, clock: Callable[[], float] = time.time) -> None:
        self._redis = redis
        self._clock = clock
        self._claim = redis.register_script(_CLAIM)
        self._release = redis.register_script(_RELEASE)

    async def add(self, member: str, at: float | None = None) -> None:
        """Follow ``member`` from ``at`` (now by default); an earlier due time is kept."""
        when = self._clock() if at is None else at
        current = await self._redis.zscore(DUE, member)
        if current is None or when < current:
            await self._redis.zadd(DUE, {member: when})

    async def due_now(self, member: str) -> None:
        await self.add(member, self._clock())

    async def claim(self, limit: int, lease: float, now: float | None = None) -> list[str]:
        moment = self._clock() if now is None else now
        claimed = await self._claim(keys=[DUE, LEASES], args=[moment, lease, limit])
        return [m.decode() if isinstance(m, bytes) else str(m) for m in claimed]

    async def release(self, member: str, next_at: float | None) -> None:
        """Give the item back, due again at ``next_at``, or no longer followed (None).

        Retried on a dropped connection: an item not given back waits out its lease.
        """
        args = [member, "" if next_at is None else repr(next_at)]
        for attempt in range(3):
            try:
                await self._release(keys=[DUE, LEASES], args=args)
                return
            except (RedisConnectionError, RedisTimeoutError):
                if attempt == 2:
                    raise
                await asyncio.sleep(0.05 * (attempt + 1))

    async def renew(self, members: Iterable[str], lease: float) -> None:
        """Extend the leases of items still being polled (only leases that still exist)."""
        until = self._clock() + lease
        mapping = dict.fromkeys(members, until)
        if mapping:
            await self._redis.zadd(LEASES, mapping, xx=True)

    async def forget(self, member: str) -> None:
        await self._redis.zrem(DUE, member)

    async def lag(self, now: float | None = None) -> float:
        """How late the most overdue item is, in seconds (0 when nothing is late)."""
        oldest = await self._redis.zrange(DUE, 0, 0, withscores=True)
        if not oldest:
            return 0.0
        moment = self._clock() if now is None else now
        return max(0.0, moment - float(oldest[0][1]))

    async def is_followed(self, member: str) -> bool:
        due = await self._redis.zscore(DUE, member)
        leased = await self._redis.zscore(LEASES, member)
        return due is not None or leased is not None
