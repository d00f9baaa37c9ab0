"""The paid calls behind rents: renting a number, and extending (or re-ordering) one.

Each supplies the call and its look-up to the checkout (``bot.services.checkout``), which owns
locking, settling and "outcome unknown".
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal

from pydantic import BaseModel

from bot.accounts import UserAccount
from bot.provider import errors as pe
from bot.provider.models import RentListEntry, RentNumber
from bot.services.checkout import Purchase
from bot.services.ledger import Ledger
from bot.services.rent_rules import HOUR, member, new_rent, provider_epoch
from bot.storage.rents import Rent, RentOptions, RentRepo
from bot.storage.rents import RentState as State

Adopt = Callable[[UserAccount, RentListEntry, RentOptions, float], Awaitable[Rent]]


class ExtendOrder(BaseModel):
    """What an extension confirmation buys: the rent, the hours and the price shown."""

    ref: str
    hours: int
    price: Decimal | None = None


@dataclass(frozen=True, slots=True)
class RentLedger(Ledger[Rent]):
    """Rents also run longer, or move to a new id when the number is ordered again."""

    records: RentRepo

    async def prolong(self, rent: Rent, number: RentNumber, params: ExtendOrder) -> Rent:
        """The same id runs longer (or re-opens, on providers that do that)."""
        now = self.clock()

        def change(record: Rent) -> Rent:
            record.ends_at = provider_epoch(number.end_date, record.utc_offset)
            record.term_started_at = now
            record.hours = (record.hours or 0) + params.hours
            if record.cost is not None and params.price is not None:
                record.cost += params.price
            if not record.is_open:  # a provider that re-opens under the same id
                record.state = State.ACTIVE
                record.closed_at = None
            record.version += 1
            return record

        _, after = await self.records.update(rent.ref, change)
        await self.schedule.due_now(member(after.ref))
        return after

    async def renew(
        self, rent: Rent, new_id: int, end_date: datetime | None, params: ExtendOrder
    ) -> Rent:
        """The same number under a new id: the record, its index entry and schedule move."""
        now = self.clock()
        current = await self.records.get(rent.ref) or rent
        ends_at = (
            provider_epoch(end_date, current.utc_offset)
            if end_date is not None
            else now + params.hours * HOUR
        )
        renewed = current.model_copy(
            update={
                "id": new_id,
                "state": State.ACTIVE,
                "created_at": now,
                "ends_at": ends_at,
                "term_started_at": now,
                "hours": params.hours,
                "cost": params.price,
                "closed_at": None,
                "cancel_refused": False,
                "reminded_for": None,
                "shown": "",
                "previous_ids": [*current.previous_ids, current.id],
                "version": current.version + 1,
            }
        )
        await self.records.move(rent.ref, renewed)
        await self.renamed(rent.ref, renewed.ref)
        return renewed


@dataclass
class RentPurchase(Purchase[Rent]):
    """getRentNumber; after a lost answer, the newest rent in getRentList the bot lacks."""

    _ledger: RentLedger
    _account: UserAccount
    _options: RentOptions
    _adopt: Adopt
    _webhook_url: str | None
    _known: set[int] = field(default_factory=set, init=False)

    def __post_init__(self) -> None:
        self._started = self._ledger.clock()

    async def pay(self) -> Rent:
        account, options = self._account, self._options
        self._known = await self._ledger.known_ids(account.user_id)
        number = await account.client.get_rent_number(
            options.service,
            options.hours,
            country=options.country,
            operator=options.operator,
            webhook_url=self._webhook_url,
        )
        rent = new_rent(account, options, number, self._ledger.clock())
        await self._ledger.follow(rent)
        return rent

    async def resume(self, since: float) -> None:
        self._known = await self._ledger.known_ids(self._account.user_id, before=since)
        self._started = since

    async def price(self) -> Decimal | None:
        options = self._options
        try:
            offer = await self._account.client.get_rent_services_and_countries(
                options.hours, country=options.country, operator=options.operator
            )
        except pe.ProviderError:
            return None
        choice = offer.services.get(options.service)
        return choice.cost if choice is not None else None

    async def look_up(self) -> Rent | None:
        listed = await self._account.client.get_rent_list()
        fresh = sorted((e for e in listed if e.id not in self._known), key=lambda e: e.id)
        if not fresh:
            return None
        rent = await self._adopt(self._account, fresh[-1], self._options, self._started)
        await self._ledger.follow(rent)
        return await self._ledger.records.get(rent.ref)


@dataclass
class ExtensionPurchase(Purchase[Rent]):
    """continueRentNumber: a longer rent, or (once over) the number again under a new id."""

    _ledger: RentLedger
    _account: UserAccount
    _rent: Rent
    _params: ExtendOrder

    @property
    def rent(self) -> Rent:
        return self._rent

    @property
    def traceable(self) -> bool:
        # The protocol has no read of a running rent's end time: only a re-order (a new id
        # in the rent list) can be seen; the user is told to check the end time instead.
        return not self._rent.is_open

    async def pay(self) -> Rent:
        rent, params = self._rent, self._params
        number = await self._account.client.continue_rent_number(rent.id, params.hours)
        if number.id == rent.id:
            return await self._ledger.prolong(rent, number, params)
        return await self._ledger.renew(rent, number.id, number.end_date, params)

    async def price(self) -> Decimal | None:
        try:
            quoted = await self._account.client.get_continue_rent_price_number(
                self._rent.id, self._params.hours
            )
        except pe.ProviderError:
            return None
        return quoted.price

    async def look_up(self) -> Rent | None:
        """Only a re-order shows: the provider's list has the number under a new id."""
        rent = self._rent
        if rent.is_open:
            return None
        listed = await self._account.client.get_rent_list()
        known = await self._ledger.known_ids(self._account.user_id)
        for entry in listed:
            if entry.phone == rent.phone and entry.id not in known:
                return await self._ledger.renew(rent, entry.id, None, self._params)
        return None
