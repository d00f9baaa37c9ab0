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
