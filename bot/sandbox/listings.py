"""Account and catalogue actions: balance, stock, prices, countries, operators, services,
outgoing-call tasks (protocol.md §3, §5) and partner software (§8)."""

from __future__ import annotations

import random
import string
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from bot.catalogue import COUNTRIES, SERVICES
from bot.sandbox.market import FORWARD_COUNTRIES, FORWARD_SERVICES, PROFILES, Offer
from bot.sandbox.models import Account, CallTask
from bot.sandbox.state import Handler, World
from bot.sandbox.wire import Answer, ApiError, Encoding, Params, money, num

__all__ = ["ACTIONS"]

CENT = Decimal("0.01")


# -- account ---------------------------------------------------------------------------------


def get_balance(world: World, account: Account, p: Params) -> Answer:
    return f"ACCESS_BALANCE:{money(account.balance)}"


def get_balance_and_cashback(world: World, account: Account, p: Params) -> Answer:
    return f"ACCESS_BALANCE:{money(account.balance + account.cashback)}"


def buy_partner_product(world: World, account: Account, p: Params) -> Answer:
    if not account.partner_verified:
        raise ApiError("BAD_ACTION")
    raw = p.get("productId")
    product = world.config.partner_products.get(int(raw)) if raw and raw.isdigit() else None
    if raw is None or product is None:
        raise ApiError("BAD_DATA")
    name, price = product
    if not world.can_pay(account, price):
        raise ApiError("NO_BALANCE")
    world.charge(account, price)
    alphabet = string.ascii_letters + string.digits
    key = "".join(world.rng.choice(alphabet) for _ in range(25))
    return {
        "status": "success",
        "key": key,
        "manual": f"Ссылка на загрузку софта: https://partners.sandbox.invalid/{raw}/{name}",
    }


# -- stock and prices ------------------------------------------------------------------------


def _country_or_none(p: Params, name: str = "country") -> int | None:
    raw = p.get(name)
    if raw is None:
        return None
    try:
        return int(raw)
    except ValueError:
        return -1


def get_numbers_status(world: World, account: Account, p: Params) -> Answer:
    country = _country_or_none(p)
    country = 0 if country is None else country
    known = world.market.operators(country)
    wanted = [op.lower() for op in p.csv("operator")]
    share = 1.0
    if wanted and "any" not in wanted and known:
        share = len([op for op in wanted if op in known]) / len(known)
    modern = world.config.json_style == "modern"
    body: dict[str, Any] = {}
    for svc, offer in world.market.country_offers(country).items():
        count = int(offer.count * share)
        if modern:
            body[svc] = str(count)
            continue
        body[f"{svc}_0"] = count
        if svc in FORWARD_SERVICES and country in FORWARD_COUNTRIES:
            body[f"{svc}_1"] = int(offer.forward_count * share)
    return body


def _aggregate(offers: list[Offer]) -> Offer:
    return Offer(min(o.cost for o in offers), sum(o.count for o in offers))


def get_top_countries_by_service(world: World, account: Account, p: Params) -> Answer:
    service = p.get("service")
    if service is not None and service not in SERVICES:
        raise ApiError("BAD_SERVICE")
    rows: list[tuple[int, Offer]] = []
    for cid in PROFILES:
        offers = world.market.country_offers(cid)
        if service is not None:
            if service in offers:
                rows.append((cid, offers[service]))
        elif offers:
            rows.append((cid, _aggregate(list(offers.values()))))
    rows.sort(key=lambda row: (-row[1].count, row[0]))
    free_price = p.flag("freePrice")
    body: dict[str, Any] = {}
    for rank, (cid, offer) in enumerate(rows):
        item: dict[str, Any] = {
            "country": cid,
            "count": offer.count,
            "price": num(offer.cost),
            "retail_price": num((offer.cost * Decimal("1.6")).quantize(CENT, ROUND_HALF_UP)),
        }
        if free_price:
            dearer = (offer.cost * Decimal("1.2")).quantize(CENT, ROUND_HALF_UP)
            extra = offer.count // 10
            item["freePriceMap"] = {money(offer.cost): offer.count - extra, money(dearer): extra}
        body[str(rank)] = item
    return body


def get_operators(world: World, account: Account, p: Params) -> Answer:
    country = _country_or_none(p)
    ids = sorted(PROFILES) if country is None else [country]
    found = {str(cid): list(world.market.operators(cid)) for cid in ids}
    found = {cid: ops for cid, ops in found.items() if ops}
    if not found:
        raise ApiError("OPERATORS_NOT_FOUND", encoding=Encoding.J_ERR)
    return {"status": "success", "countryOperators": found}


def get_prices(world: World, account: Account, p: Params) -> Answer:
    service = p.get("service")
    country = _country_or_none(p)
    modern = world.config.json_style == "modern"
    body: dict[str, dict[str, Any]] = {}
    for (cid, svc), offer in world.market.offers.items():
        if (service is not None and svc != service) or (country is not None and cid != country):
            continue
        item: dict[str, Any] = {"cost": num(offer.cost), "count": offer.count}
        if modern:
            item["physicalCount"] = offer.physical_count
        body.setdefault(str(cid), {})[svc] = item
    return body


def get_prices_verification(world: World, account: Account, p: Params) -> Answer:
    service = p.get("service")
    market = world.market
    body: dict[str, dict[str, Any]] = {}
    for (cid, svc), offer in market.offers.items():
        if service is not None and svc != service:
            continue
        price = market.verification_prices[cid]
        body.setdefault(svc, {})[str(cid)] = {"count": offer.count, "price": money(price)}
    return body


def get_countries(world: World, account: Account, p: Params) -> Answer:
    return {
        str(c.id): {
            "id": c.id,
            "rus": c.ru,
            "eng": c.en,
            "chn": c.en,
            "visible": int(c.visible),
            "retry": int(c.retry),
            "rent": int(c.rent),
            "multiService": int(c.multi_service),
        }
        for c in COUNTRIES.values()
    }


def get_list_of_top_countries_by_service(world: World, account: Account, p: Params) -> Answer:
    service = p.get("service")
    if service is None or service not in SERVICES:
        raise ApiError("WRONG_SERVICE")
    rows = [
        (cid, offer.count)
        for (cid, svc), offer in world.market.offers.items()
        if svc == service and offer.count > 0
    ]
    rows.sort(key=lambda row: (-row[1], row[0]))
    total = sum(count for _, count in rows) or 1
    length = p.count("length", 10, low=1)
    page = p.count("page", 1, low=1)
    chosen = rows[(page - 1) * length : page * length]
    return [
        {
            "country": cid,
            "share": round(100 * count / total),
            # A stable made-up success rate per (service, country).
            "rate": random.Random(f"{world.config.seed}-{service}-{cid}").randint(40, 95),
        }
        for cid, count in chosen
    ]


def get_services_list(world: World, account: Account, p: Params) -> Answer:
    country = _country_or_none(p)
    codes = (
        list(SERVICES)
        if country is None
        else [svc for (cid, svc) in world.market.offers if cid == country]
    )
    locale = p.get("lang") or "en"
    return {
        "status": "success",
        "services": [{"code": c, "name": SERVICES[c].name(locale)} for c in codes],
    }


# -- outgoing calls --------------------------------------------------------------------------


def _call_error(world: World, token: str) -> ApiError:
    encoding = Encoding.J_CALL if world.config.call_error_encoding == "json" else Encoding.TEXT
    return ApiError(token, encoding=encoding)


def create_task_for_call(world: World, account: Account, p: Params) -> Answer:
    raw = p.get("activationId")
    activation = world.activations.get(int(raw)) if raw and raw.isdigit() else None
    if activation is None or activation.key != account.key or not activation.is_open:
        raise _call_error(world, "WRONG_ACTIVATION_ID")
    target = p.get("phone") or ""
    if target and not (target.isdigit() and 7 <= len(target) <= 15):
        raise _call_error(world, "NUMBER_NOT_EXIST")
    if activation.id in world.call_tasks:
        raise _call_error(world, "CALL_TASK_ALREADY_EXIST")
    world.call_tasks[activation.id] = CallTask(
        activation_id=activation.id,
        key=account.key,
        phone=target,
        phone_from=activation.phone,
        created_at=world.now(),
    )
    return {"status": "success", "msg": "Заявка на звонок успешно создана."}


def get_outgoing_calls(world: World, account: Account, p: Params) -> Answer:
    raw = p.get("activationId")
    day = p.get("date") or world.day(world.now())
    return {
        str(task.activation_id): {
            "date": world.stamp(task.created_at),
            "phoneFrom": task.phone_from,
            "status": task.status,
        }
        for task in world.call_tasks.values()
        if task.key == account.key
        and world.day(task.created_at) == day
        and (raw is None or str(task.activation_id) == raw)
    }


ACTIONS: dict[str, Handler] = {
    "getBalance": get_balance,
    "getBalanceAndCashBack": get_balance_and_cashback,
    "buyPartnerProduct": buy_partner_product,
    "getNumbersStatus": get_numbers_status,
    "getTopCountriesByService": get_top_countries_by_service,
    "getTopCountriesByServiceRank": get_top_countries_by_service,
    "getOperators": get_operators,
    "getPrices": get_prices,
    "getPricesVerification": get_prices_verification,
    "getCountries": get_countries,
    "getListOfTopCountriesByService": get_list_of_top_countries_by_service,
    "getServicesList": get_services_list,
    "createTaskForCall": create_task_for_call,
    "getOutgoingCalls": get_outgoing_calls,
}
