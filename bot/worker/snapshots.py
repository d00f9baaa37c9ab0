"""A user's open activations from one getActiveActivations, shared by the polls of a moment.

A user with several open activations (with one account) is served from one snapshot of their
active list instead of one getStatus each. The snapshot is cached in Redis for a fraction of
the poll interval (every worker process may use it) and parsed once per process.

Only one of the user's waiting items, the *leader* (the first waiting one by id), keeps the
user's pace; the others follow at a fraction of it. Each new snapshot is compared with the
last one: an item whose entry changed (a code came), that appeared or that left the list is
made due at once, and so is a new leader. So a follower learns of its SMS as soon as the
leader's poll does, at no request and no poll of its own, and a user with ten numbers costs
about one poll per interval, not ten. Without a last snapshot to compare with (a start, or a
gap longer than the Redis copy lasts), every listed item is made due.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from bot.accounts import UserAccount
from bot.provider.models import ActiveActivation
from bot.services.activation_rules import member
from bot.storage import keys
from bot.storage.records import make_ref
from bot.storage.schedule import Schedule
from bot.worker.context import WorkerContext

#: Snapshots a process keeps parsed before it drops stale ones (the bound grows with need).
CACHE_BOUND = 1_000
#: What one entry looks like to a follower: its status and codes.
Signature = tuple[int | None, tuple[str, ...]]


class FetchedElsewhere(Exception):
    """Another worker process is fetching this user's snapshot."""


@dataclass(frozen=True, slots=True)
class Snapshot:
    #: When the list was fetched (the bot's clock).
    at: float
    items: dict[int, ActiveActivation]
    #: The waiting item that keeps the user's pace (None: none is waiting).
    leader: int | None

    @classmethod
    def of(cls, at: float, listing: Iterable[ActiveActivation]) -> Snapshot:
        items = {item.activation_id: item for item in listing}
        waiting = [activation_id for activation_id, item in items.items() if _waiting(item)]
        return cls(at, items, min(waiting, default=None))

    def signatures(self) -> dict[int, Signature]:
        return {activation_id: _signature(item) for activation_id, item in self.items.items()}


def _entry(stored: Any) -> ActiveActivation:
    """A stored entry: written by this code from parsed entries, so not validated again (a
    whole entry, as versions before kept them, is)."""
    if isinstance(stored, dict):
        return ActiveActivation.model_validate(stored)
    activation_id, status, codes = stored
    return ActiveActivation.model_construct(
        activation_id=activation_id, status=status, codes=codes
    )


def _waiting(item: ActiveActivation) -> bool:
    return not item.codes or item.status == 3


def _signature(item: ActiveActivation) -> Signature:
    return item.status, tuple(item.codes)


@dataclass(frozen=True, slots=True)
class _Seen:
    at: float
    signatures: dict[int, Signature]
    leader: int | None


T = TypeVar("T", Snapshot, _Seen)


class Recent(Generic[T]):
    """Values by key, bounded: when full, those older than ``useful()`` seconds are dropped
    (and the bound doubles when most are still of use, so dropping stays cheap)."""

    def __init__(self, clock: Callable[[], float], useful: Callable[[], float]) -> None:
        self.values: dict[str, T] = {}
        self._clock = clock
        self._useful = useful
        self._bound = CACHE_BOUND

    def get(self, key: str) -> T | None:
        return self.values.get(key)

    def put(self, key: str, value: T) -> T:
        if len(self.values) >= self._bound:
            horizon = self._clock() - self._useful()
            self.values = {k: v for k, v in self.values.items() if v.at > horizon}
            self._bound = max(CACHE_BOUND, 2 * len(self.values))
        self.values[key] = value
        return value


class Snapshots:
    def __init__(self, ctx: WorkerContext, schedule: Schedule) -> None:
        self.ctx = ctx
        self.schedule = schedule
        # Parsed snapshots by Redis key: every sibling poll reuses one parse (for seconds).
        self._parsed: Recent[Snapshot] = Recent(ctx.clock, self.fresh_for)
        # What each user's last snapshot listed, to tell what changed since.
        self._seen: Recent[_Seen] = Recent(ctx.clock, self._seen_for)
        self._inflight: dict[str, asyncio.Future[Snapshot]] = {}

    def key(self, account: UserAccount) -> str:
        return keys.snapshot(account.provider, account.user_id, account.account_id)

    def fresh_for(self) -> float:
        # A user's items come due together (pacing.py): a snapshot serves the polls of one
        # moment, not the next round's, which must see what arrived since.
        return max(0.2, min(1.0, self.ctx.settings.poll_interval * 0.2))

    def lists_many(self, account: UserAccount, many: int) -> bool:
        """A snapshot is being fetched for the user, or their last one listed ``many`` items
        or more: no need to count their open items (a snapshot costs what getStatus does)."""
        key = self.key(account)
        known = self._parsed.get(key)
        return key in self._inflight or (known is not None and len(known.items) >= many)

    def fresh(self, account: UserAccount) -> Snapshot | None:
        """The user's snapshot if this process parsed it recently: no Redis needed."""
        known = self._parsed.get(self.key(account))
        # A snapshot from the clock's future (it was stepped back) is stale, not fresh.
        if known is not None and 0 <= self.ctx.clock() - known.at < self.fresh_for():
            return known
        return None

    async def get(self, account: UserAccount, polling: int) -> Snapshot:
        """The user's active list, fetched at most once per moment their items are due
        (``polling``: the item whose poll asks, which need not be woken).

        Sibling polls in this process wait for the fetch in flight; when another process is
        fetching it, FetchedElsewhere tells the poll to come back in a moment.
        """
        key = self.key(account)
        inflight = self._inflight.get(key)
        if inflight is not None:
            return await asyncio.shield(inflight)
        future: asyncio.Future[Snapshot] = asyncio.get_running_loop().create_future()
        self._inflight[key] = future
        try:
            result = await self._load(account, key, polling)
        except BaseException as error:
            future.set_exception(error)
            raise
        else:
            future.set_result(result)
            return result
        finally:
            del self._inflight[key]
            if future.done() and not future.cancelled():
                future.exception()  # retrieved: a failure is reported by the fetching poll

    async def _load(self, account: UserAccount, key: str, polling: int) -> Snapshot:
        ctx = self.ctx
        fresh_for = self.fresh_for()
        lock = f"{key}:lock"
        # The stored copy and the right to fetch, in one round trip: a fresh copy (another
        # process fetched it a moment ago) leaves the lock to run out unused.
        async with ctx.redis.pipeline(transaction=False) as pipe:
            pipe.get(key)
            pipe.set(lock, 1, nx=True, px=int(fresh_for * 1000))
            raw, locked = await pipe.execute()
        stored: dict[str, Any] | None = None if raw is None else json.loads(raw)
        if stored is not None and 0 <= ctx.clock() - float(stored["at"]) < fresh_for:
            return self._parse(key, stored)
        if not locked:
            raise FetchedElsewhere  # another process is fetching it right now
        fetched_at = ctx.clock()
        try:
            listing = await account.client.get_active_activations()
        except BaseException:
            await ctx.redis.delete(lock)
            raise
        # Only what a poll reads of an entry (status_from_listing) and what tells a change.
        items = [[item.activation_id, item.status, item.codes] for item in listing]
        # Kept a few intervals: the next fetch, in any process, compares with it.
        lasts = max(10, int(ctx.settings.poll_interval * 3))
        async with ctx.redis.pipeline(transaction=False) as pipe:
            pipe.set(key, json.dumps({"at": fetched_at, "items": items}), ex=lasts)
            pipe.delete(lock)
            await pipe.execute()
        snapshot = self._parsed.put(key, Snapshot.of(fetched_at, listing))
        await self._wake_changed(account, key, stored, snapshot, polling)
        return snapshot

    async def _wake_changed(
        self,
        account: UserAccount,
        key: str,
        stored: dict[str, Any] | None,
        after: Snapshot,
        polling: int,
    ) -> None:
        """Make due every item whose entry changed since the user's last snapshot (all of
        them when there is none to compare with), and a new leader."""
        seen = self._seen.get(key)
        if stored is not None and (seen is None or float(stored["at"]) > seen.at):
            # Another process fetched the last one.
            last = self._parse_stored(stored)
            seen = _Seen(last.at, last.signatures(), last.leader)
        now = _Seen(after.at, after.signatures(), after.leader)
        if seen is None or seen.at >= after.at:
            woken = set(now.signatures)  # nothing (sound) to compare with
        else:
            before = seen.signatures
            listed = before.keys() | now.signatures.keys()
            woken = {i for i in listed if before.get(i) != now.signatures.get(i)}
            if after.leader is not None and after.leader != seen.leader:
                woken.add(after.leader)
        woken.discard(polling)
        for activation_id in sorted(woken):
            await self.schedule.due_now(member(make_ref(account.provider, activation_id)))
        # Kept once every wake went out: a wake lost to a failure is sent with the next one.
        self._seen.put(key, now)

    def _parse(self, key: str, data: dict[str, Any]) -> Snapshot:
        at = float(data["at"])
        cached = self._parsed.get(key)
        if cached is not None and cached.at == at:
            return cached
        return self._parsed.put(key, self._parse_stored(data))

    @staticmethod
    def _parse_stored(data: dict[str, Any]) -> Snapshot:
        return Snapshot.of(float(data["at"]), [_entry(item) for item in data["items"]])

    def _seen_for(self) -> float:
        return max(30.0, self.ctx.settings.poll_interval * 12)
