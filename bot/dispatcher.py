"""The bot's Dispatcher: aiogram's, knowing which updates it is handling right now.

aiogram stops taking updates on SIGTERM but does not wait for the ones in flight; a purchase
cut off there would leave a card nothing updates and a tap never answered. The lifespan asks
``updates_in_flight()`` on shutdown and waits for them before Redis and the clients close.

It is also the door: one user's updates beyond ``PER_USER_IN_FLIGHT`` at once are turned away
on arrival (with one "slow down") instead of queueing behind that user's chat lock, where
each would hold one of the slots every other user's updates need.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections import Counter
from typing import Any

from aiogram import Bot, Dispatcher
from aiogram.exceptions import TelegramAPIError
from aiogram.types import Update
from aiogram.utils.i18n import I18n

from bot.middlewares.key_guard import carries_key

#: Updates of one user handled at once by this process; more wait for nobody, they are
#: turned away (a flood of slow commands must not stall everyone else's updates).
PER_USER_IN_FLIGHT = 4


class BotDispatcher(Dispatcher):
    """Counts an update from ``feed_update``, the one entry of polling, webhook and tests.

    That is before every middleware, so an update still waiting for its chat's turn (the
    events isolation lock) is in flight too.
    """

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._handling: set[asyncio.Task[Any]] = set()
        self._per_user: Counter[int] = Counter()
        self._warned: set[int] = set()

    async def feed_update(self, bot: Bot, update: Update, **kwargs: Any) -> Any:
        user_id = _sender(update)
        if user_id is not None and self._per_user[user_id] >= PER_USER_IN_FLIGHT:
            await self._turn_away(bot, update, user_id)
            return None
        task = asyncio.current_task()
        if user_id is not None:
            self._per_user[user_id] += 1
        if task is not None:
            self._handling.add(task)
        try:
            return await super().feed_update(bot, update, **kwargs)
        finally:
            if task is not None:
                self._handling.discard(task)
            if user_id is not None:
                self._per_user[user_id] -= 1
                if self._per_user[user_id] <= 0:
                    del self._per_user[user_id]
                    self._warned.discard(user_id)

    async def _turn_away(self, bot: Bot, update: Update, user_id: int) -> None:
        """One "slow down" per burst; a tap is answered so its spinner stops; a key in a
        turned-away message is still deleted."""
        text = self._slow_down(update)
        with contextlib.suppress(TelegramAPIError):
            if update.callback_query is not None:
                await bot.answer_callback_query(update.callback_query.id, text=text)
                return
            message = update.message
            if message is None:
                return
            if carries_key(message.text or message.caption or ""):
                await bot.delete_message(message.chat.id, message.message_id)
            if user_id not in self._warned:
                self._warned.add(user_id)
                await bot.send_message(message.chat.id, text)

    def _slow_down(self, update: Update) -> str:
        i18n = self.get("i18n")
        user = update.callback_query.from_user if update.callback_query else None
        if update.message is not None:
            user = update.message.from_user
        wanted = (user.language_code or "") if user is not None else ""
        if not isinstance(i18n, I18n):
            return "Slow down a little, please: too many messages at once."
        locale = wanted[:2] if wanted[:2] in i18n.available_locales else i18n.default_locale
        with i18n.context(), i18n.use_locale(locale):
            return i18n.gettext("Slow down a little, please: too many messages at once.")

    def updates_in_flight(self) -> list[asyncio.Task[Any]]:
        """The tasks handling an update now, other than the caller's own."""
        current = asyncio.current_task()
        return [task for task in self._handling if task is not current and not task.done()]


def _sender(update: Update) -> int | None:
    """Whose update this is (messages and taps; None for the rest)."""
    if update.message is not None and update.message.from_user is not None:
        return update.message.from_user.id
    if update.callback_query is not None:
        return update.callback_query.from_user.id
    return None
