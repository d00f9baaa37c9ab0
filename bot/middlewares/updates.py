"""Counting the updates the dispatcher handles (the metrics themselves: bot/metrics.py)."""

from __future__ import annotations

from typing import Any

from aiogram import BaseMiddleware
from aiogram.types import TelegramObject, Update

from bot.metrics import Metrics
from bot.middlewares.base import Handler


class UpdateCounter(BaseMiddleware):
    """Counts every update the dispatcher handles, by type."""

    def __init__(self, metrics: Metrics) -> None:
        self.metrics = metrics

    async def __call__(self, handler: Handler, event: TelegramObject, data: dict[str, Any]) -> Any:
        if isinstance(event, Update):
            self.metrics.update_handled(event.event_type)
        return await handler(event, data)
