"""Renting a number: /rent, the rent card, its extension and /rents.

Modules: ``order`` (the steps of /rent and typed input), ``buttons`` (one handler per /rent
button), ``card`` (the card's buttons and /rents), ``extend`` (the extension dialog),
``dialog`` (states and the typed FSM data), ``outcome`` (what a confirmation led to).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from aiogram import Router
from aiogram.types import TelegramObject
from aiogram.utils.callback_answer import CallbackAnswer, CallbackAnswerMiddleware

from bot.handlers.rent import buttons, card, extend, order


class AnswerUnlessFailed(CallbackAnswerMiddleware):
    """aiogram's answer after the handler, except when the handler fails.

    A callback can be answered only once: a failure is left to the errors router, which
    answers with the reason (``StaleButton``, a provider error) instead of an empty answer.
    """

    async def __call__(
        self,
        handler: Callable[[TelegramObject, dict[str, Any]], Awaitable[Any]],
        event: TelegramObject,
        data: dict[str, Any],
    ) -> Any:
        async def guarded(event: TelegramObject, data: dict[str, Any]) -> Any:
            try:
                return await handler(event, data)
            except Exception:
                answer: CallbackAnswer | None = data.get("callback_answer")
                if answer is not None and not answer.answered:
                    answer.disabled = True
                raise

        return await super().__call__(guarded, event, data)


router = Router(name=__name__)
router.callback_query.middleware(AnswerUnlessFailed())
router.include_routers(order.router, buttons.router, card.router, extend.router)
