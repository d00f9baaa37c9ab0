"""The bot's Dispatcher: aiogram's, behind a door, knowing which updates it is handling.

aiogram stops taking updates on SIGTERM but does not wait for the ones in flight; a purchase
cut off there would leave a card nothing updates and a tap never answered. The lifespan asks
``updates_in_flight()`` on shutdown and waits for them before Redis and the clients close.

Every update passes the door (:mod:`bot.door`) first, before any middleware and any lock: a
user's flood is turned away on arrival, with one "slow down" per window; a turned-away
message that carries an API key is still deleted.
"""

from __future__ import annotations

import asyncio
import contextlib
from typing import Any

from aiogram import Bot, Dispatcher
from aiogram.enums import ChatType
from aiogram.exceptions import TelegramAPIError
from aiogram.types import Message, Update, User
from redis.exceptions import RedisError

from bot.config import SUPPORTED_LOCALES
from bot.door import Door
from bot.i18n import I18n, pick_locale
from bot.i18n import gettext as _
from bot.middlewares.key_guard import carries_key
from bot.storage.users import UserRepo
from bot.telegram import delete
from bot.views.keys import group_key_text, stray_key_text


class BotDispatcher(Dispatcher):
    """Counts an update from ``feed_update``, the one entry of polling, webhook and tests.

    That is before every middleware, so an update still waiting for its chat's turn (the
    events isolation lock) is in flight too.
    """

    def __init__(self, *, door: Door | None = None, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.door = door or Door()
        self._handling: set[asyncio.Task[Any]] = set()

    async def feed_update(self, bot: Bot, update: Update, **kwargs: Any) -> Any:
        user = _sender(update)
        # No await before this decision: a chat's updates must reach its lock in order.
        if user is not None and not self.door.enter(user.id):
            await self._turn_away(bot, update, user)
            return None
        task = asyncio.current_task()
        if task is not None:
            self._handling.add(task)
        try:
            return await super().feed_update(bot, update, **kwargs)
        finally:
            if task is not None:
                self._handling.discard(task)
            if user is not None:
                self.door.leave(user.id)

    async def _turn_away(self, bot: Bot, update: Update, user: User) -> None:
        """A key is deleted first, whatever else happens; a tap is answered so its spinner
        stops; "slow down" is said once per window."""
        message = update.message.as_(bot) if update.message is not None else None
        deleted: bool | None = None
        if message is not None and carries_key(message.text or message.caption or ""):
            deleted = await delete(message)
        warn = self.door.warn(user.id)
        i18n = self.get("i18n")
        if not isinstance(i18n, I18n):
            return
        locale = await self._locale(user, i18n)
        with i18n.context(), i18n.use_locale(locale), contextlib.suppress(TelegramAPIError):
            text = _("Slow down a little, please: too many messages at once.")
            if update.callback_query is not None:
                await bot.answer_callback_query(
                    update.callback_query.id, text=text if warn else None
                )
            if message is None:
                return
            if deleted is not None:
                await message.answer(_key_note(message, deleted))
            if warn:
                await message.answer(text)

    async def _locale(self, user: User, i18n: I18n) -> str:
        users = self.get("users")
        if isinstance(users, UserRepo):
            # A turned-away update is answered even when Redis is not there to say more.
            with contextlib.suppress(RedisError):
                chosen = await users.get_locale(user.id)
                if chosen in SUPPORTED_LOCALES:
                    return chosen
        return pick_locale(user.language_code, i18n.default_locale)

    def updates_in_flight(self) -> list[asyncio.Task[Any]]:
        """The tasks handling an update now, other than the caller's own."""
        current = asyncio.current_task()
        return [task for task in self._handling if task is not current and not task.done()]


def _key_note(message: Message, deleted: bool) -> str:
    """What the key guard would have said about a key in this chat."""
    if message.chat.type != ChatType.PRIVATE:
        return group_key_text(deleted)
    return stray_key_text(deleted)


def _sender(update: Update) -> User | None:
    """Whose update this is (messages and taps; None for the rest)."""
    if update.message is not None:
        return update.message.from_user
    if update.callback_query is not None:
        return update.callback_query.from_user
    return None
