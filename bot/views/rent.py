"""Renting texts: the /rent steps, the extension dialog, /rents, the card, the SMS push and
the end-of-rent reminder. Pure text and markup.

Handlers and the worker render with this, inside the user's locale. Times are UTC. Provider
titles come in raw and are escaped here.
"""

from __future__ import annotations

import math
import re
import time
from collections.abc import Sequence
from datetime import UTC, datetime
from decimal import Decimal

from bot.catalogue import country, service_name
from bot.i18n import gettext as _
from bot.i18n import ngettext
from bot.keyboards.markup import Keyboard
from bot.keyboards.rent import CardLabels, ConfirmLabels, card_keyboard, extend_button
from bot.services.rent_rules import (
    CANCEL_WINDOW,
    MAX_HOURS,
    MIN_HOURS,
    Quote,
    RentChoice,
    can_cancel,
    can_extend,
)
from bot.storage.rents import Rent, RentSms, RentState
from bot.texts import escape, money, offer_line
from bot.views.activation import phone_lines
from bot.views.common import (
    ItemLabels,
    countdown,
    format_code,
    other_accounts_note,
    until,
    where_line,
    with_account,
)

#: The card shows the latest SMS only (Telegram caps a message at 4096 characters).
CARD_SMS = 5
CARD_SMS_CHARS = 300
PUSH_CHARS = 3500

# A code: 4 to 8 digits, or two groups of three ("123-456"), not inside a longer number.
_CODE = re.compile(r"(?<!\w)(\d{3}[- ]\d{3}|\d{4,8})(?!\w)")


def utc_time(timestamp: float) -> str:
    return datetime.fromtimestamp(timestamp, UTC).strftime("%Y-%m-%d %H:%M") + " UTC"


def duration_label(hours: int) -> str:
    # The usual lengths are named whole; translated on each call, in the user's language.
    named = {
        24: _("1 day"),
        48: _("2 days"),
        72: _("3 days"),
        168: _("7 days"),
        336: _("14 days"),
        720: _("30 days"),
    }
    if hours in named:
        return named[hours]
    if hours % 24 == 0:
        return _("{days} d").format(days=hours // 24)
    return _("{hours} h").format(hours=hours)


def highlight(text: str, limit: int, service: str | None = None) -> str:
    """The SMS text, escaped and shortened, with the code (if any) in monospace to copy.

    A code of a spaced service is spaced at every place it stands, links included: Telegram
    voids a login code posted in a chat, whether alone or inside t.me/login/<code>."""
    shown = text if len(text) <= limit else text[: limit - 1] + "…"
    safe = escape(shown)
    found = _CODE.search(safe)
    if found is None:
        return safe
    code = found.group(1)
    spaced = format_code(service, code)
    if spaced != code:
        before, after = safe[: found.start()], safe[found.end() :]
        return f"{before.replace(code, spaced)}<code>{spaced}</code>{after.replace(code, spaced)}"
    return f"{safe[: found.start()]}<code>{code}</code>{safe[found.end() :]}"


def _sms_service(rent: Rent, sms: RentSms) -> str | None:
    """The service an SMS is from: Telegram's when it signs the SMS (a whole-number rent, or
    one made elsewhere, gets SMS of every service), else the rent's."""
    if (sms.phone_from or "").strip().lower() == "telegram":
        return "tg"
    return rent.service or None


def service_label(rent: Rent, locale: str) -> str:
    """The rented service; "—" for a rent made elsewhere (the provider's list does not say)."""
    return service_name(rent.service, locale) if rent.service else "—"


def where(rent: Rent, locale: str) -> str:
    label = service_label(rent, locale)
    return where_line(label, rent.country, rent.operator, rent.cost, locale)


def _time_lines(rent: Rent, now: float) -> list[str]:
    if not rent.is_open:
        # Closed early by the user, or noticed a little after its end time by a poll.
        known = [t for t in (rent.closed_at, rent.ends_at) if t is not None]
        return [_("Ended {time}").format(time=utc_time(min(known)))] if known else []
    if rent.ends_at is None:
        return [_("End time unknown: rented outside the bot. Extending sets it.")]
    lines = ["⏳ " + until(rent.ends_at, now, utc_time(rent.ends_at))]
    if can_cancel(rent, now):
        deadline = utc_time(rent.created_at + CANCEL_WINDOW)
        lines.append(_("Cancel with a refund until {time}.").format(time=deadline))
    return lines


def state_line(rent: Rent) -> str:
    lines = {
        RentState.ACTIVE: _("Every SMS to this number comes here."),
        RentState.FINISHED: "✅ " + _("The rent is over."),
        RentState.CANCELLED: "❌ " + _("Cancelled, the money is refunded."),
        RentState.REVOKED: "⚠ " + _("The provider took the number back; the money is refunded."),
    }
    return lines.get(rent.state, "")


def _sms_lines(rent: Rent) -> list[str]:
    if not rent.sms:
        return [_("No SMS yet.")] if rent.is_open else []
    lines = [_("SMS received: {count}").format(count=len(rent.sms))]
    earlier = len(rent.sms) - CARD_SMS
    if earlier > 0:
        lines.append(_("…and {count} earlier.").format(count=earlier))
    for sms in rent.sms[-CARD_SMS:]:
        lines.append(f"<b>{utc_time(sms.at)}</b> · {escape(sms.phone_from or '—')}")
        lines.append(highlight(sms.text, CARD_SMS_CHARS, _sms_service(rent, sms)))
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


def card_markup(rent: Rent, now: float | None = None) -> Keyboard | None:
    """Only what the provider allows now: Cancel inside the cancel window, Extend if it can."""
    moment = time.time() if now is None else now
    labels = CardLabels(
        finish=_("Finish") if rent.is_open else None,
        cancel=_("Cancel") if can_cancel(rent, moment) else None,
        extend=_("Extend") if can_extend(rent) else None,
        refresh="🔄 " + _("Refresh") if rent.is_open else None,
    )
    return card_keyboard(rent.id, labels)


def _countdown_step(seconds: float) -> str:
    """The card's countdown is redrawn when this changes (not every minute: the card also
    shows the end time; in the last five minutes, every minute)."""
    if seconds > 2 * 86400:
        step = 6 * 3600
    elif seconds > 2 * 3600:
        step = 3600
    elif seconds > 5 * 60:
        step = 600
    else:
        step = 60
    return f"{step}/{math.ceil(seconds / step)}"


def card_signature(rent: Rent, now: float) -> str:
    """What the card shows, in short: the worker redraws the card when it changes."""
    left = rent.seconds_left(now)
    step = _countdown_step(left) if left is not None and rent.is_open else "-"
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
    return f"{head}\n{highlight(sms.text, PUSH_CHARS, _sms_service(rent, sms))}"


def reminder(rent: Rent, now: float) -> tuple[str, Keyboard]:
    assert rent.ends_at is not None
    text = "⏰ " + _(
        "The rent of {phone} ends at {time} ({left}). Extend it to keep the number."
    ).format(
        phone=f"<code>+{escape(rent.phone)}</code>",
        time=utc_time(rent.ends_at),
        left=countdown(rent.ends_at - now),
    )
    return text, extend_button(rent.id, _("Extend"))


# --- the /rent steps ---


def country_label(country_id: int, locale: str) -> str:
    info = country(country_id)
    return f"{info.flag} {info.name(locale)}" if info else f"#{country_id}"


def not_offered_text(provider: str) -> str:
    return _("{provider} does not rent numbers. /buy works with it.").format(
        provider=escape(provider)
    )


def hours_problem(hours: int | None) -> str | None:
    """Why typed hours (None: not a number) cannot be used, or None when they can."""
    if hours is None:
        return _(
            "That is not a number of hours. Send a whole number from {low} to {high}, or /cancel."
        ).format(low=MIN_HOURS, high=MAX_HOURS)
    if not MIN_HOURS <= hours <= MAX_HOURS:
        return _("A rent lasts {low} to {high} hours. Send a number in that range.").format(
            low=MIN_HOURS, high=MAX_HOURS
        )
    return None


def durations_text(provider: str, offered: bool) -> str:
    lines = [
        _(
            "Rent a number: for how long? Choose, or type a number of hours ({low} to {high})."
        ).format(low=MIN_HOURS, high=MAX_HOURS)
    ]
    if not offered:
        lines.append(
            _("{provider} accepts none of the usual durations right now.").format(
                provider=escape(provider)
            )
        )
    return "\n".join(lines)


def duration_refused(provider: str, hours: int) -> str:
    return _("{provider} does not rent for {duration}. Choose one of the durations.").format(
        provider=escape(provider), duration=duration_label(hours)
    )


def countries_text(hours: int) -> str:
    return _("{duration}: choose the country, or type its name.").format(
        duration=f"<b>{duration_label(hours)}</b>"
    )


def no_services_text(country_id: int, hours: int, locale: str) -> str:
    return _(
        "No numbers for rent in {country} for {duration} right now. Choose another country."
    ).format(country=escape(country_label(country_id, locale)), duration=duration_label(hours))


def services_text(country_id: int, hours: int, locale: str) -> str:
    place = escape(country_label(country_id, locale))
    return "\n".join(
        [
            _(
                "{country} · {duration}: choose the service (price · numbers), or type its name."
            ).format(country=place, duration=f"<b>{duration_label(hours)}</b>"),
            _("“Whole number” receives SMS from any service."),
        ]
    )


def choice_label(choice: RentChoice, locale: str) -> str:
    return f"{service_name(choice.service, locale)} · {money(choice.price)} · {choice.count}"


def confirm_text(
    choice: RentChoice,
    country_id: int,
    hours: int,
    operator: str | None,
    offers_operators: bool,
    balance: Decimal,
    locale: str,
) -> str:
    lines = [
        f"<b>{escape(service_name(choice.service, locale))}</b> · "
        f"{escape(country_label(country_id, locale))}",
        _("Duration: {duration}").format(duration=duration_label(hours)),
        offer_line(choice.price, choice.count),
        _("Balance: {balance} → {after} after the purchase").format(
            balance=money(balance), after=money(balance - choice.price)
        ),
    ]
    if balance < choice.price:
        lines.append("⚠ " + _("Not enough money for this purchase: top up your balance first."))
    if offers_operators:
        lines.append(_("Operator: {operator}").format(operator=escape(operator or _("any"))))
    lines.append(
        ngettext(
            "You can cancel with a refund in the first {minutes} minute.",
            "You can cancel with a refund in the first {minutes} minutes.",
            int(CANCEL_WINDOW // 60),
        ).format(minutes=int(CANCEL_WINDOW // 60))
    )
    return "\n".join(lines)


def confirm_labels(price: Decimal, operator: str | None, offers_operators: bool) -> ConfirmLabels:
    return ConfirmLabels(
        rent=_("Rent for {price}").format(price=money(price)),
        operator=_("Operator: {operator}").format(operator=operator or _("any"))
        if offers_operators
        else None,
        back=_("Services"),
        cancel=_("Cancel"),
    )


# --- extending ---


def _phone(rent: Rent) -> str:
    return f"<code>+{escape(rent.phone)}</code>"


def extend_durations_text(rent: Rent) -> str:
    lines = [
        _(
            "Extend {phone}: for how long? Choose, or type a number of hours ({low} to {high})."
        ).format(phone=_phone(rent), low=MIN_HOURS, high=MAX_HOURS)
    ]
    if not rent.is_open:
        lines.append(_("The rent is over: extending rents the same number again, from now."))
    return "\n".join(lines)


def quote_text(rent: Rent, quote: Quote, balance: Decimal, provider: str) -> str:
    lines = [
        _("Extend {phone} by {duration}.").format(
            phone=_phone(rent), duration=duration_label(quote.hours)
        )
    ]
    if quote.renews:
        lines.append(_("The rent is over: this rents the same number again, from now."))
    if quote.price is None:
        lines.append(
            _("{provider} does not tell this price in advance; it charges its tariff.").format(
                provider=escape(provider)
            )
        )
    else:
        price = money(quote.price)
        lines.append(
            _("Price: {price}").format(price=price)
            if quote.exact
            else _("Price: about {price} (the provider's list price).").format(price=price)
        )
        lines.append(
            _("Balance: {balance} → {after} after the purchase").format(
                balance=money(balance), after=money(balance - quote.price)
            )
        )
    if quote.ends_at is not None:
        lines.append(_("New end: {time}").format(time=utc_time(quote.ends_at)))
    return "\n".join(lines)


def quote_label(quote: Quote) -> str:
    if quote.price is None:
        return _("Extend")
    return _("Extend for {price}").format(price=money(quote.price))


def longest_offer(max_hours: int | None) -> tuple[str, int] | None:
    """The button after MAX_HOURS_EXCEED: (label, hours), if the maximum can be rented."""
    if max_hours is None or max_hours < MIN_HOURS:
        return None
    return _("Extend by {duration}").format(duration=duration_label(max_hours)), max_hours


def extended_text(rent: Rent) -> str:
    if rent.ends_at is None:
        return _("Extended: {phone}.").format(phone=_phone(rent))
    return _("Extended: {phone} is yours until {time}.").format(
        phone=_phone(rent), time=utc_time(rent.ends_at)
    )


# --- /rents ---

_STATE_MARKS = {
    RentState.ACTIVE: "🟢",
    RentState.FINISHED: "✅",
    RentState.CANCELLED: "❌",
    RentState.REVOKED: "⚠",
}


def _list_line(rent: Rent, locale: str, labels: ItemLabels) -> str:
    parts = [_phone(rent), escape(service_label(rent, locale))]
    if rent.is_open and rent.ends_at is not None:
        parts.append(_("until {time}").format(time=utc_time(rent.ends_at)))
    if (account := labels.of(rent)) is not None:
        parts.append(escape(account))
    return f"{_STATE_MARKS[rent.state]} " + " · ".join(parts)


def rents_text(rents: Sequence[Rent], locale: str, labels: ItemLabels) -> str:
    """``labels``: the account each rent was taken with, where worth saying."""
    lines = [_("Your rents:"), *(_list_line(rent, locale, labels) for rent in rents)]
    return "\n".join(lines) + other_accounts_note(labels)


def rent_button_label(rent: Rent, locale: str, labels: ItemLabels) -> str:
    label = f"+{rent.phone} · {service_label(rent, locale)}"
    return with_account(label, labels.of(rent))
