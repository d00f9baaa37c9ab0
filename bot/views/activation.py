"""The activation card and the code push: pure text and markup from a record.

Handlers and the worker render with this, inside the user's locale.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from decimal import Decimal

from bot.catalogue import country, service_name
from bot.i18n import gettext as _
from bot.keyboards.activation import (
    active_keyboard,
    additional_keyboard,
    quote_keyboard,
)
from bot.keyboards.callbacks import (
    ActAction,
    ActCallback,
    AdditionalConfirmCallback,
    ExtraCallback,
)
from bot.keyboards.markup import Button, Keyboard, KeyboardBuilder
from bot.keyboards.pager import Page
from bot.provider.models import ExtraActivationInfo
from bot.services.catalogue import Offer
from bot.storage.activations import Activation, State
from bot.texts import escape, money
from bot.views.common import (
    SPACED_SERVICES,
    ItemLabels,
    format_code,
    other_accounts_note,
    price_sum,
    until,
    where_line,
    with_account,
)

View = tuple[str, Keyboard]


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
    label = service_name(activation.service, locale)
    return where_line(label, activation.country, activation.operator, activation.cost, locale)


def deadline_line(open_ones: Sequence[Activation], now: float) -> str | None:
    """When the first of ``open_ones`` ends: its clock time and the minutes left."""
    if not open_ones:
        return None
    ends_at = min(activation.expires_at for activation in open_ones)
    return "⏳ " + until(ends_at, now) if ends_at > now else None


def _state_texts(state: State) -> tuple[str, str]:
    """How a state reads: as the card's line, and short after a service's name in a list."""
    match state:
        case State.WAITING:
            return _("Waiting for the SMS…"), _("waiting for the SMS…")
        case State.CODE:
            return _("Code received. Finish if it worked."), _("code received")
        case State.RETRY:
            return _("Waiting for another code…"), _("waiting for another code…")
        case State.FINISHED:
            return "✅ " + _("Finished."), "✅ " + _("finished")
        case State.CANCELLED:
            return "❌ " + _("Cancelled, the money is refunded."), "❌ " + _("cancelled, refunded")
        case State.EXPIRED:
            return (
                "⌛ " + _("Expired without a code, the money is refunded."),
                "⌛ " + _("expired, refunded"),
            )
    return "", ""


def state_line(activation: Activation, now: float) -> str:
    if activation.state is State.CODE and activation.can_retry:
        return _("Code received. Finish if it worked, or ask for another code.")
    return _state_texts(activation.state)[0]


def _short_state(activation: Activation) -> str:
    return _state_texts(activation.state)[1]


def group_card_text(group: Sequence[Activation], locale: str, now: float | None = None) -> str:
    """One number for several services: a line per service with its codes."""
    moment = time.time() if now is None else now
    first = group[0]
    lines = [*phone_lines(first.phone, first.country)]
    info = country(first.country) if first.country is not None else None
    if info is not None:
        lines.append(f"{info.flag} {escape(info.name(locale))}")
    deadline = deadline_line([a for a in group if a.is_open], moment)
    if deadline:
        lines.append(deadline)
    lines.append("")
    for activation in group:
        codes = ", ".join(
            f"<code>{escape(format_code(activation.service, c.code))}</code>"
            for c in activation.codes
        )
        name = escape(service_name(activation.service, locale))
        lines.append(
            f"• <b>{name}</b>: {_short_state(activation)}" + (f" — {codes}" if codes else "")
        )
    if any(a.cost is not None for a in group):
        lines.append("")
        parts = [(a.service, a.cost) for a in group]
        lines.append("💰 " + _("Paid: {prices}").format(prices=price_sum(parts, None, locale)))
    return "\n".join(lines)


def group_card_keyboard(group: Sequence[Activation], *, locale: str) -> Keyboard | None:
    """Per service the actions its state allows, each row named by the service."""
    builder = KeyboardBuilder()
    for activation in group:
        name = service_name(activation.service, locale)
        row = []
        ident = activation.id
        if activation.state is State.WAITING:
            row.append((f"{name}: " + _("Cancel"), ActAction.CANCEL))
        elif activation.state is State.CODE:
            row.append((f"{name}: " + _("Finish"), ActAction.FINISH))
            if activation.can_retry:
                row.append((f"{name}: " + _("Another code"), ActAction.ANOTHER))
        elif activation.state is State.RETRY:
            row.append((f"{name}: " + _("Finish"), ActAction.FINISH))
        if row:
            builder.row(
                *(
                    Button(text=text, callback_data=ActCallback(action=action, id=ident).pack())
                    for text, action in row
                )
            )
    first = group[0]
    if any(a.is_open for a in group):
        builder.row(
            Button(
                text="🔄 " + _("Refresh"),
                callback_data=ActCallback(action=ActAction.REFRESH, id=first.id).pack(),
            )
        )
    elif first.options is not None:
        builder.row(
            Button(
                text=_("Buy again"),
                callback_data=ActCallback(action=ActAction.AGAIN, id=first.id).pack(),
            )
        )
    markup = builder.as_markup()
    return markup if markup.inline_keyboard else None


def render_card(
    group: Sequence[Activation],
    locale: str,
    *,
    ready_status: bool,
    extra: bool,
    now: float | None = None,
) -> tuple[str, Keyboard | None]:
    """The card of an activation, or of the services sharing its number."""
    if len(group) > 1:
        return group_card_text(group, locale, now), group_card_keyboard(group, locale=locale)
    activation = group[0]
    return card_text(activation, locale, now), card_keyboard(
        activation, ready_status=ready_status, extra=extra
    )


def card_text(activation: Activation, locale: str, now: float | None = None) -> str:
    moment = time.time() if now is None else now
    lines = [*phone_lines(activation.phone, activation.country), where(activation, locale)]
    deadline = deadline_line([activation] if activation.is_open else [], moment)
    if deadline:
        lines.append(deadline)
    lines.append(state_line(activation, moment))
    if activation.verification:
        if activation.call_from:
            lines.append(
                "📞 "
                + _("Call from {phone}: the code is its last digits.").format(
                    phone=f"<code>+{escape(activation.call_from)}</code>"
                )
            )
        elif activation.is_open:
            lines.append("📞 " + _("The code comes as an incoming call: wait for the ring."))
    if activation.codes:
        lines.append("")
        lines.append(_("Codes:"))
        for index, code in enumerate(activation.codes, start=1):
            shown = escape(format_code(activation.service, code.code))
            lines.append(f"{index}. <code>{shown}</code>")
        if any(code.push_unsure for code in activation.codes):
            lines.append(
                "⚠️ " + _("Telegram did not confirm a code message: the codes above are complete.")
            )
    if activation.external:
        lines.append("")
        lines.append(_("Bought outside the bot."))
    return "\n".join(lines)


def card_keyboard(activation: Activation, *, ready_status: bool, extra: bool) -> Keyboard | None:
    """Only the actions the provider allows in the activation's state."""
    builder = KeyboardBuilder()
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
            if activation.forward:
                builder.button(
                    text=_("Add a service"),
                    callback_data=ActCallback(action=ActAction.ADDITIONAL, id=ident),
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


# --- around the card ---


def extra_view(activation: Activation, info: ExtraActivationInfo, token: str, locale: str) -> View:
    """The confirmation to reuse a finished number: its price, Buy and Cancel."""
    text = _("Use +{phone} for {service} again for {price}?").format(
        phone=escape(activation.phone),
        service=escape(service_name(info.service or activation.service, locale)),
        price=money(info.cost),
    )
    buy = "✅ " + _("Buy for {price}").format(price=money(info.cost))
    confirm = ExtraCallback(id=activation.id, token=token)
    dismiss = ActCallback(action=ActAction.EXTRA_CANCEL, id=activation.id)
    return text, quote_keyboard(buy, "✖ " + _("Cancel"), confirm, dismiss)


def additional_confirm_view(
    activation: Activation,
    service: str,
    balance: Decimal,
    token: str,
    provider: str,
    locale: str,
) -> View:
    """The confirmation to add ``service`` to a forwarding number: the provider publishes no
    price for it, so the screen says so and shows the balance it will be taken from."""
    name = escape(service_name(service, locale))
    lines = [
        _("Add {service} to +{phone}?").format(service=name, phone=escape(activation.phone)),
        _(
            "{provider} does not publish the price of an added service in advance: it is "
            "taken from your balance, and the card then shows what it cost."
        ).format(provider=escape(provider)),
        _("Balance: {balance}").format(balance=money(balance)),
    ]
    buy = "✅ " + _("Add {service}").format(service=service_name(service, locale))
    confirm = AdditionalConfirmCallback(id=activation.id, token=token)
    dismiss = ActCallback(action=ActAction.ADDITIONAL_CANCEL, id=activation.id)
    return "\n".join(lines), quote_keyboard(buy, "✖ " + _("Cancel"), confirm, dismiss)


def additional_view(activation: Activation, codes: Sequence[str], locale: str) -> View:
    """The services that can also use a forwarding number."""
    text = _("Which service should also use +{phone}?").format(phone=escape(activation.phone))
    items = [(code, service_name(code, locale)) for code in codes]
    return text, additional_keyboard(items, activation.id)


# --- lists ---


def active_view(page: Page[Activation], locale: str, labels: ItemLabels) -> View:
    """``labels``: the account each item was bought with, where worth saying."""
    lines = [_("Your open activations:")]
    items = []
    for activation in page.items:
        name = service_name(activation.service, locale)
        last = activation.last_code
        code = f" · {format_code(activation.service, last)}" if last else ""
        other = labels.of(activation)
        mark = f" · {escape(other)}" if other else ""
        lines.append(f"• <code>+{escape(activation.phone)}</code> · {escape(name + code)}{mark}")
        items.append((activation.id, with_account(f"+{activation.phone} · {name}", other)))
    text = "\n".join(lines) + other_accounts_note(labels)
    return text, active_keyboard(items, page.page, page.pages)


def prices_text(code: str, offers: Sequence[Offer], rates: dict[int, Decimal], locale: str) -> str:
    """/prices: the cheapest countries of a service with the numbers /buy takes, and how."""
    title = escape(service_name(code, locale))
    lines = [
        _(
            "{service}: the cheapest countries (country number · price · numbers · success):"
        ).format(service=f"<b>{title}</b>")
    ]
    for offer in offers:
        info = country(offer.country)
        name = f"{info.flag} {escape(info.name(locale))}" if info else ""
        rate = rates.get(offer.country)
        shown_rate = f"{rate.normalize():f}%" if rate is not None else "—"
        lines.append(
            f"<code>{offer.country}</code> {name} · {money(offer.price)} · {offer.count} · "
            f"{shown_rate}"
        )
    lines.append("")
    info = country(offers[0].country)
    example = info.name(locale).lower() if info is not None else str(offers[0].country)
    lines.append(
        _(
            "To buy: /buy {code} and the country's number or name, for example /buy {code} "
            "{country} or /buy {code} {name}."
        ).format(code=code, country=offers[0].country, name=escape(example))
    )
    return "\n".join(lines)
