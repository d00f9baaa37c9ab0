"""Every inline button's callback data, in one place.

Callback data is typed and short (Telegram allows 64 bytes) and never trusted: a handler that
receives an id checks that the object belongs to the user who pressed the button.
"""

from __future__ import annotations

from enum import StrEnum

from aiogram.filters.callback_data import CallbackData


class ProviderCallback(CallbackData, prefix="prov"):
    name: str


class LanguageCallback(CallbackData, prefix="lang"):
    locale: str


class KeyAction(StrEnum):
    CONNECT = "connect"
    REPLACE = "replace"
    REMOVE = "remove"
    REMOVE_CONFIRM = "remove_ok"
    CLOSE = "close"


class KeyCallback(CallbackData, prefix="key"):
    action: KeyAction


class DialogCallback(CallbackData, prefix="dlg"):
    """Leave the open dialog (the inline twin of /cancel)."""

    action: str = "cancel"
