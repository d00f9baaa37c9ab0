"""aiogram's ``CallbackAnswerMiddleware``, leaving a failed handler's answer to the errors router.

aiogram answers in a ``finally``, so a handler that raises (``StaleButton``, a provider error)
would get an empty answer first; Telegram takes one answer per query, and the errors router's
alert would then be refused and the explanation lost.
"""

from __future__ import annotations

from typing import Any

from aiogram.types import TelegramObject
from aiogram.utils.callback_answer import CallbackAnswer, CallbackAnswerMiddleware

from bot.middlewares.base import Handler


class AnswerUnlessFailed(CallbackAnswerMiddleware):
    """Handlers set ``callback_answer: CallbackAnswer`` (text, show_alert) and never answer."""

    async def __call__(self, handler: Handler, event: TelegramObject, data: dict[str, Any]) -> Any:
        async def answered_unless_failed(event: TelegramObject, data: dict[str, Any]) -> Any:
            try:
                return await handler(event, data)
            except Exception:
                answer: CallbackAnswer | None = data.get("callback_answer")
                if answer is not None and not answer.answered:
                    answer.disable()
                raise

        return await super().__call__(answered_unless_failed, event, data)
