"""Rents as the bot sees them: what can be rented, renting, extending, and following SMS.

No Telegram here: handlers and the worker both call this and render the result themselves.
Renting and extending spend money, so both go through the purchase orders (``OrderRepo``) and
the user's purchase lock: a confirmation is carried out at most once, and an ambiguous answer
is looked up at the provider, never repeated.
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from pydantic import BaseModel
from redis.asyncio import Redis

from bot.accounts import UserAccount
from bot.catalogue import COUNTRIES, POPULAR_SERVICES
from bot.provider import errors as pe
from bot.provider.client import RentAction
from bot.provider.models import RentListEntry, RentNumber, RentState, RentStatus
from bot.provider.models import RentSms as ProviderSms
from bot.provider.parsing import to_datetime
from bot.provider.presets import Feature
from bot.storage import records
from bot.storage.orders import OrderRepo
from bot.storage.records import make_ref
from bot.storage.rents import Rent, RentOptions, RentRepo, RentSms, SmsKey
from bot.storage.rents import RentState as State
from bot.storage.schedule import Schedule
from bot.storage.users import PREFIX

log = logging.getLogger(__name__)

#: The durations offered as buttons (hours); each provider accepts a subset.
DURATIONS = (4, 12, 24, 48, 72, 168, 336, 720)
#: The widest range any provider documents (protocol reference, section 9.2).
MIN_HOURS = 2
MAX_HOURS = 1344
#: The provider refunds a cancelled rent only this soon after it started.
CANCEL_WINDOW = 20 * 60.0
HOUR = 3600.0

RENT_KIND = "rent"
EXTEND_KIND = "rent_extend"

MENU_TTL = 60
DURATIONS_TTL = 6 * 3600
MAX_STATUS_PAGES = 20
_ZONE_STEP = 900.0
_MAX_ZONE = 14 * HOUR
_STAMP = "%Y-%m-%d %H:%M:%S"

#: Answers after which a paid call may or may not have been carried out.
AMBIGUOUS = (pe.ProviderTimeout, pe.TransportError, pe.ServerError, pe.MalformedResponse)


def member(ref: str) -> str:
    """The rent's name in the shared schedule."""
    return f"rent:{ref}"


def can_cancel(rent: Rent, now: float) -> bool:
    return rent.is_open and not rent.cancel_refused and now < rent.created_at + CANCEL_WINDOW


def can_extend(rent: Rent) -> bool:
    """Open rents are extended; a finished one is ordered again. Refunded ones are gone."""
    return rent.state in {State.ACTIVE, State.FINISHED}


def stamp(date: datetime | None) -> str:
    return date.strftime(_STAMP) if date is not None else ""


def provider_epoch(date: datetime, utc_offset: float) -> float:
    """Epoch seconds of a date the provider wrote in its own (unnamed) zone."""
    if date.tzinfo is not None:
        return date.timestamp()
    return date.replace(tzinfo=UTC).timestamp() - utc_offset


def learn_offset(end_date: datetime, expected_end: float) -> float:
    """The provider's zone, from an end date it reported for a rent of known length.

    The protocol does not name the zone of its dates; comparing the end date with "now plus
    the hours bought" reveals it, to the quarter hour.
    """
    if end_date.tzinfo is not None:
        return 0.0
    raw = end_date.replace(tzinfo=UTC).timestamp() - expected_end
    offset = round(raw / _ZONE_STEP) * _ZONE_STEP
    return offset if abs(offset) <= _MAX_ZONE else 0.0


def sms_key(message: ProviderSms) -> SmsKey:
    return (stamp(message.date), message.phone_from, message.text)


def to_sms(message: ProviderSms, utc_offset: float, now: float) -> RentSms:
    at = provider_epoch(message.date, utc_offset) if message.date is not None else now
    return RentSms(
        phone_from=message.phone_from,
        text=message.text,
        service=message.service,
        date=stamp(message.date),
        at=at,
    )


def add_sms(rent: Rent, messages: Iterable[RentSms]) -> int:
    """Append the messages not recorded yet (oldest first); returns how many were new."""
    known = rent.known_keys()
    added = 0
    for sms in messages:
        if sms.key in known:
            continue
        rent.sms.append(sms)
        known.add(sms.key)
        added += 1
    return added


_CLOSED = {
    RentState.FINISHED: State.FINISHED,
    RentState.CANCELLED: State.CANCELLED,
    RentState.REVOKED: State.REVOKED,
}


def apply_status(rent: Rent, status: RentStatus, now: float) -> Rent:
    """The record after the provider reported ``status``; new SMS are appended undelivered."""
    if not rent.is_open:
        return rent
    if status.state is RentState.ACTIVE:
        add_sms(rent, (to_sms(m, rent.utc_offset, now) for m in status.messages))
    elif status.state in _CLOSED:
        rent.state = _CLOSED[status.state]
        rent.closed_at = now
    return rent


@dataclass(frozen=True, slots=True)
class RentChoice:
    service: str
    price: Decimal
    count: int


@dataclass(frozen=True, slots=True)
class RentMenu:
    """getRentServicesAndCountries for one duration (and country)."""

    countries: tuple[int, ...]
    operators: tuple[str, ...]
    choices: tuple[RentChoice, ...]

    def choice(self, service: str) -> RentChoice | None:
        return next((c for c in self.choices if c.service == service), None)


@dataclass(frozen=True, slots=True)
class Quote:
    """What extending by ``hours`` would cost and give."""

    hours: int
    price: Decimal | None
    exact: bool  # from getContinueRentPriceNumber; else the price list's figure
    renews: bool  # the rent is over: extending orders the number again under a new id
    ends_at: float | None


@dataclass(frozen=True, slots=True)
class RentResult:
    """What a confirmation tap (rent or extension) led to."""

    rent: Rent | None = None
    already: bool = False  # the order had already been carried out (a double tap)
    busy: bool = False  # another purchase of this user is running
    recovered: bool = False  # the answer was lost, but the provider's list shows the rent
    unknown: bool = False  # the answer was lost and nothing new shows up
    expired: bool = False  # the confirmation is too old, unknown, or names a gone rent
    renewed: bool = False  # an extension re-ordered a finished rent under a new id
    error: pe.ProviderError | None = None


_POPULARITY = {code: rank for rank, code in enumerate(POPULAR_SERVICES)}


def _popular_first(choice: RentChoice) -> tuple[bool, int, Decimal]:
    """The whole number first, then the services people rent for most, then by price."""
    rank = _POPULARITY.get(choice.service, len(_POPULARITY))
    return (choice.service != "full", rank, choice.price)


class _CachedMenu(BaseModel):
    countries: list[int] = []
    operators: list[str] = []
    services: list[tuple[str, Decimal, int]] = []


class ExtendOrder(BaseModel):
    ref: str
    hours: int
    price: Decimal | None = None


class RentService:
    def __init__(
        self,
        rents: RentRepo,
        orders: OrderRepo,
        schedule: Schedule,
        redis: Redis,
        *,
        clock: Callable[[], float] = time.time,
        webhook_url: Callable[[str], str | None] = lambda provider: None,
    ) -> None:
        self.rents = rents
        self.orders = orders
        self.schedule = schedule
        self._redis = redis
        self.clock = clock
        # Rent webhooks are not taken from the profile: each rent carries its own url.
        self._webhook_url = webhook_url

    # --- what can be rented ---

    async def durations(self, account: UserAccount) -> list[int]:
        """The offered durations the provider accepts (it answers INVALID_TIME to others)."""
        key = f"{PREFIX}:cache:{account.provider}:rent:durations"
        raw = await self._redis.get(key)
        if raw is not None:
            cached: list[int] = json.loads(raw)
            return cached
        accepted = await asyncio.gather(*(self._accepts(account, h) for h in DURATIONS))
        hours = [h for h, ok in zip(DURATIONS, accepted, strict=True) if ok]
        await self._redis.set(key, json.dumps(hours), ex=DURATIONS_TTL)
        return hours

    async def _accepts(self, account: UserAccount, hours: int) -> bool:
        try:
            await self.menu(account, hours)
        except pe.InvalidTime:
            return False
        return True

    async def menu(self, account: UserAccount, hours: int, country: int | None = None) -> RentMenu:
        """Countries, operators and services with prices for ``hours`` (INVALID_TIME raises)."""
        key = f"{PREFIX}:cache:{account.provider}:rent:{hours}:{country}"
        raw = await self._redis.get(key)
        if raw is None:
            offer = await self._fetch_menu(account, hours, country)
            await self._redis.set(key, offer.model_dump_json(), ex=MENU_TTL)
        else:
            offer = _CachedMenu.model_validate_json(raw)
        choices = (RentChoice(code, cost, count) for code, cost, count in offer.services)
        countries = offer.countries or [c.id for c in COUNTRIES.values() if c.rent]
        return RentMenu(
            countries=tuple(countries),
            operators=tuple(op for op in offer.operators if op and op != "any"),
            choices=tuple(sorted(choices, key=_popular_first)),
        )

    async def _fetch_menu(
        self, account: UserAccount, hours: int, country: int | None
    ) -> _CachedMenu:
        try:
            offer = await account.client.get_rent_services_and_countries(hours, country=country)
        except pe.OutOfStock:
            return _CachedMenu()
        return _CachedMenu(
            countries=offer.countries,
            operators=offer.operators,
            services=[
                (code, item.cost, item.count)
                for code, item in offer.services.items()
                if item.count > 0
            ],
        )

    # --- renting ---

    async def draft(self, user_id: int, options: RentOptions) -> str:
        return await self.orders.draft(user_id, RENT_KIND, options.model_dump(mode="json"))

    async def buy(self, account: UserAccount, token: str) -> RentResult:
        """Carry out the confirmation ``token`` at most once."""
        user_id = account.user_id
        order = await self.orders.get(user_id, token)
        if order is None or order.kind != RENT_KIND:
            return RentResult(expired=True)
        if order.status == "done" and order.result:
            return RentResult(rent=await self.rents.get(order.result), already=True)
        lock = await self.orders.lock(user_id)
        if lock is None:
            return RentResult(busy=True)
        try:
            started = self.clock()
            order, mine = await self.orders.begin(user_id, token, started)
            if order is None:
                return RentResult(expired=True)
            if not mine:
                return await self._settled(order.status, order.result)
            options = RentOptions.model_validate(order.params)
            return await self._buy(account, token, options, started)
        finally:
            await self.orders.unlock(user_id, lock)

    async def _settled(self, status: str, result: str | None) -> RentResult:
        """Another tap got there first: report what it did."""
        if status == "done" and result:
            return RentResult(rent=await self.rents.get(result), already=True)
        if status == "unknown":
            return RentResult(unknown=True)
        return RentResult(busy=True)

    async def _buy(
        self, account: UserAccount, token: str, options: RentOptions, started: float
    ) -> RentResult:
        user_id = account.user_id
        known = await self._known_ids(user_id)
        try:
            number = await account.client.get_rent_number(
                options.service,
                options.hours,
                country=options.country,
                operator=options.operator,
                webhook_url=self._webhook_url(account.provider),
            )
        except AMBIGUOUS as error:
            # The number may or may not be rented: look, never rent again blindly.
            log.warning("rent outcome unknown for user %s: %s", user_id, type(error).__name__)
            found = await self._find_new(account, options, known, started)
            if found is None:
                await self.orders.settle(user_id, token, "unknown")
                return RentResult(unknown=True, error=error)
            await self.orders.settle(user_id, token, "done", found.ref)
            return RentResult(rent=found, recovered=True)
        except pe.ProviderError as error:
            await self.orders.settle(user_id, token, "draft")
            return RentResult(error=error)
        rent = self._new_rent(account, options, number)
        await self._follow(rent)
        await self.orders.settle(user_id, token, "done", rent.ref)
        return RentResult(rent=rent)

    def _new_rent(self, account: UserAccount, options: RentOptions, number: RentNumber) -> Rent:
        now = self.clock()
        offset = learn_offset(number.end_date, now + options.hours * HOUR)
        return Rent(
            id=number.id,
            user_id=account.user_id,
            provider=account.provider,
            service=options.service,
            phone=number.number,
            country=options.country,
            operator=options.operator,
            hours=options.hours,
            cost=options.price,
            created_at=now,
            ends_at=provider_epoch(number.end_date, offset),
            term_started_at=now,
            utc_offset=offset,
        )

    async def _known_ids(self, user_id: int) -> set[int]:
        mine = await self.rents.of_user(user_id, limit=500)
        return {r.id for r in mine} | {old for r in mine for old in r.previous_ids}

    async def _find_new(
        self, account: UserAccount, options: RentOptions, known: set[int], started: float
    ) -> Rent | None:
        try:
            listed = await account.client.get_rent_list()
        except pe.ProviderError:
            return None
        fresh = sorted((e for e in listed if e.id not in known), key=lambda e: e.id)
        if not fresh:
            return None
        rent = await self.adopt(account, fresh[-1], options=options, started=started)
        if not await self.rents.add(rent):
            return None
        await self.schedule.add(member(rent.ref), self.clock())
        return rent

    async def adopt(
        self,
        account: UserAccount,
        entry: RentListEntry,
        *,
        options: RentOptions | None = None,
        started: float | None = None,
    ) -> Rent:
        """A record for a rent found in the provider's list (getRentList has id and phone)."""
        now = self.clock()
        latest = await self.rents.of_user(account.user_id, limit=1)
        same = latest and latest[0].provider == account.provider
        offset = latest[0].utc_offset if same else 0.0
        rent = Rent(
            id=entry.id,
            user_id=account.user_id,
            provider=account.provider,
            service=options.service if options else "",  # getRentList does not say
            phone=entry.phone,
            country=options.country if options else None,
            operator=options.operator if options else None,
            hours=options.hours if options else None,
            cost=options.price if options else None,
            created_at=started or now,
            ends_at=(started or now) + options.hours * HOUR if options else None,
            term_started_at=started or now,
            utc_offset=offset,
            external=options is None,
        )
        if options is None:
            # SMS that came before the bot saw the rent were read where it was made.
            await self._backfill(account, rent)
        return rent

    async def _backfill(self, account: UserAccount, rent: Rent) -> None:
        try:
            status = await self.read_status(account, rent)
        except pe.ProviderError:
            return
        apply_status(rent, status, self.clock())
        for sms in rent.sms:
            sms.delivered = True

    async def reconcile(self, account: UserAccount) -> list[Rent]:
        """Follow rents the provider lists that the bot does not know; re-check the others."""
        try:
            listed = await account.client.get_rent_list()
        except pe.ProviderError:
            return []
        known = await self._known_ids(account.user_id)
        adopted = []
        for entry in listed:
            if entry.id in known:
                continue
            rent = await self.adopt(account, entry)
            if await self.rents.add(rent):
                await self.schedule.add(member(rent.ref), self.clock())
                adopted.append(rent)
        listed_ids = {entry.id for entry in listed}
        for rent in await self.rents.open_of_user(account.user_id):
            if rent.provider == account.provider and rent.id not in listed_ids:
                # The provider no longer lists it: most likely over; the worker will see.
                await self.schedule.due_now(member(rent.ref))
        return adopted

    async def _follow(self, rent: Rent) -> None:
        await self.rents.add(rent)
        await self.schedule.add(member(rent.ref), self.clock())

    # --- following ---

    async def read_status(self, account: UserAccount, rent: Rent) -> RentStatus:
        """getRentStatus, with older pages when more SMS arrived than one page holds."""
        client = account.client
        status = await client.get_rent_status(rent.id)
        messages = list(status.messages)
        known = rent.known_keys()
        page = 2
        while (
            status.quantity > len(messages)
            and status.messages
            and page <= MAX_STATUS_PAGES
            and sms_key(messages[0]) not in known  # older pages hold nothing new
        ):
            older = await client.get_rent_status(rent.id, page=page, size=len(status.messages))
            if not older.messages:
                break
            messages = list(older.messages) + messages
            page += 1
        return status.model_copy(update={"messages": messages})

    async def record_status(self, ref: str, status: RentStatus) -> tuple[Rent, Rent]:
        now = self.clock()

        def change(record: Rent) -> Rent:
            return apply_status(record, status, now)

        return await self.rents.update(ref, change)

    async def record_sms(
        self,
        ref: str,
        phone_from: str,
        text: str,
        date: datetime | str | None,
        service: str = "",
    ) -> bool:
        """Record one incoming SMS (a webhook); False when it is known or the rent is not.

        ``ref`` is ``make_ref(provider, rentId)``. The worker pushes the SMS: the rent is made
        due now. Deduplicated with the poller by (date, sender, text).
        """
        when = _parse_date(date)
        now = self.clock()

        def change(record: Rent) -> Rent:
            sms = RentSms(
                phone_from=phone_from,
                text=text,
                service=service,
                date=stamp(when),
                at=provider_epoch(when, record.utc_offset) if when is not None else now,
            )
            add_sms(record, [sms])
            return record

        try:
            before, after = await self.rents.update(ref, change)
        except records.RecordMissing:
            return False
        if len(after.sms) == len(before.sms):
            return False
        await self.schedule.due_now(member(ref))
        return True

    async def record_webhook(self, provider: str, body: Mapping[str, Any]) -> bool:
        """A rent webhook body (protocol reference, section 10.2); False if known or not ours.

        ``{"rentId": "26251422", "sms": {"phoneFrom": ..., "text": ..., "date": ...}}``
        """
        sms = body.get("sms")
        rent_id = str(body.get("rentId", "")).strip()
        if not isinstance(sms, Mapping) or not rent_id.isdecimal():
            return False
        return await self.record_sms(
            make_ref(provider, int(rent_id)),
            str(sms.get("phoneFrom") or ""),
            str(sms.get("text") or ""),
            sms.get("date"),
            str(sms.get("service") or ""),
        )

    async def refresh(self, account: UserAccount, rent: Rent) -> Rent:
        """Read the provider's status now and record it; the worker pushes what is new."""
        status = await self.read_status(account, rent)
        _, after = await self.record_status(rent.ref, status)
        await self.schedule.due_now(member(after.ref))
        return after

    async def mark_delivered(self, ref: str, keys: Iterable[SmsKey]) -> Rent:
        done = set(keys)

        def change(record: Rent) -> Rent:
            for sms in record.sms:
                if sms.key in done:
                    sms.delivered = True
            return record

        _, after = await self.rents.update(ref, change)
        return after

    async def mark_reminded(self, ref: str, ends_at: float) -> None:
        def change(record: Rent) -> Rent:
            record.reminded_for = ends_at
            return record

        await self.rents.update(ref, change)

    async def mark_shown(self, ref: str, shown: str) -> None:
        def change(record: Rent) -> Rent:
            record.shown = shown
            return record

        await self.rents.update(ref, change)

    async def set_card(self, ref: str, message_id: int) -> None:
        def change(record: Rent) -> Rent:
            record.card_message_id = message_id
            return record

        await self.rents.update(ref, change)

    async def close_unknown(self, ref: str) -> Rent:
        """The provider no longer knows the rent: it ended."""
        now = self.clock()

        def change(record: Rent) -> Rent:
            if record.is_open:
                record.state = State.FINISHED
                record.closed_at = now
            return record

        _, after = await self.rents.update(ref, change)
        return after

    # --- the card's buttons ---

    async def finish(self, account: UserAccount, rent: Rent) -> Rent:
        """setRentStatus 1; provider errors propagate."""
        await account.client.set_rent_status(rent.id, RentAction.FINISH)
        return await self._closed(rent.ref, State.FINISHED)

    async def cancel(self, account: UserAccount, rent: Rent) -> Rent:
        """setRentStatus 2 (refund); CANT_CANCEL hides the button for good, then propagates."""
        try:
            await account.client.set_rent_status(rent.id, RentAction.CANCEL)
        except pe.CantCancel:

            def refused(record: Rent) -> Rent:
                record.cancel_refused = True
                return record

            await self.rents.update(rent.ref, refused)
            raise
        return await self._closed(rent.ref, State.CANCELLED)

    async def _closed(self, ref: str, state: State) -> Rent:
        now = self.clock()

        def change(record: Rent) -> Rent:
            record.state = state
            record.closed_at = now
            record.version += 1
            return record

        _, after = await self.rents.update(ref, change)
        # Due now rather than forgotten: SMS recorded but not yet pushed still go out.
        await self.schedule.due_now(member(ref))
        return after

    # --- extending ---

    async def quote(self, account: UserAccount, rent: Rent, hours: int) -> Quote:
        """The price of extending by ``hours``; MAX_HOURS_EXCEED and RENT_DIE propagate."""
        price: Decimal | None = None
        exact = False
        if account.supports(Feature.RENT_PRICE):
            try:
                found = await account.client.get_continue_rent_price_number(rent.id, hours)
            except (pe.BadOperator, pe.BadAction):
                pass  # some providers price extensions only on certain operators
            else:
                price, exact = found.price, True
        if price is None and rent.country is not None:
            price = await self._list_price(account, rent, hours)
        renews = not rent.is_open
        start = self.clock() if renews else rent.ends_at
        ends_at = start + hours * HOUR if start is not None else None
        return Quote(hours=hours, price=price, exact=exact, renews=renews, ends_at=ends_at)

    async def _list_price(self, account: UserAccount, rent: Rent, hours: int) -> Decimal | None:
        try:
            menu = await self.menu(account, hours, rent.country)
        except pe.ProviderError:
            return None
        choice = menu.choice(rent.service)
        return choice.price if choice else None

    async def draft_extension(self, user_id: int, rent: Rent, quote: Quote) -> str:
        order = ExtendOrder(ref=rent.ref, hours=quote.hours, price=quote.price)
        return await self.orders.draft(user_id, EXTEND_KIND, order.model_dump(mode="json"))

    async def extend(self, account: UserAccount, token: str) -> RentResult:
        """Carry out the extension ``token`` at most once."""
        user_id = account.user_id
        order = await self.orders.get(user_id, token)
        if order is None or order.kind != EXTEND_KIND:
            return RentResult(expired=True)
        if order.status == "done" and order.result:
            return RentResult(rent=await self.rents.get(order.result), already=True)
        lock = await self.orders.lock(user_id)
        if lock is None:
            return RentResult(busy=True)
        try:
            order, mine = await self.orders.begin(user_id, token, self.clock())
            if order is None:
                return RentResult(expired=True)
            if not mine:
                return await self._settled(order.status, order.result)
            params = ExtendOrder.model_validate(order.params)
            rent = await self.rents.get(params.ref)
            if rent is None or rent.user_id != user_id:
                await self.orders.settle(user_id, token, "draft")
                return RentResult(expired=True)
            return await self._extend(account, token, rent, params)
        finally:
            await self.orders.unlock(user_id, lock)

    async def _extend(
        self, account: UserAccount, token: str, rent: Rent, params: ExtendOrder
    ) -> RentResult:
        user_id = account.user_id
        try:
            number = await account.client.continue_rent_number(rent.id, params.hours)
        except AMBIGUOUS as error:
            log.warning("extension outcome unknown for user %s: %s", user_id, type(error).__name__)
            found = None if rent.is_open else await self._find_renewal(account, rent, params)
            if found is None:
                await self.orders.settle(user_id, token, "unknown")
                return RentResult(unknown=True, error=error)
            await self.orders.settle(user_id, token, "done", found.ref)
            return RentResult(rent=found, recovered=True, renewed=True)
        except pe.ProviderError as error:
            await self.orders.settle(user_id, token, "draft")
            return RentResult(error=error)
        if number.id == rent.id:
            after = await self._prolong(rent, number, params)
        else:
            after = await self._renew(rent, number.id, number.end_date, params)
        await self.orders.settle(user_id, token, "done", after.ref)
        return RentResult(rent=after, renewed=after.id != rent.id)

    async def _prolong(self, rent: Rent, number: RentNumber, params: ExtendOrder) -> Rent:
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

        _, after = await self.rents.update(rent.ref, change)
        await self.schedule.due_now(member(after.ref))
        return after

    async def _renew(
        self, rent: Rent, new_id: int, end_date: datetime | None, params: ExtendOrder
    ) -> Rent:
        """The same number under a new id: the record, its index entry and schedule move."""
        now = self.clock()
        current = await self.rents.get(rent.ref) or rent
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
        await self.rents.move(rent.ref, renewed)
        await self.schedule.forget(member(rent.ref))
        await self.schedule.add(member(renewed.ref), now)
        return renewed

    async def _find_renewal(
        self, account: UserAccount, rent: Rent, params: ExtendOrder
    ) -> Rent | None:
        """After a lost answer: the provider's list shows the number under a new id."""
        try:
            listed = await account.client.get_rent_list()
        except pe.ProviderError:
            return None
        known = await self._known_ids(account.user_id)
        for entry in listed:
            if entry.phone == rent.phone and entry.id not in known:
                return await self._renew(rent, entry.id, None, params)
        return None


def _parse_date(value: datetime | str | None) -> datetime | None:
    if value is None or value == "":
        return None
    try:
        return to_datetime(value)
    except ValueError:
        return None
