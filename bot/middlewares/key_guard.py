"""No API key stays in a chat: a message carrying one is deleted before anything else runs.

Outermost on messages: ``/key <KEY>``, and a text shaped like an API key, are deleted here
whatever happens next (a message the door turns away on arrival, see bot/door.py, is checked
for a key there). In the key dialog (or
with ``/key``) the key handlers go on with ``key_deleted`` telling whether Telegram deleted it;
a key pasted at any other step is not read as that step's input; in a group the key is
already seen by others, so the owner is told to replace it.
"""

from __future__ import annotations

import re
from typing import Any

from aiogram import BaseMiddleware
from aiogram.enums import ChatType
from aiogram.types import Message, TelegramObject

from bot.middlewares.base import Handler
from bot.telegram import delete
from bot.views.keys import group_key_text, stray_key_text

#: What a provider's API key looks like (SMS-Activate, HeroSMS and the others use 32 hex or
#: alphanumeric characters): long, no spaces, letters and digits mixed.
_KEY_SHAPE = re.compile(r"^[A-Za-z0-9_-]{16,128}$")
KEY_STATE = "KeyForm:waiting_key"


def looks_like_key(text: str) -> bool:
    candidate = text.strip()
    if not _KEY_SHAPE.match(candidate):
        return False
    digits = sum(char.isdigit() for char in candidate)
    letters = sum(char.isalpha() for char in candidate)
    return digits >= 4 and letters >= 4


def carries_key(text: str) -> bool:
    """``/key <something>``, or a bare key."""
    command, _, rest = text.strip().partition(" ")
    if command.split("@", 1)[0].lower() == "/key":
        return bool(rest.strip())
    return looks_like_key(text)


class KeyGuard(BaseMiddleware):
    async def __call__(self, handler: Handler, event: TelegramObject, data: dict[str, Any]) -> Any:
        if not isinstance(event, Message) or not carries_key(event.text or event.caption or ""):
            return await handler(event, data)
        deleted = await delete(event)
        if event.chat.type != ChatType.PRIVATE:
            await event.answer(group_key_text(deleted))
            return None
        in_dialog = data.get("raw_state") == KEY_STATE
        if in_dialog or (event.text or "").lstrip().lower().startswith("/key"):
            data["key_deleted"] = deleted
            return await handler(event, data)
        await event.answer(stray_key_text(deleted))
        return None
