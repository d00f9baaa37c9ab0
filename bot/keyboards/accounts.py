"""The /key screen: the user's provider accounts and what can be done with each."""

from __future__ import annotations

from collections.abc import Sequence

from bot.keyboards.callbacks import AccountAction, AccountCallback, KeyAction, KeyCallback
from bot.keyboards.markup import Keyboard, KeyboardBuilder


def accounts_keyboard(accounts: Sequence[tuple[str, str]], add: str, close: str) -> Keyboard:
    """One button per (account id, label), then "add" and "close"."""
    builder = KeyboardBuilder()
    for account_id, label in accounts:
        builder.button(
            text=label,
            callback_data=AccountCallback(action=AccountAction.OPEN, account=account_id),
        )
    builder.button(text=add, callback_data=KeyCallback(action=KeyAction.CONNECT))
    builder.button(text=close, callback_data=KeyCallback(action=KeyAction.CLOSE))
    builder.adjust(*([1] * len(accounts)), 2)
    return builder.as_markup()


def account_keyboard(
    account_id: str, make_default: str | None, rename: str, remove: str, back: str
) -> Keyboard:
    """One account's actions (``make_default`` None: it is the default already)."""
    builder = KeyboardBuilder()
    actions = [
        (make_default, AccountAction.DEFAULT),
        (rename, AccountAction.RENAME),
        (remove, AccountAction.REMOVE),
        (back, AccountAction.LIST),
    ]
    for label, action in actions:
        if label is not None:
            builder.button(
                text=label, callback_data=AccountCallback(action=action, account=account_id)
            )
    builder.adjust(1 if make_default else 2, 2)
    return builder.as_markup()


def confirm_account_removal_keyboard(account_id: str, yes: str, no: str) -> Keyboard:
    builder = KeyboardBuilder()
    builder.button(
        text=yes,
        callback_data=AccountCallback(action=AccountAction.REMOVE_CONFIRM, account=account_id),
    )
    builder.button(
        text=no, callback_data=AccountCallback(action=AccountAction.OPEN, account=account_id)
    )
    return builder.as_markup()
