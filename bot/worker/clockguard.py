"""Telling a jump of the wall clock from time passing, so that no decision rests on one.

Records keep wall-clock times (bought at, expires at, ends at), and the worker's irreversible
decisions compare them with the wall clock: auto-cancel shortly before expiry, closing what is
long past its end, giving up on an unknown order. A wall clock stepped forward by hours (NTP
correcting a wrong clock, a VM resumed, an operator's typo) would make every waiting number
look expired at once, and the worker would cancel them all.

So the worker reads the wall clock through a guard that also reads a steady clock (monotonic:
it only counts seconds passing, whatever the wall clock is set to). Between two readings the
wall clock may run ahead of (or behind) the steady one by at most ``JUMP_TOLERANCE``; a larger
difference is a jump. It is logged, and instead of acting on it the worker re-bases: a record
written before the jump is judged on the clock it was written with, i.e. against "now" less
the jump, so its deadlines keep their real distance. A record written after the jump needs
nothing. Whether a record predates a jump is told by the time it was made (``since``): the
jump's ``landed`` is the earliest moment the new clock can have shown, so a record of the old
clock is below it after a forward jump, and after a backward jump a record the split cannot
place is taken as new, which makes its decisions later, never earlier (a late auto-cancel
costs nothing: the provider refunds at expiry).

Jumps are kept in Redis (``keys.CLOCK_JUMPS``): every worker on the host sees the same jump
and records it once (a second report of it is recognised), and a worker started later, or
after a restart, still judges old records on their own clock. They are kept as long as the
longest-lived record (a rent of 56 days), then dropped.

A jump while no worker ran is seen too, within one boot of the machine: the steady clock
counts from the boot, so each worker leaves its last reading in Redis (``keys.clock_seen``,
under the boot's id) and a worker starting later compares its first reading with it.

Tests give the guard the emulator's clock as the steady one: a leap of that clock is time
passing; a test that jumps only the bot's wall clock makes a jump.
"""

from __future__ import annotations

import logging
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from redis.asyncio import Redis

from bot.storage import keys

log = logging.getLogger(__name__)

#: How far the wall clock may drift from the steady clock between two readings (NTP slews
#: far slower; a step of this size or less moves a deadline by less than a poll or two).
JUMP_TOLERANCE = 30.0
#: How long a jump is remembered: records made before it may live this long (rents).
KEEP_FOR = 60 * 86400.0
#: How often the guard reads the jumps other processes recorded (and leaves its reading).
SYNC_EVERY = 5.0
#: How long a worker's last reading is kept for a later one to compare with.
SEEN_FOR = 7 * 86400
BOOT_ID = Path("/proc/sys/kernel/random/boot_id")


def boot_id() -> str | None:
    """This boot of the machine (the steady clock counts from it), where Linux says."""
    try:
        return BOOT_ID.read_text().strip() or None
    except OSError:
        return None


# KEYS: jumps. ARGV: landed, size, tolerance, forget before. The same jump reported by
# another process (landed and size within the tolerance) is recorded once.
_RECORD = """
local landed, size, tol = tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', '(' .. ARGV[4])
local near = redis.call('ZRANGEBYSCORE', KEYS[1], landed - tol, landed + tol)
for _, member in ipairs(near) do
  local known = tonumber(string.match(member, '^[^@]+'))
  if known and math.abs(known - size) <= tol then
    return 0
  end
end
redis.call('ZADD', KEYS[1], landed, ARGV[2] .. '@' .. ARGV[1])
return 1
"""


@dataclass(frozen=True, slots=True)
class Jump:
    landed: float  # the earliest the new clock can have shown when it jumped
    size: float  # seconds; negative for a step back


class ClockGuard:
    def __init__(
        self,
        wall: Callable[[], float] = time.time,
        steady: Callable[[], float] = time.monotonic,
        *,
        tolerance: float = JUMP_TOLERANCE,
        boot: str | None = None,
    ) -> None:
        self.wall = wall
        self._steady = steady
        # Readings of another process compare only on the same steady clock: the system's
        # monotonic clock in the same boot (a test's clock has no boot unless it says so).
        self._boot = boot if boot is not None or steady is not time.monotonic else boot_id()
        self.tolerance = tolerance
        self._last: tuple[float, float] | None = None
        self._jumps: list[Jump] = []
        self._unsaved: list[Jump] = []
        self._synced_at: float | None = None

    @property
    def jumps(self) -> tuple[Jump, ...]:
        return tuple(self._jumps)

    def now(self) -> float:
        """The wall clock, checked against the steady clock since the last reading."""
        wall, steady = self.wall(), self._steady()
        if self._last is not None:
            last_wall, last_steady = self._last
            drift = (wall - last_wall) - (steady - last_steady)
            if abs(drift) > self.tolerance:
                jump = Jump(landed=last_wall + drift, size=drift)
                self._jumps.append(jump)
                self._unsaved.append(jump)
                log.warning(
                    "the wall clock jumped %+.0f s (the steady clock disagrees): deadlines "
                    "of earlier items are re-based, nothing expires or is cancelled because "
                    "of it",
                    drift,
                )
        self._last = (wall, steady)
        return wall

    def shift(self, since: float) -> float:
        """How far the wall clock has jumped since a moment it showed as ``since``."""
        return sum(jump.size for jump in self._jumps if since < jump.landed)

    def now_for(self, since: float) -> float:
        """Now, on the clock that showed ``since``: for every decision about that record."""
        now = self.now()
        return now - self.shift(since)

    async def sync(self, redis: Redis) -> None:
        """Record the jumps seen here; learn those other processes (or earlier runs) saw."""
        if self._last is None and self._boot is not None:
            # The first reading of this process is compared with the last one any worker
            # took in this boot: a jump while none ran is a jump too.
            seen = await redis.hmget(keys.clock_seen(self._boot), ["wall", "steady"])
            if seen[0] is not None and seen[1] is not None:
                self._last = (float(seen[0]), float(seen[1]))
        self.now()
        steady = self._steady()
        fresh = self._synced_at is not None and steady - self._synced_at < SYNC_EVERY
        if fresh and not self._unsaved:
            return
        while self._unsaved:
            jump = self._unsaved[0]
            args = [repr(jump.landed), repr(jump.size), repr(self.tolerance)]
            await redis.eval(_RECORD, 1, keys.CLOCK_JUMPS, *args, repr(self.wall() - KEEP_FOR))
            self._unsaved.pop(0)
        entries = await redis.zrange(keys.CLOCK_JUMPS, 0, -1, withscores=True)
        known = [
            Jump(landed=float(entry[1]), size=float(_text(entry[0]).partition("@")[0]))
            for entry in entries
        ]
        self._jumps = known
        self._synced_at = steady
        if self._boot is not None and self._last is not None:
            key = keys.clock_seen(self._boot)
            wall, still = self._last
            await redis.hset(key, mapping={"wall": repr(wall), "steady": repr(still)})
            await redis.expire(key, SEEN_FOR)


def _text(value: object) -> str:
    return value.decode() if isinstance(value, bytes) else str(value)


class Burst:
    """A bound on how many irreversible actions happen within a window of steady time."""

    def __init__(self, steady: Callable[[], float], limit: int, window: float) -> None:
        self._steady = steady
        self._limit = limit
        self._window = window
        self._recent: deque[float] = deque()
        self._warned = False

    def allow(self) -> bool:
        now = self._steady()
        while self._recent and now - self._recent[0] >= self._window:
            self._recent.popleft()
        if len(self._recent) >= self._limit:
            if not self._warned:
                log.warning(
                    "more than %s auto-cancels within %.0f s: holding the rest back (a clock "
                    "jump looks like this)",
                    self._limit,
                    self._window,
                )
            self._warned = True
            return False
        self._warned = False
        self._recent.append(now)
        return True
