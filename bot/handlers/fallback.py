"""Last router: whatever nobody else took gets an answer, never silence."""

from __future__ import annotations

from aiogram import F
from aiogram.fsm.context import FSMContext
from aiogram.types import CallbackQuery, Message
from aiogram.utils.callback_answer import CallbackAnswer

from bot.handlers.routes import Routes
from bot.handlers.unsettled import alert
from bot.i18n import gettext as _
from bot.telegram import drop_keyboard

router = Routes(name=__name__, answer_taps=True)


@router.message(F.text.startswith("/"))
async def unknown_command(message: Message) -> None:
    await message.answer(_("I do not know this command. See /help."))


@router.message()
async def unknown_message(message: Message, state: FSMContext) -> None:
    if await state.get_state() is not None:
        await message.answer(_("I did not understand. Follow the last message, or /cancel."))
        return
    await message.answer(_("I did not understand. See /help for what I can do."))


@router.callback_query()
async def stale_button(query: CallbackQuery, callback_answer: CallbackAnswer) -> None:
    alert(callback_answer, _("This button is out of date. Use the menu again."))
    if isinstance(query.message, Message):
        await drop_keyboard(query.message)
