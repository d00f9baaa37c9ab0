"""The activation card and the code push: pure text and markup from a record.

Handlers and the worker render with this, inside the user's locale.
"""

from __future__ import annotations

import math
import time

from aiogram.types import InlineKeyboardMarkup
from aiogram.utils.i18n import gettext as _
from aiogram.utils.keyboard import InlineKeyboardBuilder

from bot.catalogue import country, service_name
from bot.keyboards.callbacks import ActAction, ActCallback
from bot.storage.activations import Activation, State
from bot.texts import escape, money

#: Telegram voids its own login codes once they appear in a chat, so they are spaced out.
SPACED_SERVICES = frozenset({"tg"})


def format_code(service: str, code: str) -> str:
    if service in SPACED_SERVICES:
        return " ".join(code.replace(" ", ""))
    return code


def spacing_note(service: str) -> str | None:
    if service not in SPACED_SERVICES:
        return None
    return _(
        "The code is spaced out on purpose: Telegram cancels its own login codes that are "
        "posted in a chat. Type the digits without spaces."
    )


def phone_lines(phone: str, country_id: int | None) -> list[str]:
    lines = [f"📱 <code>+{escape(phone)}</code>"]
    info = country(country_id) if country_id is not None else None
    if info is not None and info.dial and phone.startswith(info.dial) and len(phone) > 6:
        local = phone[len(info.dial) :]
        lines.append(
            _("Without the country code: {number}").format(number=f"<code>{escape(local)}</code>")
        )
    return lines


def where(activation: Activation, locale: str) -> str:
    parts = [escape(service_name(activation.service, locale))]
    info = country(activation.country) if activation.country is not None else None
    if info is not None:
        parts.append(f"{info.flag} {escape(info.name(locale))}")
    if activation.operator and activation.operator != "any":
        parts.append(escape(activation.operator))
    if activation.cost is not None:
        parts.append(money(activation.cost))
    return " · ".join(parts)


def minutes_left(activation: Activation, now: float) -> int:
    return math.ceil(activation.seconds_left(now) / 60)


def state_line(activation: Activation, now: float) -> str:
    match activation.state:
        case State.WAITING:
            return _("Waiting for the SMS…")
        case State.CODE:
            if activation.can_retry:
                return _("Code received. Finish if it worked, or ask for another code.")
            return _("Code received. Finish if it worked.")
        case State.RETRY:
            return _("Waiting for another code…")
        case State.FINISHED:
            return "✅ " + _("Finished.")
        case State.CANCELLED:
            return "❌ " + _("Cancelled, the money is refunded.")
        case State.EXPIRED:
            return "⌛ " + _("Expired without a code, the money is refunded.")
    return ""


def card_text(activation: Activation, locale: str, now: float | None = None) -> str:
    moment = time.time() if now is None else now
    lines = [*phone_lines(activation.phone, activation.country), where(activation, locale)]
    if activation.is_open:
        left = minutes_left(activation, moment)
        if left > 1:
            lines.append("⏳ " + _("{minutes} min left").format(minutes=left))
        elif left == 1:
            lines.append("⏳ " + _("less than a minute left"))
    lines.append(state_line(activation, moment))
    if activation.codes:
        lines.append("")
        lines.append(_("Codes:"))
        for index, code in enumerate(activation.codes, start=1):
            shown = escape(format_code(activation.service, code.code))
            lines.append(f"{index}. <code>{shown}</code>")
    if activation.external:
        lines.append("")
        lines.append(_("Bought outside the bot."))
    return "\n".join(lines)


def card_keyboard(
    activation: Activation, *, ready_status: bool, extra: bool
) -> InlineKeyboardMarkup | None:
    """Only the actions the provider allows in the activation's state."""
    builder = InlineKeyboardBuilder()
    ident = activation.id
    match activation.state:
        case State.WAITING:
            if ready_status and not activation.ready_sent:
                builder.button(
                    text=_("SMS sent"), callback_data=ActCallback(action=ActAction.READY, id=ident)
                )
            builder.button(
                text=_("Cancel"), callback_data=ActCallback(action=ActAction.CANCEL, id=ident)
            )
        case State.CODE:
            builder.button(
                text=_("Finish"), callback_data=ActCallback(action=ActAction.FINISH, id=ident)
            )
            if activation.can_retry:
                builder.button(
                    text=_("Another code"),
                    callback_data=ActCallback(action=ActAction.ANOTHER, id=ident),
                )
        case State.RETRY:
            builder.button(
                text=_("Finish"), callback_data=ActCallback(action=ActAction.FINISH, id=ident)
            )
        case _:
            if activation.options is not None:
                builder.button(
                    text=_("Buy again"),
                    callback_data=ActCallback(action=ActAction.AGAIN, id=ident),
                )
            if extra and activation.state is State.FINISHED:
                builder.button(
                    text=_("Use this number again"),
                    callback_data=ActCallback(action=ActAction.EXTRA, id=ident),
                )
    if activation.is_open:
        builder.button(
            text="🔄 " + _("Refresh"),
            callback_data=ActCallback(action=ActAction.REFRESH, id=ident),
        )
    builder.adjust(2)
    markup = builder.as_markup()
    return markup if markup.inline_keyboard else None


def code_push(activation: Activation, code: str, locale: str) -> str:
    lines = [
        "🔑 "
        + _("Code for {service} on {phone}:").format(
            service=escape(service_name(activation.service, locale)),
            phone=f"+{escape(activation.phone)}",
        ),
        f"<code>{escape(format_code(activation.service, code))}</code>",
    ]
    note = spacing_note(activation.service)
    if note:
        lines.append(f"<i>{note}</i>")
    return "\n".join(lines)
