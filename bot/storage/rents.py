"""Rented numbers the bot follows, as JSON records in Redis.

* ``rent:<provider>:<id>`` — the record
* ``user:<uid>:rents`` — sorted set of the user's refs by rent start; a button names a rent by
  id and is resolved only through the presser's own set.

Extending a finished rent re-orders it under a new id: the record moves to the new ref and
keeps the old ids, so buttons sent before the move still find it.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from decimal import Decimal
from enum import StrEnum

from pydantic import BaseModel, Field
from redis.asyncio import Redis

from bot.storage import records
from bot.storage.users import PREFIX, user_key

#: Closed rents stay listed (cards, extension of a finished rent) this long.
RETENTION = 30 * 24 * 3600


class RentState(StrEnum):
    ACTIVE = "active"
    FINISHED = "finished"  # ended by the user or at its end time
    CANCELLED = "cancelled"  # cancelled inside the cancel window, refunded
    REVOKED = "revoked"  # taken back by the provider, refunded

    @property
    def is_open(self) -> bool:
        return self is RentState.ACTIVE


SmsKey = tuple[str, str, str]


class RentSms(BaseModel):
    phone_from: str
    text: str
    date: str  # the provider's own stamp, "YYYY-MM-DD HH:MM:SS" in its zone ("" if none)
    at: float  # epoch seconds, corrected for the provider's zone
    service: str = ""
    delivered: bool = False

    @property
    def key(self) -> SmsKey:
        """What makes two reports (a poll, a webhook) the same SMS."""
        return (self.date, self.phone_from, self.text)


class RentOptions(BaseModel):
    """What the user chose; kept in the purchase order until it is carried out."""

    service: str
    country: int
    hours: int
    operator: str | None = None
    price: Decimal | None = None


class Rent(BaseModel):
    id: int
    user_id: int
    provider: str
    service: str
    phone: str
    country: int | None = None
    operator: str | None = None
    hours: int | None = None  # hours paid for so far (unknown for rents made elsewhere)
    cost: Decimal | None = None
    created_at: float
    ends_at: float | None = None  # unknown for rents made elsewhere until extended
    term_started_at: float  # when the current end time was set (purchase or extension)
    utc_offset: float = 0.0  # the provider's clock minus UTC, in seconds
    state: RentState = RentState.ACTIVE
    sms: list[RentSms] = Field(default_factory=list)
    card_message_id: int | None = None
    external: bool = False  # rented outside the bot; found in getRentList
    closed_at: float | None = None
    cancel_refused: bool = False  # the provider said CANT_CANCEL: hide the button
    reminded_for: float | None = None  # the end time the last reminder was about
    shown: str = ""  # what the card showed when the worker last drew it
    previous_ids: list[int] = Field(default_factory=list)  # ids before re-orders
    version: int = 0

    @property
    def ref(self) -> str:
        return make_ref(self.provider, self.id)

    @property
    def is_open(self) -> bool:
        return self.state.is_open

    def seconds_left(self, now: float | None = None) -> float | None:
        if self.ends_at is None:
            return None
        return max(0.0, self.ends_at - (time.time() if now is None else now))

    def known_keys(self) -> set[SmsKey]:
        return {sms.key for sms in self.sms}


def rent_key(ref: str) -> str:
    return f"{PREFIX}:rent:{ref}"


def make_ref(provider: str, rent_id: int) -> str:
    return f"{provider}:{rent_id}"


class RentRepo:
    def __init__(self, redis: Redis) -> None:
        self._redis = redis

    def _index(self, user_id: int) -> str:
        return user_key(user_id, "rents")

    async def add(self, rent: Rent) -> bool:
        """Store a new rent; False when it was already known (a reconciliation race)."""
        created = await self._redis.set(rent_key(rent.ref), rent.model_dump_json(), nx=True)
        if not created:
            return False
        await self._redis.zadd(self._index(rent.user_id), {rent.ref: rent.created_at})
        return True

    async def get(self, ref: str) -> Rent | None:
        return await records.load(self._redis, rent_key(ref), Rent)

    async def find(self, user_id: int, rent_id: int) -> Rent | None:
        """The user's own rent with this id, or the one it was re-ordered into; else None."""
        refs = [_text(ref) for ref in await self._redis.zrevrange(self._index(user_id), 0, -1)]
        suffix = f":{rent_id}"
        for ref in refs:
            if ref.endswith(suffix):
                found = await self.get(ref)
                if found is not None and found.user_id == user_id:
                    return found
        for ref in refs:
            found = await self.get(ref)
            if found is not None and found.user_id == user_id and rent_id in found.previous_ids:
                return found
        return None

    async def update(self, ref: str, change: Callable[[Rent], Rent | None]) -> tuple[Rent, Rent]:
        return await records.update(self._redis, rent_key(ref), Rent, change)

    async def move(self, old_ref: str, rent: Rent) -> None:
        """Store ``rent`` under its (new) ref in place of ``old_ref``, in one transaction."""
        index = self._index(rent.user_id)
        async with self._redis.pipeline(transaction=True) as pipe:
            pipe.set(rent_key(rent.ref), rent.model_dump_json())
            pipe.zadd(index, {rent.ref: rent.created_at})
            pipe.zrem(index, old_ref)
            pipe.delete(rent_key(old_ref))
            await pipe.execute()

    async def of_user(self, user_id: int, *, limit: int = 50) -> list[Rent]:
        refs = await self._redis.zrevrange(self._index(user_id), 0, limit - 1)
        found = []
        for ref in map(_text, refs):
            rent = await self.get(ref)
            if rent is not None:
                found.append(rent)
        return found

    async def open_of_user(self, user_id: int) -> list[Rent]:
        return [rent for rent in await self.of_user(user_id, limit=200) if rent.is_open]

    async def prune(self, user_id: int, now: float | None = None) -> int:
        """Forget the user's closed rents older than the retention period."""
        cutoff = (time.time() if now is None else now) - RETENTION
        old = await self._redis.zrangebyscore(self._index(user_id), "-inf", cutoff)
        removed = 0
        for ref in map(_text, old):
            rent = await self.get(ref)
            if rent is None or not rent.is_open:
                await self._redis.delete(rent_key(ref))
                await self._redis.zrem(self._index(user_id), ref)
                removed += 1
        return removed


def _text(value: object) -> str:
    return value.decode() if isinstance(value, bytes) else str(value)
