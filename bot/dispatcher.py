"""The bot's Dispatcher: aiogram's, knowing which updates it is handling right now.

aiogram stops taking updates on SIGTERM but does not wait for the ones in flight; a purchase
cut off there would leave a card nothing updates and a tap never answered. The lifespan asks
``updates_in_flight()`` on shutdown and waits for them before Redis and the clients close.
"""

from __future__ import annotations

import asyncio
from typing import Any

from aiogram import Bot, Dispatcher
from aiogram.types import Update


class BotDispatcher(Dispatcher):
    """Counts an update from ``feed_update``, the one entry of polling, webhook and tests.

    That is before every middleware, so an update still waiting for its chat's turn (the
    events isolation lock) is in flight too.
    """

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._handling: set[asyncio.Task[Any]] = set()

    async def feed_update(self, bot: Bot, update: Update, **kwargs: Any) -> Any:
        task = asyncio.current_task()
        if task is None:  # not in a task: nothing could wait for it anyway
            return await super().feed_update(bot, update, **kwargs)
        self._handling.add(task)
        try:
            return await super().feed_update(bot, update, **kwargs)
        finally:
            self._handling.discard(task)

    def updates_in_flight(self) -> list[asyncio.Task[Any]]:
        """The tasks handling an update now, other than the caller's own."""
        current = asyncio.current_task()
        return [task for task in self._handling if task is not current and not task.done()]
