"""Keyboards of renting: pure builders from data and translated labels."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from aiogram.types import InlineKeyboardButton, InlineKeyboardMarkup
from aiogram.utils.keyboard import InlineKeyboardBuilder

from bot.keyboards import common
from bot.keyboards.callbacks import (
    RentBuyAction,
    RentBuyCallback,
    RentCallback,
    RentCardAction,
    RentExtendAction,
    RentExtendCallback,
)
from bot.keyboards.pager import pager_row


def _button(text: str, data: RentBuyCallback) -> InlineKeyboardButton:
    return InlineKeyboardButton(text=text, callback_data=data.pack())


def _step(text: str, action: RentBuyAction) -> InlineKeyboardButton:
    """A button that carries nothing but where it leads."""
    return _button(text, RentBuyCallback(action=action))


def _page(action: RentBuyAction) -> Callable[[int], RentBuyCallback]:
    return lambda page: RentBuyCallback(action=action, page=page)


def durations_keyboard(items: Sequence[tuple[int, str]], cancel: str) -> InlineKeyboardMarkup:
    """``items``: (hours, label)."""
    builder = InlineKeyboardBuilder()
    for hours, label in items:
        builder.button(
            text=label, callback_data=RentBuyCallback(action=RentBuyAction.DURATION, hours=hours)
        )
    builder.adjust(4)
    builder.row(_step("✖ " + cancel, RentBuyAction.CANCEL))
    return builder.as_markup()


def countries_keyboard(
    items: Sequence[tuple[int, str]], page: int, pages: int, back: str, cancel: str
) -> InlineKeyboardMarkup:
    builder = InlineKeyboardBuilder()
    for country_id, label in items:
        builder.button(
            text=label,
            callback_data=RentBuyCallback(action=RentBuyAction.COUNTRY, country=country_id),
        )
    builder.adjust(2)
    nav = pager_row(page, pages, _page(RentBuyAction.COUNTRY_PAGE))
    if nav:
        builder.row(*nav)
    builder.row(
        _step("◀ " + back, RentBuyAction.TO_DURATIONS),
        _step("✖ " + cancel, RentBuyAction.CANCEL),
    )
    return builder.as_markup()


def services_keyboard(
    items: Sequence[tuple[str, str]], page: int, pages: int, back: str, cancel: str
) -> InlineKeyboardMarkup:
    """``items``: (service code, label with price and count)."""
    builder = InlineKeyboardBuilder()
    for code, label in items:
        builder.row(_button(label, RentBuyCallback(action=RentBuyAction.SERVICE, service=code)))
    nav = pager_row(page, pages, _page(RentBuyAction.SERVICE_PAGE))
    if nav:
        builder.row(*nav)
    builder.row(
        _step("◀ " + back, RentBuyAction.TO_COUNTRIES),
        _step("✖ " + cancel, RentBuyAction.CANCEL),
    )
    return builder.as_markup()


@dataclass(frozen=True, slots=True)
class ConfirmLabels:
    rent: str
    operator: str | None  # None: no operator choice in this country
    back: str
    cancel: str


def confirm_keyboard(labels: ConfirmLabels, token: str) -> InlineKeyboardMarkup:
    builder = InlineKeyboardBuilder()
    builder.row(
        _button("✅ " + labels.rent, RentBuyCallback(action=RentBuyAction.CONFIRM, token=token))
    )
    if labels.operator is not None:
        builder.row(_step(labels.operator, RentBuyAction.OPERATORS))
    builder.row(
        _step("◀ " + labels.back, RentBuyAction.TO_SERVICES),
        _step("✖ " + labels.cancel, RentBuyAction.CANCEL),
    )
    return builder.as_markup()


def operators_keyboard(
    operators: Sequence[str], current: str | None, any_label: str, back: str
) -> InlineKeyboardMarkup:
    return common.operators_keyboard(
        operators,
        current,
        any_label,
        lambda name: RentBuyCallback(action=RentBuyAction.OPERATOR, operator=name),
        _step("◀ " + back, RentBuyAction.TO_CONFIRM),
    )


def retry_keyboard(back: str, cancel: str) -> InlineKeyboardMarkup:
    """After a refused rent: pick something else."""
    builder = InlineKeyboardBuilder()
    builder.row(
        _step("◀ " + back, RentBuyAction.TO_SERVICES),
        _step("✖ " + cancel, RentBuyAction.CANCEL),
    )
    return builder.as_markup()


@dataclass(frozen=True, slots=True)
class CardLabels:
    """None leaves a button out."""

    finish: str | None
    cancel: str | None
    extend: str | None
    refresh: str | None


def card_keyboard(rent_id: int, labels: CardLabels) -> InlineKeyboardMarkup | None:
    builder = InlineKeyboardBuilder()
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


def extend_button(rent_id: int, label: str) -> InlineKeyboardMarkup:
    builder = InlineKeyboardBuilder()
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
) -> InlineKeyboardMarkup:
    builder = InlineKeyboardBuilder()
    for hours, label in items:
        builder.button(
            text=label, callback_data=_extend(RentExtendAction.HOURS, rent_id, hours=hours)
        )
    builder.adjust(4)
    builder.row(
        InlineKeyboardButton(
            text="✖ " + cancel, callback_data=_extend(RentExtendAction.CANCEL, rent_id).pack()
        )
    )
    return builder.as_markup()


def extend_confirm_keyboard(
    rent_id: int, confirm: tuple[str, str] | None, other: str, cancel: str
) -> InlineKeyboardMarkup:
    """``confirm``: (label, order token), or None when there is nothing to confirm."""
    builder = InlineKeyboardBuilder()
    if confirm is not None:
        label, token = confirm
        builder.button(
            text="✅ " + label,
            callback_data=_extend(RentExtendAction.CONFIRM, rent_id, token=token),
        )
    builder.button(text="◀ " + other, callback_data=_extend(RentExtendAction.DURATIONS, rent_id))
    builder.button(text="✖ " + cancel, callback_data=_extend(RentExtendAction.CANCEL, rent_id))
    builder.adjust(1, 2)
    return builder.as_markup()


def max_hours_keyboard(
    rent_id: int, offer: tuple[str, int] | None, other: str, cancel: str
) -> InlineKeyboardMarkup:
    """After MAX_HOURS_EXCEED: the longest extension offered, as a button."""
    builder = InlineKeyboardBuilder()
    if offer is not None:
        label, hours = offer
        builder.button(
            text=label, callback_data=_extend(RentExtendAction.HOURS, rent_id, hours=hours)
        )
    builder.button(text="◀ " + other, callback_data=_extend(RentExtendAction.DURATIONS, rent_id))
    builder.button(text="✖ " + cancel, callback_data=_extend(RentExtendAction.CANCEL, rent_id))
    builder.adjust(1, 2)
    return builder.as_markup()


def rents_keyboard(items: Sequence[tuple[int, str]]) -> InlineKeyboardMarkup:
    """One button per rent (id, label): it opens the rent's card."""
    builder = InlineKeyboardBuilder()
    for rent_id, label in items:
        builder.button(
            text=label, callback_data=RentCallback(action=RentCardAction.SHOW, id=rent_id)
        )
    builder.adjust(1)
    return builder.as_markup()
