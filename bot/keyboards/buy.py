"""Keyboards of the purchase flow: pure builders from data and translated labels."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal

from bot.keyboards import common
from bot.keyboards.callback_data import CallbackData
from bot.keyboards.callbacks import (
    BuyAction,
    BuyCallback,
    BuyConfirmCallback,
    BuyCountriesCallback,
    BuyCountryCallback,
    BuyMaxPriceCallback,
    BuyOfferCallback,
    BuyOperatorCallback,
    BuyServiceCallback,
    BuyServicesCallback,
    BuySort,
    BuySortCallback,
)
from bot.keyboards.markup import Button, Keyboard, KeyboardBuilder
from bot.keyboards.pager import pager_row


def _button(text: str, data: CallbackData) -> Button:
    return Button(text=text, callback_data=data.pack())


def _step(text: str, action: BuyAction) -> Button:
    return _button(text, BuyCallback(action=action))


def _pairs(buttons: list[Button]) -> list[list[Button]]:
    return [buttons[i : i + 2] for i in range(0, len(buttons), 2)]


def _to_services(label: str) -> Button:
    return _button("◀ " + label, BuyServicesCallback(page=0))


def _to_countries(label: str) -> Button:
    return _button("◀ " + label, BuyCountriesCallback(page=0))


def _cancel(label: str) -> Button:
    return _step("✖ " + label, BuyAction.CANCEL)


def services_keyboard(
    items: Sequence[tuple[str, str]],
    page: int,
    pages: int,
    cancel: str,
    *,
    multi: str | None = None,
    done: str | None = None,
) -> Keyboard:
    """``items``: (code, label) of this page; ``multi`` switches several-services mode,
    ``done`` goes on with the services picked in it (drawn on every /buy: built as rows).
    """
    rows = _pairs([_button(label, BuyServiceCallback(code=code)) for code, label in items])
    nav = pager_row(page, pages, lambda number: BuyServicesCallback(page=number))
    if nav:
        rows.append(nav)
    if done is not None:
        rows.append([_step("✅ " + done, BuyAction.MULTI_DONE)])
    if multi is not None:
        rows.append([_step(multi, BuyAction.MULTI)])
    rows.append([_cancel(cancel)])
    return Keyboard(inline_keyboard=rows)


def service_choices_keyboard(items: Sequence[tuple[str, str]], back: str, cancel: str) -> Keyboard:
    builder = KeyboardBuilder()
    for code, label in items:
        builder.button(text=label, callback_data=BuyServiceCallback(code=code))
    builder.adjust(2)
    builder.row(_to_services(back), _cancel(cancel))
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
    sort: BuySort,
    sorts: SortLabels,
    back: str,
    cancel: str,
) -> Keyboard:
    rows = [
        [_button(label, BuyCountryCallback(country=country_id))] for country_id, label in items
    ]
    nav = pager_row(page, pages, lambda number: BuyCountriesCallback(page=number))
    if nav:
        rows.append(nav)
    options = [(BuySort.PRICE, sorts.price), (BuySort.COUNT, sorts.count)]
    if sorts.rate is not None:
        options.append((BuySort.RATE, sorts.rate))
    rows.append(
        [
            _button(("✓ " if key is sort else "") + label, BuySortCallback(sort=key))
            for key, label in options
        ]
    )
    rows.append([_to_services(back), _cancel(cancel)])
    return Keyboard(inline_keyboard=rows)


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
    offers: str | None = None  # None: one account, nothing to compare


def options_keyboard(labels: OptionLabels, token: str) -> Keyboard:
    builder = KeyboardBuilder()
    # Rows of the options this purchase has (a None label: not here); an empty row is left out.
    rows = (
        ((labels.operator, BuyAction.OPERATORS), (labels.max_price, BuyAction.MAX_PRICE)),
        ((labels.verification, BuyAction.VERIFY), (labels.exclude, BuyAction.EXCLUDE)),
        ((labels.forward, BuyAction.FORWARD),),
        (
            (labels.clear_max_price, BuyAction.MAX_PRICE_CLEAR),
            (labels.clear_exclude, BuyAction.EXCLUDE_CLEAR),
        ),
    )
    for row in rows:
        buttons = [_step(label, action) for label, action in row if label is not None]
        if buttons:
            builder.row(*buttons)
    builder.row(_button("✅ " + labels.buy, BuyConfirmCallback(token=token)))
    if labels.offers is not None:
        builder.row(_step(labels.offers, BuyAction.OFFERS))
    builder.row(_to_countries(labels.back), _cancel(labels.cancel))
    return builder.as_markup()


def operators_keyboard(
    operators: Sequence[str], current: str | None, any_label: str, back: str
) -> Keyboard:
    return common.operators_keyboard(
        operators,
        current,
        any_label,
        lambda name: BuyOperatorCallback(operator=name),
        _step("◀ " + back, BuyAction.TO_OPTIONS),
    )


def prompt_keyboard(back: str) -> Keyboard:
    builder = KeyboardBuilder()
    builder.row(_step("◀ " + back, BuyAction.TO_OPTIONS))
    return builder.as_markup()


def failure_keyboard(
    other_country: str,
    cancel: str,
    min_price: tuple[str, Decimal] | None = None,
    forward_off: str | None = None,
) -> Keyboard:
    """After a refused purchase: another country, the minimum max price offered, or the same
    purchase without call forwarding."""
    builder = KeyboardBuilder()
    if min_price is not None:
        label, price = min_price
        builder.row(_button(label, BuyMaxPriceCallback(price=price)))
    if forward_off is not None:
        builder.row(_button(forward_off, BuyCallback(action=BuyAction.FORWARD)))
    builder.row(_to_countries(other_country), _cancel(cancel))
    return builder.as_markup()


def offers_keyboard(
    items: Sequence[tuple[str, str]], service: str, country: int, back: str, cancel: str
) -> Keyboard:
    """``items``: (account id, label) of each offer, cheapest first; one row each, so the
    account's name and price fit. Then back to the countries, and cancel."""
    rows = [
        [_button(label, BuyOfferCallback(account=account, service=service, country=country))]
        for account, label in items
    ]
    rows.append([_to_countries(back), _cancel(cancel)])
    return Keyboard(inline_keyboard=rows)
