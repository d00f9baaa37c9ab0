"""Keyboards of renting: pure builders from data and translated labels."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from bot.keyboards import common
from bot.keyboards.callbacks import (
    RentBuyAction,
    RentBuyCallback,
    RentCallback,
    RentCardAction,
    RentExtendAction,
    RentExtendCallback,
)
from bot.keyboards.common import button
from bot.keyboards.markup import Button, Keyboard, KeyboardBuilder
from bot.keyboards.pager import pager_row


def _step(text: str, action: RentBuyAction) -> Button:
    """A button that carries nothing but where it leads."""
    return button(text, RentBuyCallback(action=action))


def _back_and_cancel(back: str, to: RentBuyAction, cancel: str) -> tuple[Button, Button]:
    """The last row of a step: back to the step ``to`` leads to, and leave /rent."""
    return _step("◀ " + back, to), _step("✖ " + cancel, RentBuyAction.CANCEL)


def _add_pager(builder: KeyboardBuilder, page: int, pages: int, action: RentBuyAction) -> None:
    """A list's page buttons, on a row of their own (none when the list fits one page)."""
    nav = pager_row(page, pages, lambda number: RentBuyCallback(action=action, page=number))
    if nav:
        builder.row(*nav)


def durations_keyboard(items: Sequence[tuple[int, str]], cancel: str) -> Keyboard:
    """``items``: (hours, label)."""
    builder = KeyboardBuilder()
    for hours, label in items:
        builder.button(
            text=label, callback_data=RentBuyCallback(action=RentBuyAction.DURATION, hours=hours)
        )
    builder.adjust(4)
    builder.row(_step("✖ " + cancel, RentBuyAction.CANCEL))
    return builder.as_markup()


def countries_keyboard(
    items: Sequence[tuple[int, str]], page: int, pages: int, back: str, cancel: str
) -> Keyboard:
    builder = KeyboardBuilder()
    for country_id, label in items:
        builder.button(
            text=label,
            callback_data=RentBuyCallback(action=RentBuyAction.COUNTRY, country=country_id),
        )
    builder.adjust(2)
    _add_pager(builder, page, pages, RentBuyAction.COUNTRY_PAGE)
    builder.row(*_back_and_cancel(back, RentBuyAction.TO_DURATIONS, cancel))
    return builder.as_markup()


def services_keyboard(
    items: Sequence[tuple[str, str]], page: int, pages: int, back: str, cancel: str
) -> Keyboard:
    """``items``: (service code, label with price and count)."""
    builder = KeyboardBuilder()
    for code, label in items:
        builder.row(button(label, RentBuyCallback(action=RentBuyAction.SERVICE, service=code)))
    _add_pager(builder, page, pages, RentBuyAction.SERVICE_PAGE)
    builder.row(*_back_and_cancel(back, RentBuyAction.TO_COUNTRIES, cancel))
    return builder.as_markup()


@dataclass(frozen=True, slots=True)
class ConfirmLabels:
    rent: str
    operator: str | None  # None: no operator choice in this country
    back: str
    cancel: str


def confirm_keyboard(labels: ConfirmLabels, token: str) -> Keyboard:
    builder = KeyboardBuilder()
    builder.row(
        button("✅ " + labels.rent, RentBuyCallback(action=RentBuyAction.CONFIRM, token=token))
    )
    if labels.operator is not None:
        builder.row(_step(labels.operator, RentBuyAction.OPERATORS))
    builder.row(*_back_and_cancel(labels.back, RentBuyAction.TO_SERVICES, labels.cancel))
    return builder.as_markup()


def operators_keyboard(
    operators: Sequence[str], current: str | None, any_label: str, back: str
) -> Keyboard:
    back_button = _step("◀ " + back, RentBuyAction.TO_CONFIRM)
    return common.operators_keyboard(operators, current, any_label, _operator, back_button)


def _operator(name: str) -> RentBuyCallback:
    """An operator picked; "" is any operator."""
    return RentBuyCallback(action=RentBuyAction.OPERATOR, operator=name)


def retry_keyboard(back: str, cancel: str) -> Keyboard:
    """After a refused rent: pick something else."""
    builder = KeyboardBuilder()
    builder.row(*_back_and_cancel(back, RentBuyAction.TO_SERVICES, cancel))
    return builder.as_markup()


@dataclass(frozen=True, slots=True)
class CardLabels:
    """None leaves a button out."""

    finish: str | None
    cancel: str | None
    extend: str | None
    refresh: str | None


def card_keyboard(rent_id: int, labels: CardLabels) -> Keyboard | None:
    builder = KeyboardBuilder()
    for label, action in (
        (labels.finish, RentCardAction.FINISH),
        (labels.cancel, RentCardAction.CANCEL),
        (labels.extend, RentCardAction.EXTEND),
        (labels.refresh, RentCardAction.REFRESH),
    ):
        if label is not None:
            builder.button(text=label, callback_data=RentCallback(action=action, id=rent_id))
    builder.adjust(2)
    markup = builder.as_markup()
    return markup if markup.inline_keyboard else None


def extend_button(rent_id: int, label: str) -> Keyboard:
    builder = KeyboardBuilder()
    builder.button(
        text=label, callback_data=RentCallback(action=RentCardAction.EXTEND, id=rent_id)
    )
    return builder.as_markup()


def _extend(
    action: RentExtendAction, rent_id: int, *, hours: int = 0, token: str = ""
) -> RentExtendCallback:
    return RentExtendCallback(action=action, id=rent_id, hours=hours, token=token)


def extend_durations_keyboard(
    rent_id: int, items: Sequence[tuple[int, str]], cancel: str
) -> Keyboard:
    builder = KeyboardBuilder()
    for hours, label in items:
        builder.button(
            text=label, callback_data=_extend(RentExtendAction.HOURS, rent_id, hours=hours)
        )
    builder.adjust(4)
    builder.row(
        Button(text="✖ " + cancel, callback_data=_extend(RentExtendAction.CANCEL, rent_id).pack())
    )
    return builder.as_markup()


def _after_quote(rent_id: int, first: Button | None, other: str, cancel: str) -> Keyboard:
    """``first`` alone on the top row (when there is one), then another duration and cancel."""
    builder = KeyboardBuilder()
    if first is not None:
        builder.add(first)
    builder.button(text="◀ " + other, callback_data=_extend(RentExtendAction.DURATIONS, rent_id))
    builder.button(text="✖ " + cancel, callback_data=_extend(RentExtendAction.CANCEL, rent_id))
    builder.adjust(1, 2)
    return builder.as_markup()


def extend_confirm_keyboard(
    rent_id: int, confirm: tuple[str, str], other: str, cancel: str
) -> Keyboard:
    """``confirm``: (label, order token)."""
    label, token = confirm
    confirm_button = button("✅ " + label, _extend(RentExtendAction.CONFIRM, rent_id, token=token))
    return _after_quote(rent_id, confirm_button, other, cancel)


def max_hours_keyboard(
    rent_id: int, offer: tuple[str, int] | None, other: str, cancel: str
) -> Keyboard:
    """After MAX_HOURS_EXCEED: the longest extension offered (if any), as a button."""
    offered = None
    if offer is not None:
        label, hours = offer
        offered = button(label, _extend(RentExtendAction.HOURS, rent_id, hours=hours))
    return _after_quote(rent_id, offered, other, cancel)


def rents_keyboard(items: Sequence[tuple[int, str]]) -> Keyboard:
    """One button per rent (id, label): it opens the rent's card."""
    builder = KeyboardBuilder()
    for rent_id, label in items:
        builder.button(
            text=label, callback_data=RentCallback(action=RentCardAction.SHOW, id=rent_id)
        )
    builder.adjust(1)
    return builder.as_markup()
