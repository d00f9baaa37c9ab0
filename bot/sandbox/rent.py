"""Rent actions (protocol.md §6) and the rent lifecycle (§9.2).

Every rent error is JSON ``{"status":"error","message":TOKEN}`` except ``BAD_KEY``; the states
WAIT_CODE/FINISH/CANCEL/REVOKE travel in that same error shape from getRentStatus. A rent ends
by itself at ``endDate``; it can be cancelled with a refund only inside the cancel window.
"""

from __future__ import annotations

import math
from dataclasses import asdict
from decimal import Decimal
from typing import Any

from bot.catalogue import COUNTRIES, POPULAR_SERVICES, SERVICES
from bot.sandbox.models import Account, Line, Rent, RentSms, RentStatus
from bot.sandbox.state import Handler, InvalidState, World
from bot.sandbox.texts import random_code, sms_sender, sms_text
from bot.sandbox.wire import Answer, ApiError, Encoding, Params, num

__all__ = ["ACTIONS", "deliver_rent_sms", "revoke", "run_due"]

R = RentStatus
HOUR = 3600


def _error(token: str, info: dict[str, Any] | None = None) -> ApiError:
    return ApiError(token, encoding=Encoding.J_MSG, info=info)


# -- lifecycle -------------------------------------------------------------------------------


def deliver_rent_sms(
    world: World, rent: Rent, text: str, phone_from: str, service: str, at: float
) -> RentSms:
    if not rent.is_active:
        raise InvalidState(f"rent {rent.id} is {rent.status.value}")
    sms = RentSms(phone_from=phone_from, text=text, service=service, at=at)
    rent.sms.append(sms)
    if rent.url:
        world.webhooks.enqueue(
            "rent",
            rent.url,
            {
                "rentId": str(rent.id),
                "sms": {"phoneFrom": phone_from, "text": text, "date": world.stamp(at)},
            },
        )
    return sms


def _close(world: World, rent: Rent, status: RentStatus, at: float, *, refund: bool) -> None:
    rent.status = status
    rent.closed_at = at
    rent.next_auto_sms_at = None
    if refund:
        world.refund(world.accounts[rent.key], rent.cost)
    offer = world.market.rent_offers.get((rent.country, rent.service))
    if offer is not None:
        offer.count += 1


def revoke(world: World, rent: Rent) -> None:
    """The provider takes the number back (blocked SIM): the money is returned."""
    if not rent.is_active:
        raise InvalidState(f"rent {rent.id} is {rent.status.value}")
    _close(world, rent, R.REVOKED, world.now(), refund=True)


def _scripted_sms(world: World, rent: Rent, at: float) -> None:
    service = rent.service
    if service == "full":
        service = world.rng.choice(POPULAR_SERVICES[:-1])
    code = random_code(world.rng)
    deliver_rent_sms(
        world, rent, sms_text(service, code), sms_sender(service, world.rng), service, at
    )


def run_due(world: World, now: float) -> None:
    interval = world.config.auto_rent_sms_interval
    for rent in world.rents.values():
        if not rent.is_active:
            continue
        while (
            interval is not None
            and rent.next_auto_sms_at is not None
            and rent.next_auto_sms_at <= min(now, rent.end_at)
        ):
            at = rent.next_auto_sms_at
            _scripted_sms(world, rent, at)
            rent.next_auto_sms_at = at + interval
        if rent.end_at <= now:
            _close(world, rent, R.FINISHED, rent.end_at, refund=False)


# -- helpers ---------------------------------------------------------------------------------


def _own(world: World, account: Account, p: Params) -> Rent:
    raw = p.get("id")
    if raw is None:
        raise _error("NO_ID_RENT")
    rent = world.rents.get(int(raw)) if raw.isdigit() else None
    if rent is None or rent.key != account.key:
        raise _error("INVALID_PHONE")
    return rent


def _hours(world: World, p: Params) -> int:
    cfg = world.config
    hours = p.integer("rent_time", cfg.rent_default_hours, _error("INVALID_TIME"))
    if not cfg.rent_min_hours <= hours <= cfg.rent_max_hours:
        raise _error("INVALID_TIME")
    return hours


def _price(world: World, rent: Rent, hours: int) -> Decimal:
    price = world.market.rent_cost(rent.country, rent.service, hours)
    if price is None:
        price = (rent.cost * hours / rent.hours).quantize(Decimal("0.01"))
    return price


def _phone_reply(world: World, rent: Rent) -> dict[str, Any]:
    return {
        "status": "success",
        "phone": {"id": rent.id, "endDate": world.iso(rent.end_at), "number": rent.phone},
    }


def _start(
    world: World,
    account: Account,
    line: Line,
    *,
    hours: int,
    cost: Decimal,
    url: str | None,
    number_dies_at: float | None = None,
    previous_id: int | None = None,
) -> Rent:
    now = world.now()
    world.charge(account, cost)
    interval = world.config.auto_rent_sms_interval
    rent = Rent(
        id=world.new_id("rent"),
        key=account.key,
        **asdict(line),
        cost=cost,
        hours=hours,
        created_at=now,
        end_at=now + hours * HOUR,
        number_dies_at=(
            number_dies_at
            if number_dies_at is not None
            else now + world.config.rent_number_lifetime
        ),
        url=url,
        next_auto_sms_at=now + interval if interval is not None else None,
        previous_id=previous_id,
    )
    world.add_rent(rent)
    offer = world.market.rent_offers.get((line.country, line.service))
    if offer is not None:
        offer.count -= 1
    return rent


# -- actions ---------------------------------------------------------------------------------


def get_rent_services_and_countries(world: World, account: Account, p: Params) -> Answer:
    hours = p.integer("rent_time", world.config.rent_default_hours, _error("INVALID_TIME"))
    if hours not in world.config.rent_durations:
        raise _error("INVALID_TIME")
    country = p.integer("country", 0, ApiError("OUT_OF_STOCK"))
    market = world.market
    services: dict[str, Any] = {}
    for (cid, svc), offer in market.rent_offers.items():
        price = market.rent_cost(cid, svc, hours)
        if cid == country and offer.count > 0 and price is not None:
            services[svc] = {"cost": num(price), "quant": offer.count}
    if not services:
        raise ApiError("OUT_OF_STOCK")
    operators = ["any", *market.operators(country)]
    body: dict[str, Any] = {
        "countries": {str(i): cid for i, cid in enumerate(market.rent_countries())},
        "operators": {str(i): op for i, op in enumerate(operators)},
        "services": services,
    }
    if world.config.json_style == "modern":
        body["currency"] = world.config.currency
    return body


def get_rent_number(world: World, account: Account, p: Params) -> Answer:
    service = p.get("service")
    if service is None or service not in SERVICES:
        raise _error("BAD_SERVICE")
    hours = _hours(world, p)
    country = p.integer("country", 0, _error("NO_NUMBERS"))
    world.check_account(account, Encoding.J_MSG)
    offer = world.market.rent_offers.get((country, service))
    price = world.market.rent_cost(country, service, hours)
    if offer is None or offer.count <= 0 or price is None or country not in COUNTRIES:
        raise _error("NO_NUMBERS")
    known = world.market.operators(country)
    requested = [op.lower() for op in p.csv("operator")]
    wanted = known if not requested or "any" in requested else [o for o in requested if o in known]
    if not wanted:
        raise _error("NO_NUMBERS")
    if not world.can_pay(account, price):
        raise _error("NO_BALANCE")
    phone = world.market.new_phone(country, world.rng, [], world.taken_phones())
    if phone is None:
        raise _error("NO_NUMBERS")
    rent = _start(
        world,
        account,
        Line(service, country, world.rng.choice(wanted), phone),
        hours=hours,
        cost=price,
        url=p.get("url"),
    )
    return _phone_reply(world, rent)


def get_rent_status(world: World, account: Account, p: Params) -> Answer:
    rent = _own(world, account, p)
    match rent.status:
        case R.CANCELLED:
            raise _error("STATUS_CANCEL")
        case R.REVOKED:
            raise _error("STATUS_REVOKE")
        case R.FINISHED:
            raise _error("STATUS_FINISH")
    if not rent.sms:
        raise _error("STATUS_WAIT_CODE")
    newest_first = sorted(rent.sms, key=lambda s: s.at, reverse=True)
    # The 2025 API pages by default (page 1, 10 per page); the seed's version sent everything.
    if "page" in p or "size" in p or world.config.json_style == "modern":
        page = p.count("page", 1, low=1)
        size = p.count("size", 10, low=1)
        newest_first = newest_first[(page - 1) * size : page * size]
    values = {
        str(i): {
            "phoneFrom": sms.phone_from,
            "text": sms.text,
            "service": sms.service,
            "date": world.stamp(sms.at),
        }
        for i, sms in enumerate(newest_first)
    }
    return {"status": "success", "quantity": str(len(rent.sms)), "values": values}


def set_rent_status(world: World, account: Account, p: Params) -> Answer:
    rent = _own(world, account, p)
    status = p.get("status")
    if status not in ("1", "2"):
        raise _error("INCORECT_STATUS")
    if rent.status is R.FINISHED:
        raise _error("ALREADY_FINISH")
    if rent.status in (R.CANCELLED, R.REVOKED):
        raise _error("ALREADY_CANCEL")
    now = world.now()
    if status == "1":
        _close(world, rent, R.FINISHED, now, refund=False)
    elif now - rent.created_at >= world.config.rent_cancel_window:
        raise _error("CANT_CANCEL")
    else:
        _close(world, rent, R.CANCELLED, now, refund=True)
    return {"status": "success"}


def get_rent_list(world: World, account: Account, p: Params) -> Answer:
    mine = [r for r in world.rents.values() if r.key == account.key and r.is_active]
    if "page" in p or "length" in p:
        page = p.count("page", 1, low=1)
        length = p.count("length", 10, low=1)
        mine = mine[(page - 1) * length : page * length]
    if not mine:
        raise _error("NO_NUMBERS")
    values = {str(i): {"id": str(r.id), "phone": r.phone} for i, r in enumerate(mine)}
    return {"status": "success", "values": values}


def _extension(world: World, rent: Rent, hours: int) -> Decimal:
    """Validate extending ``rent`` by ``hours`` and return the price."""
    if rent.status is R.REVOKED:
        raise _error("RENT_DIE")
    now = world.now()
    if rent.is_active:
        limit = min(rent.number_dies_at, rent.created_at + world.config.rent_max_hours * HOUR)
        start = rent.end_at
    else:
        if now >= rent.number_dies_at:
            raise _error("RENT_DIE")
        limit = rent.number_dies_at
        start = now
    most = math.floor((limit - start) / HOUR)
    if hours > most:
        raise _error("MAX_HOURS_EXCEED", info={"max": max(most, 0)})
    return _price(world, rent, hours)


def continue_rent_number(world: World, account: Account, p: Params) -> Answer:
    rent = _own(world, account, p)
    hours = _hours(world, p)
    price = _extension(world, rent, hours)
    if rent.is_active:
        world.check_account(account, Encoding.J_MSG, new_channel=False)
        if not world.can_pay(account, price):
            raise _error("NO_BALANCE")
        world.charge(account, price)
        rent.end_at += hours * HOUR
        rent.hours += hours
        rent.cost += price
        return _phone_reply(world, rent)
    # A finished rent is ordered again on the same number, under a new id.
    world.check_account(account, Encoding.J_MSG)
    if world.phone_taken(rent.phone):
        raise _error("RENT_DIE")
    if not world.can_pay(account, price):
        raise _error("NO_BALANCE")
    renewed = _start(
        world,
        account,
        rent.line,
        hours=hours,
        cost=price,
        url=rent.url,
        number_dies_at=rent.number_dies_at,
        previous_id=rent.id,
    )
    return _phone_reply(world, renewed)


def get_continue_rent_price_number(world: World, account: Account, p: Params) -> Answer:
    rent = _own(world, account, p)
    price = _extension(world, rent, _hours(world, p))
    body: dict[str, Any] = {"status": "success", "price": num(price)}
    if world.config.json_style == "modern":
        body["currency"] = world.config.currency
    return body


ACTIONS: dict[str, Handler] = {
    "getRentServicesAndCountries": get_rent_services_and_countries,
    "getRentNumber": get_rent_number,
    "getRentStatus": get_rent_status,
    "setRentStatus": set_rent_status,
    "getRentList": get_rent_list,
    "continueRentNumber": continue_rent_number,
    "getContinueRentPriceNumber": get_continue_rent_price_number,
}
