"""What a rent is, by the protocol: durations, the cancel window, the provider's time zone,
SMS bookkeeping and status changes.

Pure rules shared by the service, the purchases, the worker and the views: no I/O here.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal

from pydantic import BaseModel

from bot.accounts import UserAccount
from bot.catalogue import POPULAR_SERVICES
from bot.provider.models import RentNumber, RentState, RentStatus
from bot.provider.models import RentSms as ProviderSms
from bot.storage.rents import Rent, RentOptions, RentSms, SmsKey
from bot.storage.rents import RentState as State

#: The durations offered as buttons (hours); each provider accepts a subset.
DURATIONS = (4, 12, 24, 48, 72, 168, 336, 720)
#: The widest range any provider documents (protocol reference, section 9.2).
MIN_HOURS = 2
MAX_HOURS = 1344
#: The provider refunds a cancelled rent only this soon after it started.
CANCEL_WINDOW = 20 * 60.0
HOUR = 3600.0
#: How long past its end a rent is still asked about before the bot closes it itself.
GIVE_UP_AFTER = 3600.0

_ZONE_STEP = 900.0
_MAX_ZONE = 14 * HOUR
_STAMP = "%Y-%m-%d %H:%M:%S"


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
class Quote:
    """What extending by ``hours`` would cost and give."""

    hours: int
    price: Decimal | None
    exact: bool  # from getContinueRentPriceNumber; else the price list's figure
    renews: bool  # the rent is over: extending orders the number again under a new id
    ends_at: float | None


def overdue(rent: Rent, now: float) -> bool:
    """Open long past its end: the provider will not say more, so the bot closes it."""
    return rent.is_open and rent.ends_at is not None and now > rent.ends_at + GIVE_UP_AFTER


def new_rent(account: UserAccount, options: RentOptions, number: RentNumber, now: float) -> Rent:
    """The record of a number just rented with ``options``."""
    offset = learn_offset(number.end_date, now + options.hours * HOUR)
    return Rent(
        id=number.id,
        user_id=account.user_id,
        provider=account.provider,
        account_id=account.account_id or None,
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


_POPULARITY = {code: rank for rank, code in enumerate(POPULAR_SERVICES)}


def popular_first(choice: RentChoice) -> tuple[bool, int, Decimal]:
    """The whole number first, then the services people rent for most, then by price."""
    rank = _POPULARITY.get(choice.service, len(_POPULARITY))
    return (choice.service != "full", rank, choice.price)


class CachedMenu(BaseModel):
    """A menu as kept in Redis between taps."""

    countries: list[int] = []
    operators: list[str] = []
    services: list[tuple[str, Decimal, int]] = []
