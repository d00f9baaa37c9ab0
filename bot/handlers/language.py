from __future__ import annotations

import contextlib

from aiogram import Bot
from aiogram.exceptions import TelegramAPIError
from aiogram.filters import Command
from aiogram.types import BotCommandScopeChat, CallbackQuery, Message
from aiogram.utils.callback_answer import CallbackAnswer

from bot.accounts import Accounts
from bot.commands import bot_commands
from bot.config import SUPPORTED_LOCALES
from bot.handlers.routes import Routes
from bot.handlers.unsettled import alert
from bot.i18n import I18n
from bot.i18n import gettext as _
from bot.keyboards.callbacks import LanguageCallback
from bot.keyboards.common import languages_keyboard
from bot.telegram import edit_text, inline_markup

router = Routes(name=__name__, answer_taps=True)


@router.message(Command("language"))
async def language_command(message: Message, i18n: I18n) -> None:
    await message.answer(
        _("Choose your language:"),
        reply_markup=inline_markup(languages_keyboard(i18n.current_locale)),
    )


@router.callback_query(LanguageCallback.filter())
async def language_chosen(
    query: CallbackQuery,
    callback_data: LanguageCallback,
    accounts: Accounts,
    i18n: I18n,
    bot: Bot,
    callback_answer: CallbackAnswer,
) -> None:
    locale = callback_data.locale
    if locale not in SUPPORTED_LOCALES:
        alert(callback_answer, _("This language is not available."))
        return
    await accounts.users.set_locale(query.from_user.id, locale)
    with i18n.use_locale(locale):
        text = _("Done: I will speak English with you.")
    if isinstance(query.message, Message):
        await edit_text(query.message, text)
    # The menu follows the choice in this chat, not only Telegram's app language.
    with contextlib.suppress(TelegramAPIError):
        await bot.set_my_commands(
            bot_commands(i18n, locale), scope=BotCommandScopeChat(chat_id=query.from_user.id)
        )
