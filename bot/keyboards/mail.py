"""Keyboards of e-mail verification: pure builders from data and translated labels."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from aiogram.types import InlineKeyboardButton, InlineKeyboardMarkup
from aiogram.utils.keyboard import InlineKeyboardBuilder

from bot.keyboards.callbacks import (
    MailAction,
    MailCallback,
    MailFlowAction,
    MailFlowCallback,
    MailHistoryCallback,
)


def _flow(text: str, action: MailFlowAction, index: int = 0) -> InlineKeyboardButton:
    return InlineKeyboardButton(
        text=text, callback_data=MailFlowCallback(action=action, index=index).pack()
    )


def _card(text: str, action: MailAction, mail_id: int) -> InlineKeyboardButton:
    return InlineKeyboardButton(
        text=text, callback_data=MailCallback(action=action, id=mail_id).pack()
    )


def cancel_flow_keyboard(cancel: str) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup(inline_keyboard=[[_flow("✖ " + cancel, MailFlowAction.CANCEL)]])


def domains_keyboard(
    items: Sequence[tuple[int, str]], page: int, pages: int, cancel: str
) -> InlineKeyboardMarkup:
    """``items``: (index into the offer list, label) of this page."""
    builder = InlineKeyboardBuilder()
    for index, label in items:
        builder.row(_flow(label, MailFlowAction.DOMAIN, index))
    if pages > 1:
        nav = []
        if page > 0:
            nav.append(_flow("◀", MailFlowAction.PAGE, page - 1))
        nav.append(_flow(f"{page + 1}/{pages}", MailFlowAction.PAGE, page))
        if page < pages - 1:
            nav.append(_flow("▶", MailFlowAction.PAGE, page + 1))
        builder.row(*nav)
    builder.row(_flow("✖ " + cancel, MailFlowAction.CANCEL))
    return builder.as_markup()


def confirm_keyboard(buy: str, back: str, cancel: str, token: str) -> InlineKeyboardMarkup:
    confirm = MailFlowCallback(action=MailFlowAction.CONFIRM, token=token).pack()
    return InlineKeyboardMarkup(
        inline_keyboard=[
            [InlineKeyboardButton(text="✅ " + buy, callback_data=confirm)],
            [
                _flow("◀ " + back, MailFlowAction.TO_DOMAINS),
                _flow("✖ " + cancel, MailFlowAction.CANCEL),
            ],
        ]
    )


def back_keyboard(back: str, cancel: str) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup(
        inline_keyboard=[
            [
                _flow("◀ " + back, MailFlowAction.TO_DOMAINS),
                _flow("✖ " + cancel, MailFlowAction.CANCEL),
            ]
        ]
    )


@dataclass(frozen=True, slots=True)
class CardLabels:
    cancel: str | None  # None: the state allows no cancel
    another: str | None  # None: no letter to follow up yet
    refresh: str | None


def card_keyboard(mail_id: int, labels: CardLabels) -> InlineKeyboardMarkup | None:
    row = []
    if labels.another is not None:
        row.append(_card(labels.another, MailAction.ANOTHER, mail_id))
    if labels.cancel is not None:
        row.append(_card(labels.cancel, MailAction.CANCEL, mail_id))
    if labels.refresh is not None:
        row.append(_card("🔄 " + labels.refresh, MailAction.REFRESH, mail_id))
    return InlineKeyboardMarkup(inline_keyboard=[row]) if row else None


def letter_keyboard(
    links: Sequence[tuple[str, str]], full: tuple[str, int] | None
) -> InlineKeyboardMarkup | None:
    """``links``: (label, url) buttons; ``full``: (label, mail id) of the "Full letter" button."""
    rows = [[InlineKeyboardButton(text=label, url=url)] for label, url in links]
    if full is not None:
        label, mail_id = full
        rows.append([_card(label, MailAction.FULL, mail_id)])
    return InlineKeyboardMarkup(inline_keyboard=rows) if rows else None


def history_keyboard(
    cards: Sequence[tuple[int, str]], page: int, pages: int
) -> InlineKeyboardMarkup | None:
    """``cards``: (mail id, label) of mailboxes the bot follows, to open their cards."""
    builder = InlineKeyboardBuilder()
    for mail_id, label in cards:
        builder.row(_card(label, MailAction.SHOW, mail_id))
    nav = []
    if page > 0:
        nav.append(
            InlineKeyboardButton(text="◀", callback_data=MailHistoryCallback(page=page - 1).pack())
        )
    if page < pages - 1:
        nav.append(
            InlineKeyboardButton(text="▶", callback_data=MailHistoryCallback(page=page + 1).pack())
        )
    if nav:
        builder.row(*nav)
    markup = builder.as_markup()
    return markup if markup.inline_keyboard else None
