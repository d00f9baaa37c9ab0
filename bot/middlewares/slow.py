"""Signs of life while an update waits for a slow provider.

A provider may take seconds to answer (up to its timeout). Meanwhile a message got nothing
back, and a tapped button kept spinning until its answer, which Telegram refuses after about
15 s. Once an update has run ``SLOW_REPLY_AFTER`` seconds the chat shows "typing" (renewed
until the reply), and a tap is answered at once (see ``callback_answer.py``); fast updates
cost one timer and send nothing more.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any, Final

from aiogram import BaseMiddleware, Bot
from aiogram.enums import ChatAction
from aiogram.exceptions import TelegramAPIError
from aiogram.types import CallbackQuery, Message, TelegramObject

from bot.config import Settings
from bot.middlewares.base import Handler

log = logging.getLogger(__name__)

#: Telegram shows a chat action for about 5 s: renewed a little sooner.
TYPING_EVERY: Final = 4.0
#: When no settings are at hand (SLOW_REPLY_AFTER's default).
DEFAULT_AFTER: Final = 1.0


def slow_after(data: dict[str, Any]) -> float:
    settings: Settings | None = data.get("settings")
    return DEFAULT_AFTER if settings is None else settings.slow_reply_after


def chat_of(event: TelegramObject) -> int | None:
    if isinstance(event, Message):
        return event.chat.id
    if isinstance(event, CallbackQuery) and isinstance(event.message, Message):
        return event.message.chat.id
    return None


class SlowWatch:
    """Around one update (``running``): once it has run ``after`` seconds, ``on_slow`` runs
    (once, and to its end even if the update ends meanwhile), then "typing" is shown until the
    update ends. ``slow`` tells afterwards whether ``on_slow`` started."""

    def __init__(
        self,
        bot: Bot,
        chat_id: int | None,
        after: float,
        on_slow: Callable[[], Awaitable[object]] | None = None,
    ) -> None:
        self._bot = bot
        self._chat_id = chat_id
        self._after = after
        self._on_slow = on_slow
        self._first: asyncio.Future[object] | None = None
        self.slow = False

    @contextlib.asynccontextmanager
    async def running(self) -> AsyncIterator[None]:
        watcher = asyncio.create_task(self._watch())
        try:
            yield
        finally:
            watcher.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await watcher
            if self._first is not None:
                # The early answer is under way: the caller must know how it ended first.
                with contextlib.suppress(Exception):
                    await self._first

    async def _watch(self) -> None:
        await asyncio.sleep(self._after)
        self.slow = True
        if self._on_slow is not None:
            self._first = asyncio.ensure_future(self._on_slow())
            try:
                await asyncio.shield(self._first)
            except Exception as error:  # a sign of life that fails is no reason to fail
                log.warning("no early answer to a slow tap: %s", type(error).__name__)
        if self._chat_id is None:
            return
        while True:
            with contextlib.suppress(TelegramAPIError):
                await self._bot.send_chat_action(self._chat_id, ChatAction.TYPING)
            await asyncio.sleep(TYPING_EVERY)


class TypingWhileSlow(BaseMiddleware):
    """Messages: "typing" while a slow one is handled (taps: ``AnswerUnlessFailed``)."""

    async def __call__(self, handler: Handler, event: TelegramObject, data: dict[str, Any]) -> Any:
        async with SlowWatch(data["bot"], chat_of(event), slow_after(data)).running():
            return await handler(event, data)
