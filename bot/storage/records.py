"""JSON records in Redis: optimistic updates, and the per-user store of purchases.

Handlers (a button press) and workers (a poll) change the same record concurrently; each change
is a read-modify-write whose write is a compare-and-set (a script that writes only while the
record is still what was read), retried when another writer got there first, so no update is
lost and no lock is held across a network call. Two round trips, where WATCH/MULTI/EXEC took
three and a connection held across them.
"""

from __future__ import annotations

import contextlib
import time
from abc import abstractmethod
from collections.abc import Awaitable, Callable, Collection
from dataclasses import dataclass
from typing import Generic, Protocol, TypeVar

from pydantic import BaseModel, Field
from redis.asyncio import Redis

from bot.storage import keys

R = TypeVar("R", bound=BaseModel)

MAX_ATTEMPTS = 50
#: Records whose last write a repository remembers (to update them again without a read).
WRITES_KEPT = 1_000
#: Copies of one card the bot keeps editing; an older one keeps what it showed last.
CARD_COPIES = 5


class RecordMissing(LookupError):
    pass


@dataclass(frozen=True, slots=True)
class Stored:
    """A record as already read (by the schedule's turn that claimed its item): its JSON, or
    None when there was no record."""

    raw: str | bytes | None


def dump(record: BaseModel) -> str:
    """A record as stored: fields left at their defaults are not written (they come back as
    defaults), which keeps an open activation's record at about a third of its full size."""
    return record.model_dump_json(exclude_defaults=True)


async def load(redis: Redis, key: str, model: type[R]) -> R | None:
    raw = await redis.get(key)
    if raw is None:
        return None
    return model.model_validate_json(raw)


async def update(
    redis: Redis,
    key: str,
    model: type[R],
    change: Callable[[R], R | None],
    known: str | bytes | None = None,
    written: Callable[[str], None] | None = None,
) -> tuple[R, R]:
    """Apply ``change`` to the stored record atomically; returns (before, after).

    ``change`` gets a copy and returns the new record, or None to leave it as it is. It may run
    more than once (when another writer intervenes), so it must not have side effects.

    ``known``: the record as the caller last saw it (read with a claim, or written a moment
    ago), tried without reading it first: the write checks it is still what is stored, and a
    stale one costs nothing (the script hands back what is stored instead). An answer of "no
    change" is only trusted from a read. ``written`` is told each record written.
    """
    swap = redis.register_script(_SWAP)
    raw: str | bytes | None = known
    verified = known is None
    for _ in range(MAX_ATTEMPTS):
        if raw is None:
            raw, verified = await redis.get(key), True
            if raw is None:
                raise RecordMissing(key)
        before = model.model_validate_json(raw)
        after = change(before.model_copy(deep=True))
        if after is None or after == before:
            if verified:
                return before, before
            raw = None  # judged on what the caller saw: read it to be sure
            continue
        new = dump(after)
        outcome = await swap(keys=[key], args=[raw, new])
        if outcome[0]:
            if written is not None:
                written(new)
            return before, after
        if len(outcome) < 2:
            raise RecordMissing(key)
        raw, verified = outcome[1], True  # someone else wrote it meanwhile: go on from theirs
    raise RuntimeError(f"too much contention on {key}")


# KEYS[1]: the record; ARGV[1]: what it was when read, ARGV[2]: what it becomes. KEEPTTL:
# a record that runs out (an order) keeps its deadline through every change.
# Returns {1} when written, {0, the stored record} when it was not ARGV[1], {0} when none is.
_SWAP = """
local stored = redis.call('GET', KEYS[1])
if stored == ARGV[1] then
  redis.call('SET', KEYS[1], ARGV[2], 'KEEPTTL')
  return {1}
end
if stored then
  return {0, stored}
end
return {0}
"""


class UserRecord(BaseModel):
    """What every kept purchase has: the provider's id, its owner and when it was bought."""

    id: int
    user_id: int
    provider: str
    created_at: float
    #: The user's provider account it was bought with (see ``bot.storage.accounts``); None
    #: on records from before several accounts, which go by ``provider`` alone.
    account_id: str | None = None
    closed_at: float | None = None
    version: int = 0  # bumped on every change: a poll answer older than a change is dropped
    #: The newest message showing the record's card: pushes reply to it.
    card_message_id: int | None = None
    #: Every message the card was drawn in that the bot knows of, newest last (at most
    #: CARD_COPIES): a change is shown in all of them (a card reopened from a list and the
    #: original stay in step).
    card_copies: list[int] = Field(default_factory=list)

    def close(self, now: float) -> None:
        """Closed by the bot at ``now`` (the state is the caller's): a poll already under way
        must not reopen it, so the version moves too."""
        self.closed_at = now
        self.version += 1

    @property
    def ref(self) -> str:
        return make_ref(self.provider, self.id)

    @property
    def cards(self) -> list[int]:
        """The messages showing this record's card, oldest first (records kept before copies
        were counted know only their newest)."""
        known = list(self.card_copies)
        if self.card_message_id is not None and self.card_message_id not in known:
            known.append(self.card_message_id)
        return known

    def remember_card(self, message_id: int, *, newest: bool) -> None:
        """``message_id`` shows the card too; ``newest``: it is the one pushes reply to."""
        copies = [known for known in self.cards if known != message_id] + [message_id]
        if newest or self.card_message_id is None:
            self.card_message_id = message_id
        while len(copies) > CARD_COPIES:
            oldest = next(known for known in copies if known != self.card_message_id)
            copies.remove(oldest)
        self.card_copies = copies

    def forget_cards(self, gone: Collection[int]) -> None:
        """Telegram no longer lets these messages be edited (deleted, too old)."""
        self.card_copies = [known for known in self.cards if known not in gone]
        if self.card_message_id in gone:
            self.card_message_id = self.card_copies[-1] if self.card_copies else None

    def bought_with(self, account_id: str, provider: str) -> bool:
        """Whether this record belongs to that account (an old record: to its provider)."""
        if self.account_id:
            return self.account_id == account_id
        return self.provider == provider

    def ids(self) -> set[int]:
        """Every provider id this record has had (re-orders give some kinds new ones)."""
        return {self.id}

    @property
    @abstractmethod
    def is_open(self) -> bool:
        """Still followed by the worker; closed records may be forgotten after RETENTION."""


class _Expires(Protocol):
    @property
    def expires_at(self) -> float: ...


class Expiring:
    """For records with an ``expires_at`` deadline (activations, mailboxes)."""

    def seconds_left(self: _Expires, now: float | None = None) -> float:
        return max(0.0, self.expires_at - (time.time() if now is None else now))


def make_ref(provider: str, item_id: int) -> str:
    """How a record is named: ids are per provider, so the provider is part of the name."""
    return f"{provider}:{item_id}"


U = TypeVar("U", bound=UserRecord)

#: Closed records stay visible (cards, lists, "Buy again", "Full letter", extending a finished
#: rent) this long.
RETENTION = 30 * 24 * 3600

# KEYS: record, the user's index, the user's open set ("" when the kind keeps none).
# ARGV: record JSON, ref, score, 1 when the record is open.
_ADD = """
if not redis.call('SET', KEYS[1], ARGV[1], 'NX') then
    return 0
end
redis.call('ZADD', KEYS[2], ARGV[3], ARGV[2])
if KEYS[3] ~= '' and ARGV[4] == '1' then
    redis.call('SADD', KEYS[3], ARGV[2])
end
return 1
"""


class UserRecords(Generic[U]):
    """JSON records of one kind, each listed in its owner's index sorted by purchase time.

    * ``<kind>:<ref>`` — the record (ids are per provider, so the provider is in it);
    * ``user:<uid>:<index>`` — the user's refs by purchase time; a button names a record by id
      and is resolved only through the presser's own index, so another user's record cannot
      even be looked up;
    * ``user:<uid>:<open_index>`` — optionally, the set of the user's open refs.
    """

    model: type[U]
    kind: str
    index: str
    open_index: str | None = None

    def __init__(self, redis: Redis) -> None:
        self._redis = redis
        self._add = redis.register_script(_ADD)
        #: Told of every record that closes (after it is stored closed).
        self.on_close: Callable[[UserRecord], Awaitable[None]] | None = None
        # What this process last wrote of a few records: the next update starts from it.
        self._written: dict[str, str] = {}

    def key(self, ref: str) -> str:
        return keys.record(self.kind, ref)

    def user_index(self, user_id: int) -> str:
        return keys.user(user_id, self.index)

    def open_set(self, user_id: int) -> str:
        return keys.user(user_id, self.open_index) if self.open_index else ""

    async def add(self, record: U) -> bool:
        """Store a new record; False when it was already known (a reconciliation race).

        The record and its index entries appear together (a crash cannot leave a record its
        owner's lists miss). Adding also forgets the owner's closed records older than
        RETENTION, so what a user keeps in Redis is bounded by their recent activity.
        """
        owner = record.user_id
        created = await self._add(
            keys=[self.key(record.ref), self.user_index(owner), self.open_set(owner)],
            args=[dump(record), record.ref, record.created_at, int(record.is_open)],
        )
        if not created:
            return False
        await self.prune(record.user_id, record.created_at)
        return True

    async def get(self, ref: str, stored: Stored | None = None) -> U | None:
        """The record; ``stored``: as it was read a moment ago (no round trip then)."""
        if stored is None:
            return await load(self._redis, self.key(ref), self.model)
        return None if stored.raw is None else self.model.model_validate_json(stored.raw)

    async def get_many(self, refs: list[str]) -> list[U]:
        """The records behind ``refs`` that exist, in the same order."""
        if not refs:
            return []
        raws = await self._redis.mget([self.key(ref) for ref in refs])
        return [self.model.model_validate_json(raw) for raw in raws if raw is not None]

    async def refs(self, user_id: int, *, limit: int | None = None) -> list[str]:
        """The user's refs, newest first."""
        stop = -1 if limit is None else limit - 1
        found = await self._redis.zrevrange(self.user_index(user_id), 0, stop)
        return [text(ref) for ref in found]

    async def of_user(self, user_id: int, *, limit: int = 50) -> list[U]:
        """The user's newest records, newest first."""
        return await self.get_many(await self.refs(user_id, limit=limit))

    async def update(
        self, ref: str, change: Callable[[U], U | None], known: Stored | None = None
    ) -> tuple[U, U]:
        """See :func:`update`; a record that closes leaves its owner's open set.

        Tried first on ``known`` (as the caller read it), else on what this process last wrote
        of it: a poll's write and the delivery mark right after it need no read then.
        """
        last_written = self._written.pop(ref, None)  # replaced by this write, if any
        seen = known.raw if known is not None else last_written

        def remember(raw: str) -> None:
            if len(self._written) >= WRITES_KEPT:
                del self._written[next(iter(self._written))]  # the oldest
            self._written[ref] = raw

        before, after = await update(
            self._redis, self.key(ref), self.model, change, seen, remember
        )
        if before.is_open and not after.is_open:
            if self.open_index:
                await self._redis.srem(self.open_set(after.user_id), ref)
            if self.on_close is not None:
                await self.on_close(after)
        return before, after

    async def assign(self, ref: str, **values: object) -> U:
        """Set plain fields of the stored record (a card's message id, a reminder mark).

        An unknown field name fails loudly: pydantic refuses to set it.
        """

        def change(record: U) -> U:
            for name, value in values.items():
                setattr(record, name, value)
            return record

        _, after = await self.update(ref, change)
        return after

    async def remember_card(self, ref: str, message_id: int, *, newest: bool = True) -> U:
        """``message_id`` shows the record's card (see ``UserRecord.remember_card``)."""

        def change(record: U) -> U:
            record.remember_card(message_id, newest=newest)
            return record

        _, after = await self.update(ref, change)
        return after

    async def forget_cards(self, ref: str, gone: Collection[int]) -> None:
        """Stop editing these copies of the record's card (Telegram lost them)."""

        def change(record: U) -> U:
            record.forget_cards(gone)
            return record

        with contextlib.suppress(RecordMissing):
            await self.update(ref, change)

    async def prune(self, user_id: int, now: float | None = None) -> int:
        """Forget the user's closed records bought more than RETENTION before ``now``."""
        cutoff = (time.time() if now is None else now) - RETENTION
        index = self.user_index(user_id)
        old = [text(ref) for ref in await self._redis.zrangebyscore(index, "-inf", cutoff)]
        if not old:
            return 0
        raws = await self._redis.mget([self.key(ref) for ref in old])
        gone = [
            ref
            for ref, raw in zip(old, raws, strict=True)
            if raw is None or not self.model.model_validate_json(raw).is_open
        ]
        if gone:
            async with self._redis.pipeline(transaction=True) as pipe:
                pipe.delete(*[self.key(ref) for ref in gone])
                pipe.zrem(index, *gone)
                if self.open_index:
                    pipe.srem(self.open_set(user_id), *gone)
                await pipe.execute()
        return len(gone)


def text(value: object) -> str:
    """A Redis reply as text (the client may or may not decode)."""
    return value.decode() if isinstance(value, bytes) else str(value)
