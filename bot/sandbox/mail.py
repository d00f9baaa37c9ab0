"""Mail actions (protocol.md §7) and the mail lifecycle (§9.3).

Success replies use the ``{"status":"OK","response":...}`` envelope, errors
``{"status":"ERROR","error":TOKEN}``. A mailbox waits (3) for one letter; the letter makes it a
success (5); cancelling before a letter (4) refunds, and so does the lifetime running out;
cancelling after the letter ends the mailbox (6) without a refund.
``reorderMailActivation`` buys the next letter on the same address under a new id.
"""

from __future__ import annotations

import math
import re
import string
from dataclasses import asdict
from decimal import Decimal
from typing import Any

from bot.sandbox.models import Account, Address, Mail, MailStatus
from bot.sandbox.state import Handler, InvalidState, World
from bot.sandbox.texts import letter_text, random_code
from bot.sandbox.wire import Answer, ApiError, Encoding, Params, num

__all__ = ["ACTIONS", "deliver_mail", "run_due"]

M = MailStatus

# Internationalised names arrive as the protocol carries them, in punycode (xn--p1ai is .рф).
_SITE_RE = re.compile(
    r"^(?=.{4,253}$)(?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+(?:[a-z]{2,63}|xn--[a-z0-9-]{1,59})$"
)
_LOGINS = ("alex", "maria", "ivan", "kate", "john", "olga", "max", "anna", "dmitry", "lena")
_ZONE_WORDS = ("mailbox", "postbox", "inbox", "letters", "mymail", "webpost")


def _error(token: str) -> ApiError:
    return ApiError(token, encoding=Encoding.J_MAIL)


def _ok(response: object) -> dict[str, Any]:
    return {"status": "OK", "response": response}


# -- lifecycle -------------------------------------------------------------------------------


def deliver_mail(world: World, mail: Mail, text: str, value: str, at: float) -> None:
    if mail.status is not M.WAITING:
        raise InvalidState(f"mail {mail.id} is not waiting for a letter ({mail.status.name})")
    mail.value = value
    mail.full_message = text
    mail.letter_at = at
    mail.status = M.SUCCESS
    mail.auto_letter_at = None


def _close(world: World, mail: Mail, at: float) -> None:
    mail.status = M.CANCELLED
    mail.closed_at = at
    mail.auto_letter_at = None
    world.refund(world.accounts[mail.key], mail.cost)


def run_due(world: World, now: float) -> None:
    for mail in world.mails.values():
        if mail.status is not M.WAITING:
            continue
        due = mail.auto_letter_at
        if due is not None and due <= now and due < mail.expires_at:
            code = random_code(world.rng)
            token = "".join(world.rng.choice(string.ascii_letters) for _ in range(24))
            link = f"https://{mail.site}/confirm?token={token}"
            deliver_mail(world, mail, letter_text(mail.site, code, token), link, due)
        elif mail.expires_at <= now:
            _close(world, mail, mail.expires_at)


# -- helpers ---------------------------------------------------------------------------------


def _site(p: Params) -> str:
    site = (p.get("site") or "").lower()
    if not _SITE_RE.match(site):
        raise _error("BAD_SITE")
    return site


def _own(world: World, account: Account, p: Params) -> Mail:
    raw = p.get("id")
    mail = world.mails.get(int(raw)) if raw is not None and raw.isdigit() else None
    if mail is None or mail.key != account.key:
        raise _error("ACTIVATION_NOT_FOUND")
    return mail


def _open(
    world: World,
    account: Account,
    address: Address,
    *,
    cost: Decimal,
    parent_id: int | None = None,
) -> Mail:
    now = world.now()
    world.charge(account, cost)
    delay = world.config.auto_sms_delay
    mail = Mail(
        id=world.new_id("mail"),
        key=account.key,
        **asdict(address),
        cost=cost,
        created_at=now,
        expires_at=now + world.config.mail_lifetime,
        auto_letter_at=now + delay if delay is not None else None,
        parent_id=parent_id,
    )
    world.mails[mail.id] = mail
    return mail


# -- actions ---------------------------------------------------------------------------------


def get_domains(world: World, account: Account, p: Params) -> Answer:
    _site(p)
    market = world.market
    return _ok(
        {
            "zones": [{"name": z, "cost": num(c)} for z, c in market.mail_zones.items()],
            "popular": [
                {"name": d, "cost": num(o.cost), "count": o.count}
                for d, o in market.mail_popular.items()
            ],
        }
    )


def buy_mail_activation(world: World, account: Account, p: Params) -> Answer:
    site = _site(p)
    world.check_account(account, Encoding.J_MAIL)
    if site in world.config.blocked_mail_sites:
        raise _error("BLOCKED_SITE")
    mail_type = p.get("mail_type")
    domain = (p.get("mail_domain") or "").lower()
    market = world.market
    login = f"{world.rng.choice(_LOGINS)}.{world.rng.randrange(1000, 99999)}"
    if mail_type == "1" and domain in market.mail_zones:
        cost = market.mail_zones[domain]
        email = f"{login}@{world.rng.choice(_ZONE_WORDS)}.{domain}"
    elif mail_type == "2" and domain in market.mail_popular:
        offer = market.mail_popular[domain]
        if offer.count <= 0:
            raise _error("MAIL_TYPE_ERROR")
        cost = offer.cost
        email = f"{login}@{domain}"
    else:
        raise _error("MAIL_TYPE_ERROR")
    if not world.can_pay(account, cost):
        raise _error("BAD_BALANCE")
    if mail_type == "2":
        market.mail_popular[domain].count -= 1
    mail = _open(world, account, Address(site, email, domain, int(mail_type)), cost=cost)
    return _ok({"email": mail.email, "id": mail.id})


def check_mail_activation(world: World, account: Account, p: Params) -> Answer:
    mail = _own(world, account, p)
    if mail.status is M.WAITING:
        raise _error("WAIT_LINK")
    if mail.status is M.CANCELLED:
        raise _error("STATUS_CANCEL")
    return _ok({"value": mail.value, "full_message": mail.full_message})


def cancel_mail_activation(world: World, account: Account, p: Params) -> Answer:
    mail = _own(world, account, p)
    if mail.status is M.SUCCESS:
        # The letter was delivered: the mailbox just ends, and nothing is refunded.
        mail.status = M.FINISHED
        mail.closed_at = world.now()
        return _ok(True)
    if mail.status is not M.WAITING:
        raise _error("BAD_STATUS")
    _close(world, mail, world.now())
    return _ok(True)


def reorder_mail_activation(world: World, account: Account, p: Params) -> Answer:
    mail = _own(world, account, p)
    if mail.site in world.config.blocked_mail_sites:
        raise _error("BLOCKED_SITE")
    if mail.status is not M.SUCCESS:
        raise _error("BAD_STATUS")
    world.check_account(account, Encoding.J_MAIL)
    if not world.can_pay(account, mail.cost):
        raise _error("BAD_BALANCE")
    renewed = _open(world, account, mail.address, cost=mail.cost, parent_id=mail.id)
    return _ok({"email": renewed.email, "id": renewed.id})


def get_mail_history(world: World, account: Account, p: Params) -> Answer:
    page = p.count("page", 1, low=1)
    per_page = p.count("per_page", 10, low=1, high=100)
    needle = (p.get("search") or "").lower()
    mine = [
        m
        for m in world.mails.values()
        if m.key == account.key and (needle in m.email.lower() or needle in m.site)
    ]
    mine.sort(key=lambda m: m.id, reverse=(p.get("sort") or "desc").lower() != "asc")
    rows = [
        {
            "id": str(m.id),
            "site": m.site,
            "email": m.email,
            "status": str(int(m.status)),
            "value": m.value,
            "cost": str(m.cost.quantize(Decimal("0.01"))),
            "date": world.stamp(m.created_at),
            "full_message": m.full_message,
        }
        for m in mine[(page - 1) * per_page : page * per_page]
    ]
    pages = max(math.ceil(len(mine) / per_page), 1)
    return _ok({"list": rows, "pages": pages, "count": len(mine)})


ACTIONS: dict[str, Handler] = {
    "getDomains": get_domains,
    "buyMailActivation": buy_mail_activation,
    "checkMailActivation": check_mail_activation,
    "cancelMailActivation": cancel_mail_activation,
    "reorderMailActivation": reorder_mail_activation,
    "getMailHistory": get_mail_history,
}
