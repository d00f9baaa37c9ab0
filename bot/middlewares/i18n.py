from __future__ import annotations

from typing import Any

from aiogram import BaseMiddleware, Router
from aiogram.types import TelegramObject, User

from bot.config import SUPPORTED_LOCALES
from bot.i18n import I18n, pick_locale
from bot.middlewares.base import Handler
from bot.storage.users import UserRepo


class UserLocaleMiddleware(BaseMiddleware):
    """The user's chosen language (its own Redis key), else Telegram's language_code.

    Kept out of FSM data on purpose: ``/cancel`` clears FSM data and must not forget it.
    """

    def __init__(self, i18n: I18n, users: UserRepo) -> None:
        self.i18n = i18n
        self._users = users

    def setup(self, router: Router) -> UserLocaleMiddleware:
        """Around every event but the raw update (its user is known only per event)."""
        for name, observer in router.observers.items():
            if name != "update":
                observer.outer_middleware(self)
        return self

    async def __call__(self, handler: Handler, event: TelegramObject, data: dict[str, Any]) -> Any:
        # Handlers take ``locale: str`` instead of reaching into the I18n object.
        data["locale"] = locale = await self._pick(data.get("event_from_user"), data)
        data["i18n"] = self.i18n
        with self.i18n.context(), self.i18n.use_locale(locale):
            return await handler(event, data)

    async def _pick(self, user: User | None, data: dict[str, Any]) -> str:
        if user is None:
            return self.i18n.default_locale
        # Read once for the update: the account middleware takes the key from it.
        data["glance"] = glance = await self._users.glance(user.id)
        if glance.chosen_locale in SUPPORTED_LOCALES:
            return glance.chosen_locale
        locale = pick_locale(user.language_code, self.i18n.default_locale)
        if locale != glance.seen_locale:
            # The worker writes to users outside any update: it needs to know their language.
            await self._users.remember_telegram_locale(user.id, locale)
        return locale
