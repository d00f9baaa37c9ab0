"""Per-second rates shared by every process: a counter per second in Redis."""

from __future__ import annotations

import asyncio
import random
import time
from collections.abc import Awaitable, Callable

from redis.asyncio import Redis

# KEYS[1]: this second's counter; ARGV[1]: how many wanted, ARGV[2]: the ceiling.
# Returns how many of them fit under the ceiling (the counter keeps what was asked for).
_LEASE = """
local used = redis.call('INCRBY', KEYS[1], ARGV[1])
if used == tonumber(ARGV[1]) then
  redis.call('EXPIRE', KEYS[1], 3)
end
local over = used - tonumber(ARGV[2])
return math.max(0, math.min(tonumber(ARGV[1]), tonumber(ARGV[1]) - over))
"""


class SlicedRate:
    """``per_second`` calls of ``name`` a second across every process, spent locally.

    A process leases a slice of a second's budget from Redis (one script call) and spends it
    without asking again; when the slice is gone it leases another, and once the second's
    budget is all leased out it waits for the next second. What is leased and not spent is
    lost for that second, so the ceiling holds across processes: no more than ``per_second``
    calls in any second of the shared clock, whichever processes make them.
    """

    def __init__(
        self,
        redis: Redis,
        name: str,
        per_second: int,
        *,
        slice_size: int | None = None,
        clock: Callable[[], float] = time.time,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ) -> None:
        self._redis = redis
        self._name = name
        self._per_second = per_second
        self._slice = slice_size or max(1, per_second // 4)
        self._second = -1
        self._left = 0
        self._lease = redis.register_script(_LEASE)
        self._clock = clock
        self._sleep = sleep

    async def acquire(self) -> None:
        while True:
            second = int(self._clock())
            if second != self._second:
                self._second, self._left = second, 0
            if self._left > 0:
                self._left -= 1
                return
            counter = f"{self._name}:{second}"
            granted = int(await self._lease(keys=[counter], args=[self._slice, self._per_second]))
            if second == self._second:
                self._left += granted
            if self._left > 0:
                continue
            # The second's budget is leased out: the next second, jittered against stampedes.
            await self._sleep(max(0.0, second + 1 - self._clock()) + random.uniform(0, 0.05))


# KEYS[1]: the chat's theoretical arrival time (ms): when its bucket is full again.
# ARGV: now (ms), the interval (ms), the tolerance (ms: how far ahead of now that time may
# be). Returns {1, the new time} when a message may go now, else {0, ms to wait}.
_CHAT_TURN = """
local now = tonumber(ARGV[1])
local interval = tonumber(ARGV[2])
local tat = math.max(tonumber(redis.call('GET', KEYS[1]) or '0') or 0, now)
local wait = tat - tonumber(ARGV[3]) - now
if wait > 0 then
  return {0, wait}
end
tat = tat + interval
redis.call('SET', KEYS[1], tat, 'PX', tat - now)
return {1, tat}
"""


class ChatPace:
    """One message per ``interval`` to a chat on average, across processes, in bursts of up
    to ``burst`` (a generic cell rate: each chat's key holds when its bucket is full again).

    Telegram asks for about one message a second per chat and allows short bursts. The burst
    is what lets a code push follow a card edit at once: a message that may wait (a card
    edit) asks to leave ``spare`` messages of the burst for the next one, so the chat always
    keeps one for a code that arrives meanwhile.
    """

    def __init__(
        self,
        redis: Redis,
        interval: float,
        burst: int,
        *,
        key: Callable[[int], str],
        kept: int = 10_000,
        clock: Callable[[], float] = time.time,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ) -> None:
        self._interval_ms = int(interval * 1000)
        self._burst = burst
        self._key = key
        self._kept = kept
        self._clock = clock
        self._sleep = sleep
        self._turn = redis.register_script(_CHAT_TURN)
        # Each chat's full-again time as this process last learned it (ms): a message waits
        # out what it knows here before it asks Redis.
        self._full_at: dict[int, int] = {}

    def _tolerance_ms(self, spare: int) -> int:
        return max(0, self._burst - 1 - spare) * self._interval_ms

    def _now_ms(self) -> int:
        return int(self._clock() * 1000)

    def ready_in(self, chat_id: int, spare: int = 0) -> float:
        """Seconds until the chat has a message to send (leaving ``spare``), as far as this
        process knows (another process may have sent to it meanwhile)."""
        full_at = self._full_at.get(chat_id)
        if full_at is None:
            return 0.0
        wait = full_at - self._tolerance_ms(spare) - self._now_ms()
        # Never more than a full burst's worth: after the wall clock was set back, a time
        # learned before would otherwise hold the chat for as long as the jump (Redis's copy
        # runs out on its own clock, in milliseconds from when it was written).
        return max(0, min(wait, self._burst * self._interval_ms)) / 1000

    async def take(self, chat_id: int, spare: int = 0) -> None:
        """Wait for the chat's turn and take it."""
        if self._interval_ms <= 0:
            return
        tolerance = self._tolerance_ms(spare)
        while True:
            if (wait := self.ready_in(chat_id, spare)) > 0:
                await self._sleep(wait)
            now = self._now_ms()
            allowed, value = await self._turn(
                keys=[self._key(chat_id)], args=[now, self._interval_ms, tolerance]
            )
            if len(self._full_at) >= self._kept:
                self._full_at = {chat: at for chat, at in self._full_at.items() if at > now}
            if int(allowed):
                self._full_at[chat_id] = int(value)
                return
            # Another process sent to the chat: wait out what Redis says.
            self._full_at[chat_id] = now + max(int(value), 50) + tolerance
