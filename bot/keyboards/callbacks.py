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


class ActAction(StrEnum):
    READY = "rd"
    ANOTHER = "an"
    FINISH = "fi"
    CANCEL = "ca"
    REFRESH = "rf"
    AGAIN = "ag"
    EXTRA = "ex"
    EXTRA_CONFIRM = "eo"
    SHOW = "sh"


class ActCallback(CallbackData, prefix="a"):
    """A button on an activation card; ``id`` is checked against the presser's own list."""

    action: ActAction
    id: int


class BuyAction(StrEnum):
    SERVICE = "s"
    SERVICE_PAGE = "sp"
    COUNTRY = "c"
    COUNTRY_PAGE = "cp"
    SORT = "so"
    OPERATORS = "om"
    OPERATOR = "op"
    MAX_PRICE = "mp"
    MAX_PRICE_SET = "ms"
    MAX_PRICE_CLEAR = "mc"
    VERIFY = "v"
    EXCLUDE = "ex"
    EXCLUDE_CLEAR = "ec"
    TO_SERVICES = "bs"
    TO_COUNTRIES = "bc"
    TO_OPTIONS = "bo"
    CONFIRM = "ok"
    CANCEL = "x"


class BuyCallback(CallbackData, prefix="b"):
    action: BuyAction
    value: str = ""


class HistoryCallback(CallbackData, prefix="h"):
    page: int
