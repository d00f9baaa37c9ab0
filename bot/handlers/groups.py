"""Outside private chats the bot only says where it works: keys and numbers are personal.

It says so only to messages addressed to it (a command, a mention, a reply to the bot), as a
bot in privacy mode sees them: a bot made a group admin, or with privacy mode off, sees all the
chatter and must not answer "hi everyone".
"""

from __future__ import annotations

from aiogram import Bot, F
from aiogram.enums import ChatType
from aiogram.types import CallbackQuery, Message
from aiogram.utils.callback_answer import CallbackAnswer

from bot.handlers.routes import Routes
from bot.handlers.unsettled import alert
from bot.i18n import lazy_gettext as __

router = Routes(name=__name__, answer_taps=True)
router.message.filter(F.chat.type != ChatType.PRIVATE)
router.callback_query.filter(F.message.chat.type != ChatType.PRIVATE)

_TEXT = __(
    "I work in private chats only: your key and numbers are yours alone. Write to me directly."
)


async def addressed_to_me(message: Message, bot: Bot) -> bool:
    """A command for any bot or for this one, a reply to this bot, or an @mention of it."""
    me = await bot.me()
    replied = message.reply_to_message
    if replied is not None and replied.from_user is not None and replied.from_user.id == me.id:
        return True
    text = message.text or message.caption or ""
    username = (me.username or "").lower()
    if text.startswith("/"):
        target = text.split(maxsplit=1)[0].partition("@")[2]
        return not target or target.lower() == username
    return bool(username) and f"@{username}" in text.lower()


@router.message(addressed_to_me)
async def group_message(message: Message) -> None:
    await message.answer(str(_TEXT))


@router.callback_query()
async def group_button(query: CallbackQuery, callback_answer: CallbackAnswer) -> None:
    alert(callback_answer, str(_TEXT))
