"""Keyboards of e-mail verification: pure builders from data and translated labels."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from bot.keyboards.callbacks import (
    MailAction,
    MailCallback,
    MailConfirmCallback,
    MailFlowAction,
    MailFlowCallback,
    MailHistoryCallback,
    MailOfferCallback,
    MailOffersPageCallback,
    MailReorderCallback,
)
from bot.keyboards.common import button
from bot.keyboards.markup import Button, Keyboard, KeyboardBuilder
from bot.keyboards.pager import pager_row


def _flow(text: str, action: MailFlowAction) -> Button:
    return button(text, MailFlowCallback(action=action))


def _card(text: str, action: MailAction, mail_id: int) -> Button:
    return button(text, MailCallback(action=action, id=mail_id))


def cancel_flow_keyboard(cancel: str) -> Keyboard:
    return Keyboard(inline_keyboard=[[_flow("✖ " + cancel, MailFlowAction.CANCEL)]])


def domains_keyboard(
    items: Sequence[tuple[int, str]], page: int, pages: int, cancel: str
) -> Keyboard:
    """``items``: (index into the offer list, label) of this page."""
    builder = KeyboardBuilder()
    for index, label in items:
        builder.row(button(label, MailOfferCallback(index=index)))
    nav = pager_row(page, pages, lambda to: MailOffersPageCallback(page=to))
    if nav:
        builder.row(*nav)
    builder.row(_flow("✖ " + cancel, MailFlowAction.CANCEL))
    return builder.as_markup()


def confirm_keyboard(buy: str, back: str, cancel: str, token: str) -> Keyboard:
    return Keyboard(
        inline_keyboard=[
            [button("✅ " + buy, MailConfirmCallback(token=token))],
            [
                _flow("◀ " + back, MailFlowAction.TO_DOMAINS),
                _flow("✖ " + cancel, MailFlowAction.CANCEL),
            ],
        ]
    )


def back_keyboard(back: str, cancel: str) -> Keyboard:
    return Keyboard(
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


def card_keyboard(mail_id: int, labels: CardLabels) -> Keyboard | None:
    row = []
    if labels.another is not None:
        row.append(_card(labels.another, MailAction.ANOTHER, mail_id))
    if labels.cancel is not None:
        row.append(_card(labels.cancel, MailAction.CANCEL, mail_id))
    if labels.refresh is not None:
        row.append(_card("🔄 " + labels.refresh, MailAction.REFRESH, mail_id))
    return Keyboard(inline_keyboard=[row]) if row else None


def letter_keyboard(
    links: Sequence[tuple[str, str]], full: tuple[str, int] | None
) -> Keyboard | None:
    """``links``: (label, url) buttons; ``full``: (label, mail id) of the "Full letter" button."""
    rows = [[Button(text=label, url=url)] for label, url in links]
    if full is not None:
        label, mail_id = full
        rows.append([_card(label, MailAction.FULL, mail_id)])
    return Keyboard(inline_keyboard=rows) if rows else None


def history_keyboard(cards: Sequence[tuple[int, str]], page: int, pages: int) -> Keyboard | None:
    """``cards``: (mail id, label) of mailboxes the bot follows, to open their cards."""
    builder = KeyboardBuilder()
    for mail_id, label in cards:
        builder.row(_card(label, MailAction.SHOW, mail_id))
    nav = pager_row(page, pages, lambda to: MailHistoryCallback(page=to), counter=False)
    if nav:
        builder.row(*nav)
    markup = builder.as_markup()
    return markup if markup.inline_keyboard else None


def letter_offer_keyboard(buy: str, cancel: str, mail_id: int, token: str) -> Keyboard:
    return Keyboard(
        inline_keyboard=[
            [button(buy, MailReorderCallback(id=mail_id, token=token))],
            [_card(cancel, MailAction.ANOTHER_CANCEL, mail_id)],
        ]
    )
