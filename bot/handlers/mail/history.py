"""/mails: the provider's mail history, paged, with a button to each card the bot follows."""

from __future__ import annotations

import math

from aiogram.filters import Command
from aiogram.types import CallbackQuery, InlineKeyboardMarkup, Message
from aiogram.utils.i18n import gettext as _

from bot.accounts import UserAccount
from bot.handlers.routes import Routes
from bot.keyboards.callbacks import MailHistoryCallback
from bot.keyboards.mail import history_keyboard
from bot.middlewares.account import NEEDS_ACCOUNT
from bot.provider.presets import Feature
from bot.services.mails import MailService
from bot.storage.mails import MailState
from bot.telegram import show
from bot.views.mail import unsupported_text
from bot.views.mail_history import history_text

router = Routes(name=__name__)

HISTORY_PER_PAGE = 10


@router.message(Command("mails"), flags=NEEDS_ACCOUNT)
async def mails_command(message: Message, account: UserAccount, mail_service: MailService) -> None:
    if not account.supports(Feature.MAIL):
        await message.answer(unsupported_text(account.preset.title))
        return
    await show(message, *await history_page(account, mail_service, 0))


@router.callback_query(MailHistoryCallback.filter(), flags=NEEDS_ACCOUNT)
async def mails_page(
    query: CallbackQuery,
    callback_data: MailHistoryCallback,
    account: UserAccount,
    mail_service: MailService,
) -> None:
    await show(query, *await history_page(account, mail_service, max(0, callback_data.page)))


async def history_page(
    account: UserAccount, mail_service: MailService, page: int
) -> tuple[str, InlineKeyboardMarkup | None]:
    client = account.client
    history = await client.get_mail_history(page=page + 1, per_page=HISTORY_PER_PAGE, sort="desc")
    pages = history.pages or math.ceil(history.count / HISTORY_PER_PAGE)
    if not history.entries and 0 < pages <= page:
        page = pages - 1  # the list shrank since the button was made
        history = await client.get_mail_history(
            page=page + 1, per_page=HISTORY_PER_PAGE, sort="desc"
        )
    if not history.entries:
        return _("You have not bought any e-mail addresses yet. /mail buys one."), None
    pages = max(pages, page + 1)
    followed = {
        mailbox.id: mailbox
        for mailbox in await mail_service.mails.of_user(account.user_id, limit=200)
        if mailbox.provider == account.provider
    }
    open_states = {MailState.WAITING, MailState.LETTER}
    cards = [
        (entry.id, "📧 " + entry.email)
        for entry in history.entries
        if entry.id in followed and followed[entry.id].state in open_states
    ]
    return history_text(history.entries, page + 1, pages), history_keyboard(cards, page, pages)
