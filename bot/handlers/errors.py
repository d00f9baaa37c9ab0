"""One place where failures become answers: the user always hears back, logs stay clean.

Logs name the error class, the provider token and the action, never the update itself (a key
may be in it) and never a key.
"""

from __future__ import annotations

import logging

from aiogram.exceptions import TelegramAPIError, TelegramBadRequest
from aiogram.filters import ExceptionTypeFilter
from aiogram.types import CallbackQuery, ErrorEvent, Message

from bot.accounts import Accounts
from bot.errors import BotError, NoKeyConnected, ProviderUnavailable
from bot.handlers.routes import Routes
from bot.i18n import gettext as _
from bot.keyboards.common import connect_keyboard
from bot.keyboards.markup import Keyboard
from bot.provider.errors import ProviderAPIError, ProviderError
from bot.telegram import inline_markup
from bot.texts import describe_error

router = Routes(name=__name__)
log = logging.getLogger(__name__)

_ALERT_LIMIT = 200


async def _provider_title(event: ErrorEvent, accounts: Accounts) -> str | None:
    user = event.update.event.from_user if hasattr(event.update.event, "from_user") else None
    if user is None:
        return None
    name = await accounts.users.get_provider(user.id)
    preset = accounts.hub.preset(name) if name else None
    return preset.title if preset else None


async def _tell(event: ErrorEvent, text: str, markup: Keyboard | None = None) -> None:
    query = event.update.callback_query
    message = event.update.message
    try:
        if query is not None:
            fits = len(text) <= _ALERT_LIMIT and markup is None
            if await _answered(query, text if fits else None):
                return
            if isinstance(query.message, Message):
                await query.message.answer(text, reply_markup=inline_markup(markup))
        elif message is not None:
            await message.answer(text, reply_markup=inline_markup(markup))
    except TelegramAPIError as error:
        log.warning("could not deliver an error message: %s", type(error).__name__)


async def _answered(query: CallbackQuery, alert: str | None) -> bool:
    """Answer the tap, with ``alert`` if any; True when the alert was shown. A slow tap was
    answered already (see middlewares/callback_answer.py), and Telegram refuses a second
    answer or a late one: the caller then says it in the chat."""
    try:
        await query.answer(alert, show_alert=alert is not None or None)
    except TelegramBadRequest:
        return False
    return alert is not None


@router.error(ExceptionTypeFilter(BotError, ProviderError))
async def expected_failure(event: ErrorEvent, accounts: Accounts) -> None:
    exc = event.exception
    if isinstance(exc, ProviderAPIError):
        log.info("provider refused %s: %s", exc.action, exc.token)
    elif isinstance(exc, ProviderError):
        log.warning("provider failure on %s: %s", exc.action, type(exc).__name__)
    markup = None
    if isinstance(exc, NoKeyConnected | ProviderUnavailable):
        markup = connect_keyboard(_("Connect an account"))
    await _tell(event, describe_error(exc, await _provider_title(event, accounts)), markup)


@router.error()
async def unexpected_failure(event: ErrorEvent) -> None:
    exc = event.exception
    log.error(
        "unhandled %s in update %s",
        type(exc).__name__,
        event.update.update_id,
        exc_info=(type(exc), exc, exc.__traceback__),
    )
    await _tell(event, describe_error(exc))
