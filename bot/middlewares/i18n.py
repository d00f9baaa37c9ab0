from __future__ import annotations

from typing import Any

from aiogram.types import TelegramObject, User
from aiogram.utils.i18n import I18n, I18nMiddleware

from bot.config import SUPPORTED_LOCALES
from bot.i18n import pick_locale
from bot.storage.users import UserRepo


class UserLocaleMiddleware(I18nMiddleware):
    """The user's chosen language (its own Redis key), else Telegram's language_code.

    Kept out of FSM data on purpose: ``/cancel`` clears FSM data and must not forget it.
    """

    def __init__(self, i18n: I18n, users: UserRepo) -> None:
        super().__init__(i18n=i18n)
        self._users = users

    async def get_locale(self, event: TelegramObject, data: dict[str, Any]) -> str:
        # Handlers take ``locale: str`` instead of reaching into the I18n object.
        data["locale"] = locale = await self._pick(data.get("event_from_user"), data)
        return locale

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
