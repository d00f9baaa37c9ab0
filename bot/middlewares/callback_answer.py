"""aiogram's ``CallbackAnswerMiddleware``, leaving a failed handler's answer to the errors router,
and answering a slow tap at once.

aiogram answers in a ``finally``, so a handler that raises (``StaleButton``, a provider error)
would get an empty answer first; Telegram takes one answer per query, and the errors router's
alert would then be refused and the explanation lost.

A tap whose handler waits on a slow provider is answered once it has run ``SLOW_REPLY_AFTER``
seconds, with a short "waiting for <provider>" (or a flagged text: ``BUYING``), and the chat
shows "typing" until it is done (see ``slow.py``). An alert the handler gives after that goes
into the chat as a message; the errors router does the same with its own.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from enum import StrEnum
from typing import Any, Final

from aiogram.dispatcher.flags import get_flag
from aiogram.types import CallbackQuery, Message, TelegramObject
from aiogram.utils.callback_answer import CallbackAnswer, CallbackAnswerMiddleware

from bot.accounts import Accounts
from bot.i18n import gettext as _
from bot.middlewares.base import Handler
from bot.middlewares.slow import SlowWatch, chat_of, slow_after


class Slow(StrEnum):
    """What a slow tap's early answer says."""

    WAITING = "waiting"
    BUYING = "buying"


_SLOW_FLAG: Final = "slow_tap"
#: Flags of a confirmation that pays: its slow tap says "Buying…".
BUYING: Final = {_SLOW_FLAG: Slow.BUYING}


async def _slow_text(data: dict[str, Any], user_id: int) -> str:
    """Read once the tap is slow: only then is the presser's provider looked up."""
    if get_flag(data, _SLOW_FLAG) is Slow.BUYING:
        return _("⏳ Buying…")
    accounts: Accounts | None = data.get("accounts")
    name = await accounts.users.get_provider(user_id) if accounts is not None else None
    preset = accounts.hub.preset(name) if accounts is not None and name else None
    if preset is None:
        return _("⏳ One moment…")
    # An answer is plain text: the title goes in as it is.
    return _("⏳ Waiting for {provider}…").format(provider=preset.title)


class AnswerUnlessFailed(CallbackAnswerMiddleware):
    """Handlers set ``callback_answer: CallbackAnswer`` (text, show_alert) and never answer."""

    async def __call__(self, handler: Handler, event: TelegramObject, data: dict[str, Any]) -> Any:
        if not isinstance(event, CallbackQuery):
            return await handler(event, data)
        answer = self.construct_callback_answer(properties=get_flag(data, "callback_answer"))
        data["callback_answer"] = answer
        if answer.answered and not answer.disabled:
            await self.answer(event, answer)
        on_slow = None
        if not answer.answered and not answer.disabled:
            on_slow = _early_answer(event, data)
        watch = SlowWatch(data["bot"], chat_of(event), slow_after(data), on_slow)
        try:
            async with watch.running():
                result = await handler(event, data)
        except Exception:
            if not answer.answered:
                answer.disable()
            raise
        if answer.disabled or answer.answered:
            return result
        if watch.slow and on_slow is not None:
            await _late(event, answer)
        else:
            await self.answer(event, answer)
        return result


def _early_answer(event: CallbackQuery, data: dict[str, Any]) -> Callable[[], Awaitable[object]]:
    async def answer() -> object:
        return await event.answer(await _slow_text(data, event.from_user.id))

    return answer


async def _late(event: CallbackQuery, answer: CallbackAnswer) -> None:
    """The tap was answered early: an alert (a refusal, an explanation) goes into the chat;
    a toast ("Bought!") is left out, the screen it came with says as much."""
    if answer.show_alert and answer.text and isinstance(event.message, Message):
        await event.message.answer(answer.text)
