"""Rented numbers the bot follows, as JSON records in Redis.

Stored as :class:`bot.storage.records.UserRecords` describes: ``rent:<provider>:<id>`` and
the index ``user:<uid>:rents`` (by rent start).

Extending a finished rent re-orders it under a new id: the record moves to the new ref and
keeps the old ids, so buttons sent before the move still find it.
"""

from __future__ import annotations

import time
from decimal import Decimal
from enum import StrEnum

from pydantic import BaseModel, Field

from bot.storage import records


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


class Rent(records.UserRecord):
    service: str
    phone: str
    country: int | None = None
    operator: str | None = None
    hours: int | None = None  # hours paid for so far (unknown for rents made elsewhere)
    cost: Decimal | None = None
    ends_at: float | None = None  # unknown for rents made elsewhere until extended
    term_started_at: float  # when the current end time was set (purchase or extension)
    utc_offset: float = 0.0  # the provider's clock minus UTC, in seconds
    state: RentState = RentState.ACTIVE
    sms: list[RentSms] = Field(default_factory=list)
    external: bool = False  # rented outside the bot; found in getRentList
    cancel_refused: bool = False  # the provider said CANT_CANCEL: hide the button
    reminded_for: float | None = None  # the end time the last reminder was about
    shown: str = ""  # what the card showed when the worker last drew it
    previous_ids: list[int] = Field(default_factory=list)  # ids before re-orders

    def ids(self) -> set[int]:
        return {self.id, *self.previous_ids}

    @property
    def is_open(self) -> bool:
        return self.state.is_open

    def seconds_left(self, now: float | None = None) -> float | None:
        if self.ends_at is None:
            return None
        return max(0.0, self.ends_at - (time.time() if now is None else now))

    def known_keys(self) -> set[SmsKey]:
        return {sms.key for sms in self.sms}


class RentRepo(records.UserRecords[Rent]):
    model = Rent
    kind = "rent"
    index = "rents"

    async def find(self, user_id: int, rent_id: int) -> Rent | None:
        """The user's own rent with this id, or the one it was re-ordered into; else None."""
        refs = await self.refs(user_id)
        suffix = f":{rent_id}"
        for ref in refs:
            if ref.endswith(suffix):
                found = await self.get(ref)
                if found is not None and found.user_id == user_id:
                    return found
        for found in await self.get_many(refs):
            if found.user_id == user_id and rent_id in found.previous_ids:
                return found
        return None

    async def move(self, old_ref: str, rent: Rent) -> None:
        """Store ``rent`` under its (new) ref in place of ``old_ref``, in one transaction."""
        index = self.user_index(rent.user_id)
        async with self._redis.pipeline(transaction=True) as pipe:
            pipe.set(self.key(rent.ref), records.dump(rent))
            pipe.zadd(index, {rent.ref: rent.created_at})
            pipe.zrem(index, old_ref)
            pipe.delete(self.key(old_ref))
            await pipe.execute()

    async def open_of_user(self, user_id: int) -> list[Rent]:
        return [rent for rent in await self.of_user(user_id, limit=200) if rent.is_open]
