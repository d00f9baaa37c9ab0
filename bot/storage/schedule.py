"""When each followed item (activation, rent, mail) is next polled, shared by all workers.

* ``due`` — sorted set: member -> the time it is next due
* ``leases`` — sorted set: member -> when the worker that claimed it gives up its claim
* ``clock`` — the schedule's time at the last call (to notice a jump, below)

``claim`` moves due members to ``leases`` atomically (a Lua script), so several worker
processes share the work and never poll one item at once; a member whose worker died comes
back when its lease runs out. A handler that wants an item polled now (after "Another code")
calls ``due_now``; if a worker holds the item, its ``release`` keeps the earlier time.

Time. The schedule keeps its own: Redis ``TIME``, read inside each script, one clock for every
worker whatever each worker host's clock says. Callers speak in their own clock and the
schedule takes only the difference ("due in 5 s"), so a worker whose clock is off or jumps
neither makes every item due nor steals another worker's leases. The Redis host's clock can
jump too (the embedded server shares the bot's host), so each script compares TIME with the
last reading any script took: workers read it several times a second, and at least every few
seconds while busy, so a step beyond ``MAX_STEP`` is a jump, and every due time and lease is
moved by it: nothing falls due and no lease ends because of it. A schedule nobody touched for
that long (every worker down) looks the same; re-basing then delays each item by what was left
of its wait, a few minutes at most (and the reconciler makes every number due at a start).
Tests pass their own clock and no bound: a leap of their clock is time passing.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Iterable, Sequence
from time import time

from redis.asyncio import Redis
from redis.commands.core import AsyncScript
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError

from bot.storage import keys

log = logging.getLogger(__name__)

DUE = keys.SCHEDULE_DUE
LEASES = keys.SCHEDULE_LEASES
CLOCK = keys.SCHEDULE_CLOCK
#: The most the schedule's clock may move between two readings before it counts as a jump.
MAX_STEP = 60.0

# Every script: KEYS due, leases, clock; ARGV[1] now ('' = Redis TIME), ARGV[2] the bound on
# a step ('' = none), then its own. Lua hands numbers to Redis with 14 digits: 0.1 ms here.
_NOW = """
local function schedule_now()
  local now
  if ARGV[1] == '' then
    local t = redis.call('TIME')
    now = tonumber(t[1]) + tonumber(t[2]) / 1000000
  else
    now = tonumber(ARGV[1])
  end
  if ARGV[2] == '' then
    return now, 0
  end
  local last = tonumber(redis.call('GET', KEYS[3]) or '')
  redis.call('SET', KEYS[3], tostring(now))
  if last == nil or math.abs(now - last) <= tonumber(ARGV[2]) then
    return now, 0
  end
  local step = now - last
  for _, key in ipairs({KEYS[1], KEYS[2]}) do
    local items = redis.call('ZRANGE', key, 0, -1, 'WITHSCORES')
    for i = 1, #items, 2 do
      redis.call('ZADD', key, tonumber(items[i + 1]) + step, items[i])
    end
  end
  return now, step
end
local now, jump = schedule_now()
"""

# ARGV[3]: lease seconds, ARGV[4]: limit. Returns the jump, then the members claimed.
_CLAIM = (
    _NOW
    + """
local expired = redis.call('ZRANGEBYSCORE', KEYS[2], '-inf', now)
for _, member in ipairs(expired) do
  redis.call('ZREM', KEYS[2], member)
  redis.call('ZADD', KEYS[1], 'LT', now, member)
end
local candidates = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', now, 'LIMIT', 0, ARGV[4])
local claimed = {tostring(jump)}
local until_ = now + tonumber(ARGV[3])
for _, member in ipairs(candidates) do
  if not redis.call('ZSCORE', KEYS[2], member) then
    redis.call('ZREM', KEYS[1], member)
    redis.call('ZADD', KEYS[2], until_, member)
    table.insert(claimed, member)
  end
end
return claimed
"""
)

# Each script returns a list: the jump it re-based (0 for none), then what it gives.

# ARGV[3]: member, ARGV[4]: in how many seconds it is due (an earlier due time is kept).
_ADD = (
    _NOW
    + """
redis.call('ZADD', KEYS[1], 'LT', now + tonumber(ARGV[4]), ARGV[3])
return {tostring(jump)}
"""
)

# ARGV[3]: member, ARGV[4]: in how many seconds it is due again ('' to stop following it).
_RELEASE = (
    _NOW
    + """
redis.call('ZREM', KEYS[2], ARGV[3])
if ARGV[4] ~= '' then
  redis.call('ZADD', KEYS[1], 'LT', now + tonumber(ARGV[4]), ARGV[3])
end
return {tostring(jump)}
"""
)

# ARGV[3]: lease seconds, ARGV[4...]: members (only leases that still exist are extended).
_RENEW = (
    _NOW
    + """
local until_ = now + tonumber(ARGV[3])
for i = 4, #ARGV do
  redis.call('ZADD', KEYS[2], 'XX', until_, ARGV[i])
end
return {tostring(jump)}
"""
)

# How late the most overdue item is, in seconds (0 when nothing is late).
_LAG = (
    _NOW
    + """
local oldest = redis.call('ZRANGE', KEYS[1], 0, 0, 'WITHSCORES')
if #oldest == 0 then
  return {tostring(jump), '0'}
end
return {tostring(jump), tostring(math.max(0, now - tonumber(oldest[2])))}
"""
)


def _text(value: object) -> str:
    return value.decode() if isinstance(value, bytes) else str(value)


class Schedule:
    """The shared schedule. ``clock``: None for the real one (Redis TIME, jumps re-based);
    a test's clock is the schedule's time too, trusted unless ``max_step`` is given.
    ``callers``: the clock the times given to it are read on (by default ``clock``, or the
    wall clock)."""

    def __init__(
        self,
        redis: Redis,
        clock: Callable[[], float] | None = None,
        *,
        max_step: float | None = None,
        callers: Callable[[], float] | None = None,
    ) -> None:
        self._redis = redis
        self._clock = callers or clock or time
        self._now = "" if clock is None else None
        self.max_step = max_step if clock is not None else max_step or MAX_STEP
        self._claim = redis.register_script(_CLAIM)
        self._add = redis.register_script(_ADD)
        self._release = redis.register_script(_RELEASE)
        self._renew = redis.register_script(_RENEW)
        self._lag = redis.register_script(_LAG)

    def _args(self, *own: object) -> list[str]:
        now = self._now if self._now is not None else repr(self._clock())
        bound = "" if self.max_step is None else repr(self.max_step)
        return [now, bound, *(str(value) for value in own)]

    def _in(self, at: float) -> str:
        """``at`` (the caller's clock) as seconds from now: the only thing the schedule keeps."""
        return repr(at - self._clock())

    @staticmethod
    def _noticed(jump: object) -> None:
        step = float(_text(jump))
        if step:
            log.warning(
                "the schedule's clock (Redis TIME) moved %+.0f s between two readings: taken "
                "as a clock jump (or every worker was down); due times and leases moved with it",
                step,
            )

    async def _run(self, script: AsyncScript, *own: object) -> list[str]:
        result = await script(keys=[DUE, LEASES, CLOCK], args=self._args(*own))
        self._noticed(result[0])
        return [_text(value) for value in result[1:]]

    async def add(self, member: str, at: float | None = None) -> None:
        """Follow ``member`` from ``at`` (now by default); an earlier due time is kept."""
        await self._run(self._add, member, "0" if at is None else self._in(at))

    async def due_now(self, member: str) -> None:
        await self.add(member)

    async def claim(self, limit: int, lease: float) -> list[str]:
        return await self._run(self._claim, lease, limit)

    async def release(self, member: str, next_at: float | None) -> None:
        """Give the item back, due again at ``next_at``, or no longer followed (None).

        Retried on a dropped connection: an item not given back waits out its lease.
        """
        delay = "" if next_at is None else self._in(next_at)
        for attempt in range(3):
            try:
                await self._run(self._release, member, delay)
                return
            except (RedisConnectionError, RedisTimeoutError):
                if attempt == 2:
                    raise
                await asyncio.sleep(0.05 * (attempt + 1))

    async def renew(self, members: Iterable[str], lease: float) -> None:
        """Extend the leases of items still being polled (only leases that still exist)."""
        listed: Sequence[str] = list(members)
        if listed:
            await self._run(self._renew, lease, *listed)

    async def forget(self, member: str) -> None:
        await self._redis.zrem(DUE, member)

    async def lag(self) -> float:
        """How late the most overdue item is, in seconds (0 when nothing is late)."""
        (late,) = await self._run(self._lag)
        return float(late)

    async def is_followed(self, member: str) -> bool:
        due = await self._redis.zscore(DUE, member)
        leased = await self._redis.zscore(LEASES, member)
        return due is not None or leased is not None
