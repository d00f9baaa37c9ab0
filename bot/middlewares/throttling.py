from __future__ import annotations

import time
from typing import Any

from aiogram import BaseMiddleware
from aiogram.types import CallbackQuery, Message, TelegramObject, User
from aiogram.utils.i18n import gettext as _
from redis.asyncio import Redis

from bot.middlewares.base import Handler
from bot.storage import keys


class ThrottlingMiddleware(BaseMiddleware):
    """At most ``rate`` updates per user per ``window`` seconds, counted in Redis.

    The first update over the limit gets a polite "slow down"; the rest of the burst is dropped
    silently, so a flood costs one reply, not one per message. Counting in Redis keeps the limit
    right when several bot replicas share the load.
    """

    def __init__(self, redis: Redis, *, rate: int = 6, window: float = 3.0) -> None:
        self._redis = redis
        self._rate = rate
        self._window = window

    async def __call__(self, handler: Handler, event: TelegramObject, data: dict[str, Any]) -> Any:
        user: User | None = data.get("event_from_user")
        if user is None:
            return await handler(event, data)
        slot = int(time.time() // self._window)
        key = keys.throttle(user.id, slot)
        async with self._redis.pipeline(transaction=True) as pipe:
            pipe.incr(key)
            pipe.expire(key, int(self._window) + 1)
            count, _ok = await pipe.execute()
        if int(count) <= self._rate:
            return await handler(event, data)
        if int(count) == self._rate + 1:
            text = _("Slow down a little, please: too many messages at once.")
            if isinstance(event, CallbackQuery):
                await event.answer(text, show_alert=False)
            elif isinstance(event, Message):
                await event.answer(text)
        elif isinstance(event, CallbackQuery):
            await event.answer()
        return None
