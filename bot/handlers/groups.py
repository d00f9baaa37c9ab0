"""Outside private chats the bot only says where it works: keys and numbers are personal."""

from __future__ import annotations

from aiogram import F
from aiogram.enums import ChatType
from aiogram.types import CallbackQuery, Message
from aiogram.utils.callback_answer import CallbackAnswer
from aiogram.utils.i18n import lazy_gettext as __

from bot.handlers.routes import Routes
from bot.handlers.unsettled import alert

router = Routes(name=__name__, answer_taps=True)
router.message.filter(F.chat.type != ChatType.PRIVATE)
router.callback_query.filter(F.message.chat.type != ChatType.PRIVATE)

_TEXT = __(
    "I work in private chats only: your key and numbers are yours alone. Write to me directly."
)


@router.message()
async def group_message(message: Message) -> None:
    await message.answer(str(_TEXT))


@router.callback_query()
async def group_button(query: CallbackQuery, callback_answer: CallbackAnswer) -> None:
    alert(callback_answer, str(_TEXT))
