"""Activation actions (protocol.md §4) and the activation lifecycle (§9.1).

States: WAIT_CODE(4) → CODE_RECEIVED(2) ⇄ WAIT_RETRY(3) → FINISHED(6); CANCELLED(8) by the
buyer before any code; EXPIRED(10, refunded) when the lifetime ends without a code. Expiry with a
code finishes the activation and keeps the money.
"""

from __future__ import annotations

from dataclasses import asdict, replace
from decimal import Decimal
from typing import Any

from bot.catalogue import COUNTRIES, SERVICES
from bot.sandbox.market import FORWARD_SERVICES, Offer
from bot.sandbox.models import Account, Activation, ActivationStatus, Line, Sms
from bot.sandbox.state import Handler, InvalidState, World
from bot.sandbox.texts import random_code, sms_text
from bot.sandbox.wire import Answer, ApiError, Encoding, Params, dump_json, money, num

__all__ = ["ACTIONS", "close", "deliver_call", "deliver_sms", "run_due"]

S = ActivationStatus
_HISTORY_WINDOW = 30 * 24 * 3600


# -- lifecycle -------------------------------------------------------------------------------


def deliver_sms(
    world: World,
    activation: Activation,
    text: str,
    code: str,
    at: float,
    phone_from: str | None = None,
) -> Sms:
    if not activation.is_open:
        raise InvalidState(f"activation {activation.id} is closed ({activation.status.name})")
    sms = Sms(text=text, code=code, at=at, phone_from=phone_from)
    activation.sms.append(sms)
    activation.status = S.CODE_RECEIVED
    activation.auto_sms_at = None
    payload = {
        "activationId": activation.id,
        "service": activation.service,
        "text": text,
        "code": code,
        "country": activation.country,
        "receivedAt": world.stamp(at),
    }
    for url in world.accounts[activation.key].webhook_urls:
        world.webhooks.enqueue("activation", url, dict(payload))
    return sms


def deliver_call(world: World, activation: Activation, phone_from: str, at: float) -> Sms:
    if not activation.verification:
        raise InvalidState(f"activation {activation.id} was not bought for call verification")
    activation.call_from = phone_from
    # The code of a call verification is the caller's last digits.
    return deliver_sms(world, activation, f"Incoming call from +{phone_from}", phone_from[-4:], at)


def close(world: World, activation: Activation, status: ActivationStatus, at: float) -> None:
    activation.status = status
    activation.closed_at = at
    activation.auto_sms_at = None
    if status in (S.CANCELLED, S.EXPIRED):
        world.refund(world.accounts[activation.key], activation.cost, activation.paid_cashback)
        offer = world.market.offer(activation.country, activation.service)
        if offer is not None and not activation.repeated and activation.parent_id is None:
            offer.count += 1
            if activation.forward:
                offer.forward_count += 1


def _scripted_message(world: World, activation: Activation, at: float) -> None:
    if activation.verification:
        caller = "7" + "".join(world.rng.choice("0123456789") for _ in range(10))
        deliver_call(world, activation, caller, at)
        return
    code = random_code(world.rng)
    deliver_sms(world, activation, sms_text(activation.service, code), code, at)


def run_due(world: World, now: float) -> None:
    for activation in world.activations.values():
        if not activation.is_open:
            continue
        due = activation.auto_sms_at
        if due is not None and due <= now and due < activation.expires_at:
            _scripted_message(world, activation, due)
        if activation.expires_at <= now:
            final = S.FINISHED if activation.sms else S.EXPIRED
            close(world, activation, final, activation.expires_at)


# -- helpers ---------------------------------------------------------------------------------


def _own(world: World, account: Account, raw: str | None, error: ApiError) -> Activation:
    if raw is None or not raw.isdigit():
        raise error
    activation = world.activations.get(int(raw))
    if activation is None or activation.key != account.key:
        raise error
    return activation


def _country(p: Params) -> int:
    country = p.integer("country", 0, ApiError("BAD_COUNTRY"))
    if country not in COUNTRIES:
        raise ApiError("BAD_COUNTRY")
    return country


def _exclusions(p: Params, country: int) -> list[str]:
    """``phoneException``: country code plus 3 to 6 digits each (protocol.md §4.1)."""
    items = p.csv("phoneException")
    dial = COUNTRIES[country].dial
    for item in items:
        rest = item[len(dial) :]
        if not (item.isdigit() and item.startswith(dial) and 3 <= len(rest) <= 6):
            raise ApiError("WRONG_EXCEPTION_PHONE")
    if len(items) > 20:
        raise ApiError("WRONG_EXCEPTION_PHONE")
    return items


def _operator(world: World, p: Params, country: int) -> str:
    known = world.market.operators(country)
    requested = [op.lower() for op in p.csv("operator")]
    if not requested or "any" in requested:
        return world.rng.choice(known)
    wanted = [op for op in requested if op in known]
    if not wanted:
        raise ApiError("BAD_OPERATOR")
    return world.rng.choice(wanted)


def _in_stock(offer: Offer | None, forward: bool) -> Offer:
    if offer is None or offer.count <= 0 or (forward and offer.forward_count <= 0):
        raise ApiError("NO_NUMBERS")
    return offer


def _new_activation(
    world: World,
    account: Account,
    line: Line,
    *,
    cost: Decimal,
    forward: bool = False,
    verification: bool = False,
    parent_id: int | None = None,
    repeated: bool = False,
) -> Activation:
    now = world.now()
    delay = world.config.auto_sms_delay
    paid_cashback = world.charge(account, cost)
    activation = Activation(
        id=world.new_id("activation"),
        key=account.key,
        **asdict(line),
        cost=cost,
        paid_cashback=paid_cashback,
        created_at=now,
        expires_at=now + world.config.lifetime(line.service),
        forward=forward,
        verification=verification,
        auto_sms_at=now + delay if delay is not None else None,
        parent_id=parent_id,
        repeated=repeated,
    )
    world.add_activation(activation)
    return activation


def _buy(world: World, account: Account, p: Params) -> Activation:
    if p.flag("useCashBack"):
        account.use_cashback = True
    service = p.get("service")
    if service is None or service not in SERVICES or service == "full":
        raise ApiError("BAD_SERVICE")
    country = _country(p)
    world.check_account(account)
    exclusions = _exclusions(p, country)
    forward = p.flag("forward")
    verification = p.flag("verification")
    offer = _in_stock(world.market.offer(country, service), forward)
    operator = _operator(world, p, country)
    price = world.market.verification_prices[country] if verification else offer.cost
    ceiling = p.decimal("maxPrice")
    if ceiling is not None and ceiling < price:
        raise ApiError("WRONG_MAX_PRICE", payload=money(price), info={"min": num(price)})
    total = price + (world.config.forward_fee if forward else 0)
    if not world.can_pay(account, total):
        short = forward and world.can_pay(account, price)
        raise ApiError("NO_BALANCE_FORWARD" if short else "NO_BALANCE")
    phone = world.market.new_phone(country, world.rng, exclusions, world.taken_phones())
    if phone is None:
        raise ApiError("NO_NUMBERS")
    offer.count -= 1
    if forward:
        offer.forward_count -= 1
    return _new_activation(
        world,
        account,
        Line(service, country, operator, phone),
        cost=total,
        forward=forward,
        verification=verification,
    )


def _can_get_another_sms(activation: Activation) -> bool:
    return COUNTRIES[activation.country].retry


# -- purchase actions ------------------------------------------------------------------------


def get_number(world: World, account: Account, p: Params) -> Answer:
    activation = _buy(world, account, p)
    return f"ACCESS_NUMBER:{activation.id}:{activation.phone}"


def get_number_v2(world: World, account: Account, p: Params) -> Answer:
    order_id = p.get("orderId")
    if order_id is not None and order_id in account.order_ids:
        raise ApiError("ORDER_ALREADY_EXISTS")
    activation = _buy(world, account, p)
    if order_id is not None:
        account.order_ids.append(order_id)
        activation.order_id = order_id
    modern = world.config.json_style == "modern"
    another = _can_get_another_sms(activation)
    body: dict[str, Any] = {
        "activationId": activation.id,
        "phoneNumber": activation.phone,
        "activationCost": num(activation.cost) if modern else money(activation.cost),
        "countryCode": str(activation.country),
        "canGetAnotherSms": another if modern else ("1" if another else "0"),
        "activationTime": world.stamp(activation.created_at),
        "activationOperator": activation.operator,
    }
    if modern:
        body["currency"] = world.config.currency
    return body


def get_multi_service_number(world: World, account: Account, p: Params) -> Answer:
    services = p.csv("multiService")
    if not services or len(set(services)) != len(services):
        raise ApiError("BAD_SERVICE")
    if any(svc not in SERVICES or svc == "full" for svc in services):
        raise ApiError("BAD_SERVICE")
    forwards = p.csv("multiForward") or ["0"] * len(services)
    if len(forwards) != len(services) or set(forwards) - {"0", "1"} or forwards.count("1") > 1:
        raise ApiError("BAD_SERVICE")
    country = _country(p)
    if not COUNTRIES[country].multi_service:
        raise ApiError("NOT_AVAILABLE")
    world.check_account(account)
    plan = [
        (svc, fwd == "1", _in_stock(world.market.offer(country, svc), fwd == "1"))
        for svc, fwd in zip(services, forwards, strict=True)
    ]
    operator = _operator(world, p, country)
    total = sum(
        (offer.cost + (world.config.forward_fee if fwd else 0) for _, fwd, offer in plan),
        Decimal(0),
    )
    if not world.can_pay(account, total):
        raise ApiError("NO_BALANCE")
    phone = world.market.new_phone(country, world.rng, [], world.taken_phones())
    if phone is None:
        raise ApiError("NO_NUMBERS")
    modern = world.config.json_style == "modern"
    reply: list[dict[str, Any]] = []
    for svc, fwd, offer in plan:
        offer.count -= 1
        if fwd:
            offer.forward_count -= 1
        activation = _new_activation(
            world,
            account,
            Line(svc, country, operator, phone),
            cost=offer.cost + (world.config.forward_fee if fwd else 0),
            forward=fwd,
        )
        ident: int | str = activation.id if modern else str(activation.id)
        reply.append({"phone": phone, "activation": ident, "service": svc})
    return reply


# -- status actions --------------------------------------------------------------------------


def set_status(world: World, account: Account, p: Params) -> Answer:
    activation = _own(world, account, p.get("id"), ApiError("NO_ACTIVATION"))
    status = p.integer("status", None, ApiError("BAD_STATUS"))
    if status == -1:  # the legacy spelling of cancel
        status = 8
    if status not in (1, 3, 6, 8) or not activation.is_open:
        raise ApiError("BAD_STATUS")
    if activation.verification and activation.call_from is not None:
        # The seed: a call-verified activation cannot change status once the call came.
        raise ApiError("BAD_STATUS")
    forward_to = p.get("forward")
    if forward_to is not None and activation.forward:
        activation.forward_to = forward_to
    now = world.now()
    if status == 1:
        activation.ready = True
        return "ACCESS_READY"
    if status == 3:
        if activation.status is S.WAIT_RETRY:
            return "ACCESS_RETRY_GET"
        if activation.status is not S.CODE_RECEIVED or not _can_get_another_sms(activation):
            raise ApiError("BAD_STATUS")
        activation.status = S.WAIT_RETRY
        delay = world.config.auto_sms_delay
        activation.auto_sms_at = now + delay if delay is not None else None
        return "ACCESS_RETRY_GET"
    if status == 6:
        if not activation.sms:
            if world.config.finish_without_code == "cancel":
                close(world, activation, S.CANCELLED, now)
                return "ACCESS_ACTIVATION"
            raise ApiError("BAD_STATUS")
        close(world, activation, S.FINISHED, now)
        return "ACCESS_ACTIVATION"
    if activation.sms:
        raise ApiError("BAD_STATUS")
    lock = world.config.early_cancel_seconds
    if now - activation.created_at < lock:
        raise ApiError("EARLY_CANCEL_DENIED", info={"minActivationTime": int(lock)})
    close(world, activation, S.CANCELLED, now)
    return "ACCESS_CANCEL"


def get_status(world: World, account: Account, p: Params) -> Answer:
    activation = _own(world, account, p.get("id"), ApiError("NO_ACTIVATION"))
    code = activation.code
    match activation.status:
        case S.WAIT_CODE:
            return "STATUS_WAIT_CODE"
        case S.CODE_RECEIVED:
            return f"STATUS_OK:{code}"
        case S.WAIT_RETRY:
            return f"STATUS_WAIT_RETRY:{code}"
        case S.FINISHED if world.config.status_after_finish == "ok" and code is not None:
            return f"STATUS_OK:{code}"
        case _:
            return "STATUS_CANCEL"


def get_full_sms(world: World, account: Account, p: Params) -> Answer:
    activation = _own(world, account, p.get("id"), ApiError("NO_ACTIVATION"))
    if activation.sms:
        return f"FULL_SMS:{activation.sms[-1].text}"
    return "STATUS_WAIT_CODE" if activation.is_open else "STATUS_CANCEL"


def get_status_v2(world: World, account: Account, p: Params) -> Answer:
    activation = _own(world, account, p.get("id"), ApiError("WRONG_ACTIVATION_ID"))
    if activation.status in (S.CANCELLED, S.EXPIRED):
        return "STATUS_CANCEL"
    last = activation.sms[-1] if activation.sms else None
    sms = None
    call = None
    if last is not None and activation.call_from is None:
        sms = {"dateTime": world.stamp(last.at), "code": last.code, "text": last.text}
    if last is not None and activation.call_from is not None:
        call = {
            "from": activation.call_from,
            "text": last.text,
            "code": last.code,
            "dateTime": world.stamp(last.at),
            "url": None,
            "parsingCount": 1,
        }
    return {"verificationType": 1 if activation.verification else 0, "sms": sms, "call": call}


def get_active_activations(world: World, account: Account, p: Params) -> Answer:
    mine = [a for a in world.activations_by(account.key) if a.is_open]
    if not mine:
        raise ApiError("NO_ACTIVATIONS", encoding=Encoding.J_ERR)
    modern = world.config.json_style == "modern"
    rows: list[dict[str, Any]] = []
    for a in mine:
        last = a.sms[-1] if a.sms else None
        row: dict[str, Any] = {
            "activationId": str(a.id),
            "serviceCode": a.service,
            "phoneNumber": a.phone,
            "activationCost": num(a.cost) if modern else money(a.cost),
            "activationStatus": str(int(a.status)),
            "smsCode": last.code if last is not None else None,
            "smsText": last.text if last is not None else None,
            "activationTime": world.stamp(a.created_at),
            "discount": "0.00",
            "repeated": "1" if a.repeated else "0",
            "countryCode": str(a.country),
            "countryName": COUNTRIES[a.country].en,
            "canGetAnotherSms": "1" if _can_get_another_sms(a) else "0",
        }
        if modern:
            row["currency"] = world.config.currency
        rows.append(row)
    return {"status": "success", "activeActivations": rows}


def get_history(world: World, account: Account, p: Params) -> Answer:
    now = world.now()
    wrong = ApiError("WRONG_DATE")
    end = p.integer("end", int(now), wrong)
    start = p.integer("start", end - _HISTORY_WINDOW, wrong)
    if start > end or end - start > _HISTORY_WINDOW:
        raise wrong
    offset = p.count("offset", 0)
    limit = p.count("limit", 50, low=1, high=100)
    mine = sorted(
        (a for a in world.activations_by(account.key) if start <= a.created_at <= end + 1),
        key=lambda a: (a.created_at, a.id),
        reverse=True,
    )
    modern = world.config.json_style == "modern"
    rows: list[dict[str, Any]] = []
    for a in mine[offset : offset + limit]:
        row: dict[str, Any] = {
            "id": a.id,
            "date": world.stamp(a.created_at),
            "phone": a.phone,
            # The docs show "sms" as a JSON-encoded array inside a string.
            "sms": dump_json(a.codes) if a.sms else None,
            "cost": num(a.cost) if a.status is S.FINISHED else 0,
            "status": str(int(a.status)),
        }
        if modern:
            row["currency"] = world.config.currency
        rows.append(row)
    return rows


def get_incoming_call_status(world: World, account: Account, p: Params) -> Answer:
    activation = _own(world, account, p.get("activationId"), ApiError("INVALID_ACTIVATION_ID"))
    if not activation.verification:
        raise ApiError("NOT_INCOMING")
    status = {S.FINISHED: "3", S.CANCELLED: "4", S.EXPIRED: "5"}.get(activation.status, "2")
    phone: str | bool = activation.call_from if activation.call_from is not None else False
    return {"status": status, "phone": phone}


# -- forwarding add-ons and re-activation ------------------------------------------------------


def get_additional_service(world: World, account: Account, p: Params) -> Answer:
    parent = _own(world, account, p.get("id"), ApiError("WRONG_ACTIVATION_ID"))
    service = p.get("service")
    if service is None or service not in FORWARD_SERVICES:
        raise ApiError("WRONG_ADDITIONAL_SERVICE")
    if not parent.forward or not parent.is_open or not parent.sms:
        raise ApiError("WRONG_SECURITY")
    if service == parent.service or service in parent.additional_services:
        raise ApiError("REPEAT_ADDITIONAL_SERVICE")
    price = world.config.additional_service_price
    if not world.can_pay(account, price):
        raise ApiError("NO_BALANCE")
    child = _new_activation(
        world, account, replace(parent.line, service=service), cost=price, parent_id=parent.id
    )
    parent.additional_services.append(service)
    return f"ADDITIONAL:{child.id}:{child.phone}"


def _extra_price(world: World, account: Account, p: Params) -> tuple[Activation, Decimal]:
    parent = _own(world, account, p.get("activationId"), ApiError("WRONG_ACTIVATION_ID"))
    if parent.status is not S.FINISHED:
        raise ApiError("RENEW_ACTIVATION_NOT_AVAILABLE")
    if world.now() - parent.created_at > world.config.extra_activation_window:
        raise ApiError("NEW_ACTIVATION_IMPOSSIBLE")
    if world.phone_taken(parent.phone):
        raise ApiError("RENEW_ACTIVATION_NOT_AVAILABLE")
    offer = world.market.offer(parent.country, parent.service)
    return parent, offer.cost if offer is not None else parent.cost


def check_extra_activation(world: World, account: Account, p: Params) -> Answer:
    parent, price = _extra_price(world, account, p)
    return {
        "status": "success",
        "cost": num(price),
        "service": parent.service,
        "phone": int(parent.phone),
        "country": parent.country,
    }


def get_extra_activation(world: World, account: Account, p: Params) -> Answer:
    parent, price = _extra_price(world, account, p)
    if not world.can_pay(account, price):
        raise ApiError("NO_BALANCE")
    child = _new_activation(
        world, account, parent.line, cost=price, parent_id=parent.id, repeated=True
    )
    return f"ACCESS_NUMBER:{child.id}:{child.phone}"


ACTIONS: dict[str, Handler] = {
    "getNumber": get_number,
    "getNumberV2": get_number_v2,
    "getMultiServiceNumber": get_multi_service_number,
    "setStatus": set_status,
    "getStatus": get_status,
    "getStatusV2": get_status_v2,
    "getFullSms": get_full_sms,
    "getActiveActivations": get_active_activations,
    "getHistory": get_history,
    "getIncomingCallStatus": get_incoming_call_status,
    "getAdditionalService": get_additional_service,
    "checkExtraActivation": check_extra_activation,
    "getExtraActivation": get_extra_activation,
}
