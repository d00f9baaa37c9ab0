"""When each followed item (activation, rent, mail) is next polled, shared by all workers.

* ``due`` — sorted set: member -> the time it is next due
* ``leases`` — sorted set: member -> when the worker that claimed it gives up its claim
* ``clock`` — the schedule's time at the last call (to notice a jump, below)

``claim`` moves due members to ``leases`` atomically (a Lua script), so several worker
processes share the work and never poll one item at once; a member whose worker died comes
back when its lease runs out. A worker's ``turn`` gives back what it polled and claims what is
due in one script call (a few commands per batch, not per item), and learns when the next item
is due (to sleep until then) and which users' keys changed (to drop what it cached of them).
A handler that wants an item polled now (after "Another code") calls ``due_now``; if a worker
holds the item, its ``release`` keeps the earlier time.

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
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from itertools import chain
from time import time

from redis.asyncio import Redis
from redis.commands.core import AsyncScript
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError

from bot.storage import keys
from bot.storage.records import Stored

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

# Releases given back items, then claims what is due, all in one call (a worker's turn).
# KEYS[4], KEYS[5]: the user-change log and its sequence. ARGV[3]: lease seconds, ARGV[4]:
# limit, ARGV[5]: the change sequence the caller saw last (-1: none), ARGV[6]: claim what
# falls due within this many seconds too, ARGV[7]: how many (kind, record key prefix) pairs
# follow, then those pairs, then how many releases follow, then that many (member, due in
# seconds or '') pairs.
# Returns the jump, the seconds until the next due item not claimed ('' when none), the
# change sequence, how many changed users follow (-1: too many to list, drop everything),
# those users, then for each member claimed: the member, the seconds until it is due (0:
# now), and its record when its kind was given ('' not read, '-' no record). A record read
# here is a key the script was not given: fine on one Redis, not on a cluster.
_TURN = (
    _NOW
    + f"local KEPT = {keys.USER_CHANGES_KEPT}\n"
    + """
local prefixes = {}
local at = 8
for _ = 1, tonumber(ARGV[7]) do
  prefixes[ARGV[at]] = ARGV[at + 1]
  at = at + 2
end
local releases = tonumber(ARGV[at])
if releases > 0 then
  local gone, back = {}, {}
  for i = at + 1, at + 2 * releases, 2 do
    table.insert(gone, ARGV[i])
    if ARGV[i + 1] ~= '' then
      table.insert(back, now + tonumber(ARGV[i + 1]))
      table.insert(back, ARGV[i])
    end
  end
  redis.call('ZREM', KEYS[2], unpack(gone))
  if #back > 0 then
    redis.call('ZADD', KEYS[1], 'LT', unpack(back))
  end
end
local expired = redis.call('ZRANGEBYSCORE', KEYS[2], '-inf', now)
for _, member in ipairs(expired) do
  redis.call('ZREM', KEYS[2], member)
  redis.call('ZADD', KEYS[1], 'LT', now, member)
end
local claimed, claimed_in = {}, {}
local limit = tonumber(ARGV[4])
if limit > 0 then
  local found = redis.call(
    'ZRANGEBYSCORE', KEYS[1], '-inf', now + tonumber(ARGV[6]), 'WITHSCORES', 'LIMIT', 0, limit)
  local candidates, due = {}, {}
  for i = 1, #found, 2 do
    table.insert(candidates, found[i])
    table.insert(due, tonumber(found[i + 1]))
  end
  if #candidates > 0 then
    local held = redis.call('ZMSCORE', KEYS[2], unpack(candidates))
    local leased = {}
    local until_ = now + tonumber(ARGV[3])
    for i, member in ipairs(candidates) do
      if not held[i] then
        table.insert(claimed, member)
        table.insert(claimed_in, tostring(math.max(0, due[i] - now)))
        table.insert(leased, until_)
        table.insert(leased, member)
      end
    end
    if #claimed > 0 then
      redis.call('ZREM', KEYS[1], unpack(claimed))
      redis.call('ZADD', KEYS[2], unpack(leased))
    end
  end
end
local next_in = ''
local first = redis.call('ZRANGE', KEYS[1], 0, 0, 'WITHSCORES')
if #first > 0 then
  next_in = tostring(math.max(0, tonumber(first[2]) - now))
end
local seq = tonumber(redis.call('GET', KEYS[5]) or '0')
local since = tonumber(ARGV[5])
local out = {tostring(jump), next_in, tostring(seq)}
if since == seq then
  table.insert(out, '0')
elseif since > seq then
  table.insert(out, '-1')  -- the log went back (Redis lost data): trust nothing cached
else
  -- A user is kept once, at its last change, so a gap before the oldest entry is only a
  -- loss when the log is full (older users were dropped to keep it at its size).
  local oldest = redis.call('ZRANGE', KEYS[4], 0, 0, 'WITHSCORES')
  local full = redis.call('ZCARD', KEYS[4]) >= KEPT
  if since < 0 or #oldest == 0 or (full and tonumber(oldest[2]) > since + 1) then
    table.insert(out, '-1')
  else
    local changed = redis.call('ZRANGEBYSCORE', KEYS[4], '(' .. since, '+inf')
    table.insert(out, tostring(#changed))
    for _, user in ipairs(changed) do
      table.insert(out, user)
    end
  end
end
for i, member in ipairs(claimed) do
  table.insert(out, member)
  table.insert(out, claimed_in[i])
  local kind, ref = string.match(member, '^([^:]+):(.*)$')
  local prefix = kind and prefixes[kind]
  if prefix then
    table.insert(out, redis.call('GET', prefix .. ref) or '-')
  else
    table.insert(out, '')
  end
end
return out
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


#: At most this many items given back in one script call (Lua's stack bounds unpack).
RELEASE_CHUNK = 1_000


@dataclass(frozen=True, slots=True)
class Turn:
    """What one worker turn got from the schedule."""

    claimed: list[str]
    #: Seconds until each claimed item is due (0: it is due now), by member.
    due_in: dict[str, float]
    #: The records of the claimed items whose kind was asked for, read in the same call.
    records: dict[str, Stored]
    #: Seconds until the next item not claimed is due, on the schedule's clock (None:
    #: nothing waits).
    next_in: float | None
    #: The user-change sequence now, and the users changed since the caller's (None: too
    #: many to list, or the caller saw none yet: forget every user).
    changes_seq: int
    changed_users: list[int] | None


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
        #: Set whenever an item is added here (a worker in this process wakes for it).
        self.added = asyncio.Event()
        self._turn = redis.register_script(_TURN)
        self._add = redis.register_script(_ADD)
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
        self.added.set()

    async def due_now(self, member: str) -> None:
        await self.add(member)

    async def claim(self, limit: int, lease: float) -> list[str]:
        return (await self.turn(limit, lease)).claimed

    async def turn(
        self,
        limit: int,
        lease: float,
        releases: Sequence[tuple[str, float | None]] = (),
        since: int = -1,
        ahead: float = 0.0,
        records: Mapping[str, str] | None = None,
    ) -> Turn:
        """Give back ``releases`` (member, due again at, or None to stop following it), then
        claim up to ``limit`` members due now or within ``ahead`` seconds, in one script call;
        see :class:`Turn`. ``records``: for members of these kinds (``kind:ref``), the record
        at this prefix + ref is read with the claim (the poll then needs no round trip).

        Retried on a dropped connection when it gives items back: an item not given back
        waits out its lease.
        """
        releases = list(releases)
        while len(releases) > RELEASE_CHUNK:
            await self.turn(0, lease, releases[:RELEASE_CHUNK], since)
            releases = releases[RELEASE_CHUNK:]
        wanted = dict(records or {})
        prefixes = [len(wanted), *chain(*wanted.items())]
        pairs: list[str] = []
        for member, next_at in releases:
            pairs += [member, "" if next_at is None else self._in(next_at)]
        for attempt in range(3):
            try:
                result = await self._turn(
                    keys=[DUE, LEASES, CLOCK, keys.USER_CHANGES, keys.USER_CHANGES_SEQ],
                    args=self._args(lease, limit, since, ahead, *prefixes, len(releases), *pairs),
                )
                break
            except (RedisConnectionError, RedisTimeoutError):
                if attempt == 2 or not releases:
                    raise
                await asyncio.sleep(0.05 * (attempt + 1))
        self._noticed(result[0])
        values = [_text(value) for value in result[1:]]
        next_in = float(values[0]) if values[0] else None
        count = int(values[2])
        changed = None if count < 0 else [int(user) for user in values[3 : 3 + count]]
        rest = values[3 + max(count, 0) :]
        claimed = rest[0::3]
        due_in = {member: float(when) for member, when in zip(claimed, rest[1::3], strict=True)}
        read = {
            member: Stored(None if raw == "-" else raw)
            for member, raw in zip(claimed, rest[2::3], strict=True)
            if raw
        }
        return Turn(claimed, due_in, read, next_in, int(values[1]), changed)

    async def release(self, member: str, next_at: float | None) -> None:
        """Give the item back, due again at ``next_at``, or no longer followed (None)."""
        await self.turn(0, 0, [(member, next_at)])

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
