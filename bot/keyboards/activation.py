"""Keyboards around the activation card: reuse, another service, /active and /history.

The card's own buttons are drawn with the card (``bot.views.activation``).
"""

from __future__ import annotations

from collections.abc import Sequence

from bot.keyboards.callback_data import CallbackData
from bot.keyboards.callbacks import (
    ActAction,
    ActCallback,
    ActivePageCallback,
    AdditionalCallback,
    HistoryCallback,
)
from bot.keyboards.markup import Button, Keyboard
from bot.keyboards.pager import pager_row


def quote_keyboard(
    buy: str, cancel: str, confirm: CallbackData, dismiss: CallbackData
) -> Keyboard:
    """A confirmation about a number: ``buy`` carries the quote, ``cancel`` kills it."""
    return Keyboard(
        inline_keyboard=[
            [Button(text=buy, callback_data=confirm.pack())],
            [Button(text=cancel, callback_data=dismiss.pack())],
        ]
    )


def additional_keyboard(items: Sequence[tuple[str, str]], activation_id: int) -> Keyboard:
    """``items``: (service code, label), two to a row."""
    buttons = [
        Button(
            text=label,
            callback_data=AdditionalCallback(id=activation_id, service=code).pack(),
        )
        for code, label in items
    ]
    rows = [buttons[i : i + 2] for i in range(0, len(buttons), 2)]
    return Keyboard(inline_keyboard=rows)


def active_keyboard(items: Sequence[tuple[int, str]], page: int, pages: int) -> Keyboard:
    """``items``: (activation id, label) of this page, one to a row; each shows its card."""
    rows = [
        [
            Button(
                text=label,
                callback_data=ActCallback(action=ActAction.SHOW, id=activation_id).pack(),
            )
        ]
        for activation_id, label in items
    ]
    nav = pager_row(page, pages, lambda number: ActivePageCallback(page=number))
    if nav:
        rows.append(nav)
    return Keyboard(inline_keyboard=rows)


def history_keyboard(page: int, pages: int) -> Keyboard | None:
    nav = pager_row(page, pages, lambda number: HistoryCallback(page=number))
    return Keyboard(inline_keyboard=[nav]) if nav else None
