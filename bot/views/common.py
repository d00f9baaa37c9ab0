"""Pieces of text every card uses."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal

from bot.catalogue import country, service_name
from bot.i18n import gettext as _
from bot.storage.records import UserRecord
from bot.texts import escape, money

#: Telegram voids its own login codes once they appear in a chat, so they are spaced out
#: wherever the bot shows one: pushes, cards, lists, history, a rented number's SMS.
SPACED_SERVICES = frozenset({"tg"})


def format_code(service: str | None, code: str) -> str:
    if service in SPACED_SERVICES:
        return " ".join(code.replace(" ", ""))
    return code


def clock_time(at: float) -> str:
    """``14:32 UTC``: the bot does not know the user's time zone. Seconds are cut, so the end
    shown is never later than the real one."""
    return datetime.fromtimestamp(at, UTC).strftime("%H:%M") + " UTC"


def countdown(seconds: float) -> str:
    """``15 min left``, ``2 h 5 min left``: whole minutes, rounded up."""
    minutes = math.ceil(seconds / 60)
    if minutes >= 24 * 60:
        days, rest = divmod(minutes, 24 * 60)
        return _("{days} d {hours} h left").format(days=days, hours=rest // 60)
    if minutes >= 60:
        hours, rest = divmod(minutes, 60)
        return _("{hours} h {minutes} min left").format(hours=hours, minutes=rest)
    if minutes > 1:
        return _("{minutes} min left").format(minutes=minutes)
    return _("less than a minute left")


def until(ends_at: float, now: float, shown: str | None = None) -> str:
    """``Until 14:32 UTC · 15 min left``. The end time stays true however long the card goes
    unedited; the minutes are as of drawing, and cards are redrawn at the countdown's
    milestones (worker/pacing.py) and on every tap, not every minute. ``shown``: the end as
    the caller writes it (a rent's has the date)."""
    return _("Until {time} · {left}").format(
        time=shown or clock_time(ends_at), left=countdown(ends_at - now)
    )


def where_line(
    label: str, country_id: int | None, operator: str | None, cost: Decimal | None, locale: str
) -> str:
    """``Telegram · 🇮🇩 Indonesia · tsel · 0.27``: what, where, through whom, for how much."""
    parts = [escape(label)]
    info = country(country_id) if country_id is not None else None
    if info is not None:
        parts.append(f"{info.flag} {escape(info.name(locale))}")
    if operator and operator != "any":
        parts.append(escape(operator))
    if cost is not None:
        parts.append(money(cost))
    return " · ".join(parts)


def price_sum(
    parts: Sequence[tuple[str, Decimal | None]], total: Decimal | None, locale: str
) -> str:
    """``Telegram 0.25 + WhatsApp 0.30 = 0.55``: each service's price on one number, and the
    total (``total``, or their sum when every price is known)."""
    items = " + ".join(
        f"{escape(service_name(code, locale))} {money(cost)}" for code, cost in parts
    )
    costs = [cost for _, cost in parts if cost is not None]
    if total is None and len(costs) == len(parts):
        total = sum(costs, Decimal(0))
    return f"{items} = {money(total)}" if total is not None else items


#: Marks an item of a list bought with a provider account the user has since removed.
OTHER_ACCOUNT_MARK = "🔒"


@dataclass(frozen=True, slots=True)
class ItemLabels:
    """The account each item of a list was bought with, by the item's ref (only where it is
    worth saying: the user has several accounts, or removed that one), and the titles of
    removed accounts that items of the list belong to."""

    by_ref: Mapping[str, str] = field(default_factory=dict)
    gone: frozenset[str] = frozenset()

    def of(self, record: UserRecord) -> str | None:
        return self.by_ref.get(record.ref)


def account_label(title: str) -> str:
    """``🔒 SMSHub``: the removed account an item of a list was bought with (plain text, for
    buttons too: escape it for a message)."""
    return f"{OTHER_ACCOUNT_MARK} {title}"


def with_account(label: str, account: str | None) -> str:
    """A list's button for an item, led by the account it was bought with, if worth saying."""
    return label if account is None else f"{account} · {label}"


def other_accounts_note(labels: ItemLabels) -> str:
    """Under a list with items of removed accounts: why they do not open."""
    if not labels.gone:
        return ""
    return "\n\n" + _(
        "{mark} Bought with another provider account ({accounts}): connect that account's key "
        "again with /key to open them."
    ).format(mark=OTHER_ACCOUNT_MARK, accounts=escape(", ".join(sorted(labels.gone))))
