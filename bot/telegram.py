"""Small Bot API helpers that tolerate what Telegram reports about harmless races."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections import OrderedDict
from collections.abc import Iterator
from contextvars import ContextVar
from typing import TYPE_CHECKING

from aiogram.client.session.aiohttp import AiohttpSession
from aiogram.client.session.middlewares.base import (
    BaseRequestMiddleware,
    NextRequestMiddlewareType,
)
from aiogram.exceptions import (
    TelegramBadRequest,
    TelegramForbiddenError,
    TelegramRetryAfter,
)
from aiogram.methods import Response, TelegramMethod
from aiogram.methods.base import TelegramType
from aiogram.types import CallbackQuery, InlineKeyboardButton, InlineKeyboardMarkup, Message

from bot.botapi import is_harmless as harmless_message
from bot.keyboards.markup import Button, Keyboard

if TYPE_CHECKING:
    from aiogram import Bot


log = logging.getLogger(__name__)

#: Telegram's flood control: how long a reply may wait for its turn before it gives up.
MAX_RETRY_WAIT = 30.0


def is_harmless(error: TelegramBadRequest) -> bool:
    return harmless_message(error.message)


#: Keyboards converted lately, by their buttons: menus (services, countries, a card's
#: buttons) repeat from user to user, and building thirty aiogram models for one took 6% of
#: the bot's CPU under ``bench.updates``. Models sent are only read, so one serves them all.
_MARKUPS: OrderedDict[tuple[tuple[Button, ...], ...], InlineKeyboardMarkup] = OrderedDict()
MARKUPS_KEPT = 512


def inline_markup(keyboard: Keyboard | None) -> InlineKeyboardMarkup | None:
    """A keyboard (plain data, see bot/keyboards/markup.py) as aiogram sends it.

    Built without validation (``model_construct``): the buttons are ours and already well
    formed, and validating a screen of thirty buttons on every update is not free.
    """
    if keyboard is None:
        return None
    rows = tuple(tuple(row) for row in keyboard.inline_keyboard)
    markup = _MARKUPS.get(rows)
    if markup is not None:
        _MARKUPS.move_to_end(rows)
        return markup
    markup = _MARKUPS[rows] = InlineKeyboardMarkup.model_construct(
        inline_keyboard=[
            [
                InlineKeyboardButton.model_construct(
                    text=button.text, callback_data=button.callback_data, url=button.url
                )
                for button in row
            ]
            for row in rows
        ]
    )
    if len(_MARKUPS) > MARKUPS_KEPT:
        _MARKUPS.popitem(last=False)
    return markup


async def edit_text(message: Message, text: str, reply_markup: Keyboard | None = None) -> None:
    try:
        await message.edit_text(text, reply_markup=inline_markup(reply_markup))
    except TelegramBadRequest as error:
        if not is_harmless(error):
            raise


async def drop_keyboard(message: Message) -> None:
    await set_keyboard(message, None)


async def set_keyboard(message: Message, keyboard: Keyboard | None) -> None:
    """Replace only the buttons under ``message`` (its text stays as it is)."""
    try:
        await message.edit_reply_markup(reply_markup=inline_markup(keyboard))
    except TelegramBadRequest as error:
        if not is_harmless(error):
            raise


async def delete(message: Message) -> bool:
    """Delete a message; False when Telegram would not (too old, already gone)."""
    with contextlib.suppress(TelegramBadRequest, TelegramForbiddenError):
        return bool(await message.delete())
    return False


#: A message ``show`` drew: its id, and the buttons it has now.
Drawn = tuple[int, Keyboard | None]
_drawn: ContextVar[list[Drawn] | None] = ContextVar("drawn", default=None)


@contextlib.contextmanager
def drawing() -> Iterator[list[Drawn]]:
    """Collects what ``show`` draws meanwhile (in this task): a dialog's menu moves to the
    message it last drew (see middlewares/menu.py)."""
    drawn: list[Drawn] = []
    token = _drawn.set(drawn)
    try:
        yield drawn
    finally:
        _drawn.reset(token)


async def show(target: CallbackQuery | Message, text: str, reply_markup: Keyboard | None) -> None:
    """A step of a dialog: edit the message whose button was pressed, or answer typed input
    with a new message (the old one is above what the user typed)."""
    drawn = _drawn.get()
    if isinstance(target, CallbackQuery):
        if isinstance(target.message, Message):
            await edit_text(target.message, text, reply_markup)
            if drawn is not None:
                drawn.append((target.message.message_id, reply_markup))
        return
    sent = await target.answer(text, reply_markup=inline_markup(reply_markup))
    if drawn is not None:
        drawn.append((sent.message_id, reply_markup))


class WaitOutRetryAfter(BaseRequestMiddleware):
    """Every Bot API call waits out Telegram's "retry after N" and tries again.

    Without it a reply hit by flood control would fail, and the user would get nothing; the
    wait is bounded so an update is not held forever.
    """

    async def __call__(
        self,
        make_request: NextRequestMiddlewareType[TelegramType],
        bot: Bot,
        method: TelegramMethod[TelegramType],
    ) -> Response[TelegramType]:
        waited = 0.0
        while True:
            try:
                return await make_request(bot, method)
            except TelegramRetryAfter as error:
                if waited + error.retry_after > MAX_RETRY_WAIT:
                    raise
                waited += error.retry_after
                await asyncio.sleep(error.retry_after)


#: ``Response[T]`` for each result type the bot has met; see :class:`BotSession`.
_RESPONSE_MODELS: dict[object, object] = {}


class BotSession(AiohttpSession):
    """aiogram's session, keeping alive the response models it builds on every call.

    ``check_response`` parametrises ``Response[method.__returning__]`` per call, and pydantic
    caches such a class only weakly: once a garbage collection frees it, the next call builds
    the model and its validator again (about 6 ms). A profile of the bot under load showed a
    rebuild every sixth call, 14% of its CPU. There are a few dozen result types, so holding
    each one's class for the life of the process costs nothing and makes every call a hit.
    """

    def check_response(
        self,
        bot: Bot,
        method: TelegramMethod[TelegramType],
        status_code: int,
        content: str,
    ) -> Response[TelegramType]:
        returning = method.__returning__
        if returning not in _RESPONSE_MODELS:
            _RESPONSE_MODELS[returning] = Response[returning]  # type: ignore[valid-type]
        return super().check_response(bot, method, status_code, content)
