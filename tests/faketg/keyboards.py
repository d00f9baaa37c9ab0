"""Reply markup as the Bot API server parses it (``get_reply_markup`` in Client.cpp).

Messages carry only inline keyboards; a reply keyboard changes the user's input field instead,
so ``parse_reply_markup`` returns which of the two was sent.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any, Final

from . import errors
from .errors import ApiError, bad_request

MAX_CALLBACK_DATA_BYTES: Final = 64
MAX_INLINE_BUTTONS: Final = 100
_INLINE_ACTIONS: Final = (
    "callback_game",
    "pay",
    "switch_inline_query",
    "switch_inline_query_current_chat",
    "switch_inline_query_chosen_chat",
    "login_url",
    "web_app",
    "copy_text",
)
_URL_SCHEMES: Final = ("http://", "https://", "tg://", "ton://")


@dataclass
class ParsedMarkup:
    inline_keyboard: list[list[dict[str, Any]]] | None = None
    reply_keyboard: list[list[str]] | None = None
    remove_keyboard: bool = False

    def message_markup(self) -> dict[str, Any] | None:
        if self.inline_keyboard is None:
            return None
        return {"inline_keyboard": self.inline_keyboard}


def parse_reply_markup(raw: str) -> ParsedMarkup:
    if not raw:
        return ParsedMarkup()
    try:
        value = json.loads(raw)
    except ValueError:
        raise bad_request("Can't parse reply keyboard markup JSON object") from None
    if not isinstance(value, dict):
        raise bad_request("Object expected as reply markup")
    result = ParsedMarkup()
    if "keyboard" in value:
        result.reply_keyboard = _reply_rows(value["keyboard"])
    if "inline_keyboard" in value:
        result.inline_keyboard = _inline_rows(value["inline_keyboard"])
    remove = value.get("remove_keyboard", value.get("hide_keyboard"))
    if remove is not None and not isinstance(remove, bool):
        raise bad_request(
            'Field "remove_keyboard" of the ReplyKeyboardRemove must be of the type Boolean'
        )
    result.remove_keyboard = bool(remove)
    # The server keeps one kind, in this order: reply keyboard, inline keyboard, removal.
    if result.reply_keyboard:
        result.inline_keyboard = None
        result.remove_keyboard = False
    elif result.inline_keyboard:
        result.reply_keyboard = None
        result.remove_keyboard = False
    else:
        result.reply_keyboard = None
        result.inline_keyboard = None
    return result


def _reply_rows(keyboard: Any) -> list[list[str]]:
    if not isinstance(keyboard, list):
        raise bad_request('Field "keyboard" of the ReplyKeyboardMarkup must be an Array')
    rows: list[list[str]] = []
    for row in keyboard:
        if not isinstance(row, list):
            raise bad_request(
                'Field "keyboard" of the ReplyKeyboardMarkup must be an Array of Arrays'
            )
        texts: list[str] = []
        for button in row:
            if isinstance(button, str):
                texts.append(button)
            elif isinstance(button, dict) and isinstance(button.get("text"), str):
                texts.append(button["text"])
            elif isinstance(button, dict):
                raise bad_request("Can't parse keyboard button: Can't find field \"text\"")
            else:
                raise bad_request(
                    "Can't parse keyboard button: KeyboardButton must be a String or an Object"
                )
        rows.append(texts)
    return rows


def _inline_rows(keyboard: Any) -> list[list[dict[str, Any]]]:
    if not isinstance(keyboard, list):
        raise bad_request('Field "inline_keyboard" of the InlineKeyboardMarkup must be an Array')
    rows: list[list[dict[str, Any]]] = []
    for row in keyboard:
        if not isinstance(row, list):
            raise bad_request(
                'Field "inline_keyboard" of the InlineKeyboardMarkup must be an Array of Arrays'
            )
        rows.append([_inline_button(button) for button in row])
    if sum(len(row) for row in rows) > MAX_INLINE_BUTTONS:
        raise ApiError(400, errors.REPLY_MARKUP_TOO_LONG)
    return [row for row in rows if row]


def _inline_button(button: Any) -> dict[str, Any]:
    def fail(reason: str) -> ApiError:
        return bad_request(f"Can't parse inline keyboard button: {reason}")

    if not isinstance(button, dict):
        raise fail("InlineKeyboardButton must be an Object")
    if "text" not in button:
        raise fail('Can\'t find field "text"')
    text = button["text"]
    if not isinstance(text, str):
        raise fail('Field "text" must be of type String')
    url = button.get("url")
    if url:
        if not isinstance(url, str):
            raise fail('Field "url" must be of type String')
        if not url.startswith(_URL_SCHEMES) or any(char.isspace() for char in url):
            raise ApiError(400, errors.BUTTON_URL_INVALID)
        return {"text": text, "url": url}
    data = button.get("callback_data")
    if data:
        if not isinstance(data, str):
            raise fail('Field "callback_data" must be of type String')
        if len(data.encode("utf-8")) > MAX_CALLBACK_DATA_BYTES:
            raise ApiError(400, errors.BUTTON_DATA_INVALID)
        return {"text": text, "callback_data": data}
    for action in _INLINE_ACTIONS:
        if action in button:
            return {"text": text, action: button[action]}
    raise fail("Text buttons are unallowed in the inline keyboard")
