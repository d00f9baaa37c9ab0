"""aiogram's automatic callback answer, leaving failures to the errors router.

``CallbackAnswerMiddleware`` answers in a ``finally``: a handler that raises (``StaleButton``,
a provider error) would get an empty answer first, and the errors router's alert would then be
refused by Telegram (a query is answered once). Here a raising handler's query stays
unanswered, for the errors router to answer with the explanation.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from aiogram.types import TelegramObject
from aiogram.utils.callback_answer import CallbackAnswer, CallbackAnswerMiddleware


class AnswerCallbacks(CallbackAnswerMiddleware):
    async def __call__(
        self,
        handler: Callable[[TelegramObject, dict[str, Any]], Awaitable[Any]],
        event: TelegramObject,
        data: dict[str, Any],
    ) -> Any:
        async def leave_failures(event: TelegramObject, data: dict[str, Any]) -> Any:
            try:
                return await handler(event, data)
            except Exception:
                answer: CallbackAnswer | None = data.get("callback_answer")
                if answer is not None and not answer.answered:
                    answer.disable()
                raise

        return await super().__call__(leave_failures, event, data)
