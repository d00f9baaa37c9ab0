"""The one signature every ``BaseMiddleware.__call__`` here shares, named once."""

from __future__ import annotations

from typing import TypeAlias

from aiogram.dispatcher.event.bases import NextMiddlewareType
from aiogram.types import TelegramObject

#: What a middleware calls to go on: the next middleware, or at the end the handler.
Handler: TypeAlias = NextMiddlewareType[TelegramObject]
