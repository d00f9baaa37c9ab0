"""The presser's provider account in handler data, for the handlers that ask for it.

A handler flagged ``flags=NEEDS_ACCOUNT`` gets ``account: UserAccount``; a user with no key
meets ``NoKeyConnected`` before the handler runs, and the errors router explains it. Handlers
without the flag pay nothing: /start, /help and the key dialog never read a key.
"""

from __future__ import annotations

from typing import Any, Final

from aiogram import BaseMiddleware
from aiogram.dispatcher.flags import get_flag
from aiogram.types import TelegramObject, User

from bot.accounts import Accounts
from bot.middlewares.base import Handler

ACCOUNT_FLAG: Final = "account"
NEEDS_ACCOUNT: Final = {ACCOUNT_FLAG: True}


class AccountMiddleware(BaseMiddleware):
    """An inner middleware: flags are known only once the handler is chosen."""

    def __init__(self, accounts: Accounts) -> None:
        self._accounts = accounts

    async def __call__(self, handler: Handler, event: TelegramObject, data: dict[str, Any]) -> Any:
        user: User | None = data.get("event_from_user")
        if user is not None and get_flag(data, ACCOUNT_FLAG):
            data["account"] = await self._accounts.get(user.id, data.get("glance"))
        return await handler(event, data)
