"""Keyboards of the purchase flow: pure builders from data and translated labels."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from aiogram.types import InlineKeyboardButton, InlineKeyboardMarkup
from aiogram.utils.keyboard import InlineKeyboardBuilder

from bot.keyboards import common
from bot.keyboards.callbacks import BuyAction, BuyCallback


def _nav_row(page: int, pages: int, action: BuyAction) -> list[InlineKeyboardButton]:
    if pages <= 1:
        return []
    row = []
    if page > 0:
        row.append(
            InlineKeyboardButton(
                text="◀", callback_data=BuyCallback(action=action, value=str(page - 1)).pack()
            )
        )
    row.append(
        InlineKeyboardButton(
            text=f"{page + 1}/{pages}",
            callback_data=BuyCallback(action=action, value=str(page)).pack(),
        )
    )
    if page < pages - 1:
        row.append(
            InlineKeyboardButton(
                text="▶", callback_data=BuyCallback(action=action, value=str(page + 1)).pack()
            )
        )
    return row


def _button(text: str, action: BuyAction, value: str = "") -> InlineKeyboardButton:
    return InlineKeyboardButton(
        text=text, callback_data=BuyCallback(action=action, value=value).pack()
    )


def _pairs(buttons: list[InlineKeyboardButton]) -> list[list[InlineKeyboardButton]]:
    return [buttons[i : i + 2] for i in range(0, len(buttons), 2)]


def services_keyboard(
    items: Sequence[tuple[str, str]],
    page: int,
    pages: int,
    cancel: str,
    *,
    multi: str | None = None,
    done: str | None = None,
) -> InlineKeyboardMarkup:
    """``items``: (code, label) of this page; ``multi`` switches several-services mode,
    ``done`` goes on with the services picked in it.

    Built as rows directly: aiogram's builder copies the whole keyboard on every button, and
    this one is drawn on every /buy.
    """
    rows = _pairs([_button(label, BuyAction.SERVICE, code) for code, label in items])
    nav = _nav_row(page, pages, BuyAction.SERVICE_PAGE)
    if nav:
        rows.append(nav)
    if done is not None:
        rows.append([_button("✅ " + done, BuyAction.MULTI_DONE)])
    if multi is not None:
        rows.append([_button(multi, BuyAction.MULTI)])
    rows.append([_button("✖ " + cancel, BuyAction.CANCEL)])
    return InlineKeyboardMarkup(inline_keyboard=rows)


def service_choices_keyboard(
    items: Sequence[tuple[str, str]], back: str, cancel: str
) -> InlineKeyboardMarkup:
    builder = InlineKeyboardBuilder()
    for code, label in items:
        builder.button(text=label, callback_data=BuyCallback(action=BuyAction.SERVICE, value=code))
    builder.adjust(2)
    builder.row(
        _button("◀ " + back, BuyAction.TO_SERVICES, "0"), _button("✖ " + cancel, BuyAction.CANCEL)
    )
    return builder.as_markup()


@dataclass(frozen=True, slots=True)
class SortLabels:
    price: str
    count: str
    rate: str | None  # None: the provider publishes no success rates


def countries_keyboard(
    items: Sequence[tuple[int, str]],
    page: int,
    pages: int,
    sort: str,
    sorts: SortLabels,
    back: str,
    cancel: str,
) -> InlineKeyboardMarkup:
    rows = [[_button(label, BuyAction.COUNTRY, str(country_id))] for country_id, label in items]
    nav = _nav_row(page, pages, BuyAction.COUNTRY_PAGE)
    if nav:
        rows.append(nav)
    options = [("price", sorts.price), ("count", sorts.count)]
    if sorts.rate is not None:
        options.append(("rate", sorts.rate))
    rows.append(
        [
            _button(("✓ " if key == sort else "") + label, BuyAction.SORT, key)
            for key, label in options
        ]
    )
    rows.append(
        [
            _button("◀ " + back, BuyAction.TO_SERVICES, "0"),
            _button("✖ " + cancel, BuyAction.CANCEL),
        ]
    )
    return InlineKeyboardMarkup(inline_keyboard=rows)


@dataclass(frozen=True, slots=True)
class OptionLabels:
    operator: str | None  # None: no operator choice in this country
    max_price: str | None  # None: not for this purchase (several services)
    clear_max_price: str | None
    verification: str | None  # None: the provider has no call verification
    forward: str | None  # None: the provider has no call forwarding
    exclude: str | None
    clear_exclude: str | None
    buy: str
    back: str
    cancel: str


def options_keyboard(labels: OptionLabels, token: str) -> InlineKeyboardMarkup:
    builder = InlineKeyboardBuilder()
    first = []
    if labels.operator is not None:
        first.append(_button(labels.operator, BuyAction.OPERATORS))
    if labels.max_price is not None:
        first.append(_button(labels.max_price, BuyAction.MAX_PRICE))
    if first:
        builder.row(*first)
    second = []
    if labels.verification is not None:
        second.append(_button(labels.verification, BuyAction.VERIFY))
    if labels.exclude is not None:
        second.append(_button(labels.exclude, BuyAction.EXCLUDE))
    if second:
        builder.row(*second)
    if labels.forward is not None:
        builder.row(_button(labels.forward, BuyAction.FORWARD))
    clears = []
    if labels.clear_max_price:
        clears.append(_button(labels.clear_max_price, BuyAction.MAX_PRICE_CLEAR))
    if labels.clear_exclude:
        clears.append(_button(labels.clear_exclude, BuyAction.EXCLUDE_CLEAR))
    if clears:
        builder.row(*clears)
    builder.row(_button("✅ " + labels.buy, BuyAction.CONFIRM, token))
    builder.row(
        _button("◀ " + labels.back, BuyAction.TO_COUNTRIES, "0"),
        _button("✖ " + labels.cancel, BuyAction.CANCEL),
    )
    return builder.as_markup()


def operators_keyboard(
    operators: Sequence[str], current: str | None, any_label: str, back: str
) -> InlineKeyboardMarkup:
    return common.operators_keyboard(
        operators,
        current,
        any_label,
        lambda name: BuyCallback(action=BuyAction.OPERATOR, value=name),
        _button("◀ " + back, BuyAction.TO_OPTIONS),
    )


def prompt_keyboard(back: str) -> InlineKeyboardMarkup:
    builder = InlineKeyboardBuilder()
    builder.row(_button("◀ " + back, BuyAction.TO_OPTIONS))
    return builder.as_markup()


def failure_keyboard(
    other_country: str, cancel: str, min_price: tuple[str, str] | None = None
) -> InlineKeyboardMarkup:
    """After a refused purchase: another country, or the minimum max price offered."""
    builder = InlineKeyboardBuilder()
    if min_price is not None:
        label, value = min_price
        builder.row(_button(label, BuyAction.MAX_PRICE_SET, value))
    builder.row(
        _button("◀ " + other_country, BuyAction.TO_COUNTRIES, "0"),
        _button("✖ " + cancel, BuyAction.CANCEL),
    )
    return builder.as_markup()
