"""The rent card, the SMS push and the end-of-rent reminder: pure text and markup.

Handlers and the worker render with this, inside the user's locale. Times are UTC.
"""

from __future__ import annotations

import math
import re
import time
from datetime import UTC, datetime

from aiogram.types import InlineKeyboardMarkup
from aiogram.utils.i18n import gettext as _

from bot.catalogue import country, service_name
from bot.keyboards.rent import CardLabels, card_keyboard, extend_button
from bot.services.rent_rules import CANCEL_WINDOW, can_cancel, can_extend
from bot.storage.rents import Rent, RentSms, RentState
from bot.texts import escape, money
from bot.views.activation import phone_lines

#: The card shows the latest SMS only (Telegram caps a message at 4096 characters).
CARD_SMS = 5
CARD_SMS_CHARS = 300
PUSH_CHARS = 3500

# A code: 4 to 8 digits, or two groups of three ("123-456"), not inside a longer number.
_CODE = re.compile(r"(?<!\w)(\d{3}[- ]\d{3}|\d{4,8})(?!\w)")


def utc_time(timestamp: float) -> str:
    return datetime.fromtimestamp(timestamp, UTC).strftime("%Y-%m-%d %H:%M") + " UTC"


def duration_label(hours: int) -> str:
    match hours:
        case 24:
            return _("1 day")
        case 48:
            return _("2 days")
        case 72:
            return _("3 days")
        case 168:
            return _("7 days")
        case 336:
            return _("14 days")
        case 720:
            return _("30 days")
    if hours % 24 == 0:
        return _("{days} d").format(days=hours // 24)
    return _("{hours} h").format(hours=hours)


def countdown(seconds: float) -> str:
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


def highlight(text: str, limit: int) -> str:
    """The SMS text, escaped and shortened, with the code (if any) in monospace to copy."""
    shown = text if len(text) <= limit else text[: limit - 1] + "…"
    safe = escape(shown)
    return _CODE.sub(lambda m: f"<code>{m.group(1)}</code>", safe, count=1)


def service_label(rent: Rent, locale: str) -> str:
    """The rented service; "—" for a rent made elsewhere (the provider's list does not say)."""
    return service_name(rent.service, locale) if rent.service else "—"


def where(rent: Rent, locale: str) -> str:
    parts = [escape(service_label(rent, locale))]
    info = country(rent.country) if rent.country is not None else None
    if info is not None:
        parts.append(f"{info.flag} {escape(info.name(locale))}")
    if rent.operator and rent.operator != "any":
        parts.append(escape(rent.operator))
    if rent.cost is not None:
        parts.append(money(rent.cost))
    return " · ".join(parts)


def _time_lines(rent: Rent, now: float) -> list[str]:
    if not rent.is_open:
        # Closed early by the user, or noticed a little after its end time by a poll.
        known = [t for t in (rent.closed_at, rent.ends_at) if t is not None]
        return [_("Ended {time}").format(time=utc_time(min(known)))] if known else []
    if rent.ends_at is None:
        return [_("End time unknown: rented outside the bot. Extending sets it.")]
    lines = [
        "⏳ "
        + _("Until {time} · {left}").format(
            time=utc_time(rent.ends_at), left=countdown(rent.ends_at - now)
        )
    ]
    if can_cancel(rent, now):
        deadline = utc_time(rent.created_at + CANCEL_WINDOW)
        lines.append(_("Cancel with a refund until {time}.").format(time=deadline))
    return lines


def state_line(rent: Rent) -> str:
    match rent.state:
        case RentState.ACTIVE:
            return _("Every SMS to this number comes here.")
        case RentState.FINISHED:
            return "✅ " + _("The rent is over.")
        case RentState.CANCELLED:
            return "❌ " + _("Cancelled, the money is refunded.")
        case RentState.REVOKED:
            return "⚠ " + _("The provider took the number back; the money is refunded.")
    return ""


def _sms_lines(rent: Rent) -> list[str]:
    if not rent.sms:
        return [_("No SMS yet.")] if rent.is_open else []
    lines = [_("SMS received: {count}").format(count=len(rent.sms))]
    earlier = len(rent.sms) - CARD_SMS
    if earlier > 0:
        lines.append(_("…and {count} earlier.").format(count=earlier))
    for sms in rent.sms[-CARD_SMS:]:
        lines.append(f"<b>{utc_time(sms.at)}</b> · {escape(sms.phone_from or '—')}")
        lines.append(highlight(sms.text, CARD_SMS_CHARS))
    return lines


def card_text(rent: Rent, locale: str, now: float | None = None) -> str:
    moment = time.time() if now is None else now
    lines = [*phone_lines(rent.phone, rent.country), where(rent, locale)]
    lines += _time_lines(rent, moment)
    lines.append(state_line(rent))
    sms = _sms_lines(rent)
    if sms:
        lines.append("")
        lines += sms
    if rent.external:
        lines.append("")
        lines.append(_("Rented outside the bot."))
    return "\n".join(lines)


def card_markup(rent: Rent, now: float | None = None) -> InlineKeyboardMarkup | None:
    """Only what the provider allows now: Cancel inside the cancel window, Extend if it can."""
    moment = time.time() if now is None else now
    labels = CardLabels(
        finish=_("Finish") if rent.is_open else None,
        cancel=_("Cancel") if can_cancel(rent, moment) else None,
        extend=_("Extend") if can_extend(rent) else None,
        refresh="🔄 " + _("Refresh") if rent.is_open else None,
    )
    return card_keyboard(rent.id, labels)


def _countdown_step(seconds: float) -> int:
    """The card's countdown is redrawn when this changes (not every minute)."""
    if seconds > 2 * 86400:
        step = 6 * 3600
    elif seconds > 2 * 3600:
        step = 3600
    else:
        step = 600
    return math.ceil(seconds / step)


def card_signature(rent: Rent, now: float) -> str:
    """What the card shows, in short: the worker redraws the card when it changes."""
    left = rent.seconds_left(now)
    step = _countdown_step(left) if left is not None and rent.is_open else -1
    return (
        f"{rent.id}:{rent.state.value}:{len(rent.sms)}:{rent.ends_at}:"
        f"{int(can_cancel(rent, now))}:{step}"
    )


def sms_push(rent: Rent, sms: RentSms) -> str:
    head = "✉️ " + _("SMS to {phone} from {sender}, {time}:").format(
        phone=f"+{escape(rent.phone)}",
        sender=f"<b>{escape(sms.phone_from or '—')}</b>",
        time=utc_time(sms.at),
    )
    return f"{head}\n{highlight(sms.text, PUSH_CHARS)}"


def reminder(rent: Rent, now: float) -> tuple[str, InlineKeyboardMarkup]:
    assert rent.ends_at is not None
    text = "⏰ " + _(
        "The rent of {phone} ends at {time} ({left}). Extend it to keep the number."
    ).format(
        phone=f"<code>+{escape(rent.phone)}</code>",
        time=utc_time(rent.ends_at),
        left=countdown(rent.ends_at - now),
    )
    return text, extend_button(rent.id, _("Extend"))
