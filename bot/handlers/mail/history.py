"""/mails: the providers' mail history, paged, with a button to each card the bot follows.

With several accounts that sell e-mail, each page shows that page of every account at once,
merged newest first and labelled with its account; one that does not answer is named.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

from aiogram.filters import Command
from aiogram.types import CallbackQuery, Message

from bot.accounts import Accounts, UserAccount
from bot.handlers.routes import Routes
from bot.i18n import gettext as _
from bot.keyboards.callbacks import MailHistoryCallback
from bot.keyboards.mail import history_keyboard
from bot.keyboards.markup import Keyboard
from bot.middlewares.account import NEEDS_ACCOUNT
from bot.provider.models import MailHistory, MailHistoryEntry
from bot.provider.presets import Feature
from bot.services.account_items import ask_each
from bot.services.mails import MailService
from bot.storage.mails import MailState
from bot.telegram import show
from bot.views.mail import unsupported_text
from bot.views.mail_history import history_text

router = Routes(name=__name__)

HISTORY_PER_PAGE = 10


@router.message(Command("mails"), flags=NEEDS_ACCOUNT)
async def mails_command(
    message: Message, account: UserAccount, accounts: Accounts, mail_service: MailService
) -> None:
    mailers = await _mailers(accounts, account)
    if not mailers:
        await message.answer(unsupported_text(account.preset.title))
        return
    await show(message, *await history_page(mailers, mail_service, 0))


@router.callback_query(MailHistoryCallback.filter(), flags=NEEDS_ACCOUNT)
async def mails_page(
    query: CallbackQuery,
    callback_data: MailHistoryCallback,
    account: UserAccount,
    accounts: Accounts,
    mail_service: MailService,
) -> None:
    mailers = await _mailers(accounts, account) or [account]
    await show(query, *await history_page(mailers, mail_service, max(0, callback_data.page)))


async def _mailers(accounts: Accounts, account: UserAccount) -> list[UserAccount]:
    """The user's accounts that sell e-mail addresses, the default first."""
    return [each for each in await accounts.all(account.user_id) if each.supports(Feature.MAIL)]


async def _read(mailers: Sequence[UserAccount], page: int) -> list[MailHistory | None]:
    if len(mailers) == 1:  # one account: its failure is the errors router's to explain
        return [
            await mailers[0].client.get_mail_history(
                page=page + 1, per_page=HISTORY_PER_PAGE, sort="desc"
            )
        ]
    return await ask_each(
        mailers,
        lambda each: each.client.get_mail_history(
            page=page + 1, per_page=HISTORY_PER_PAGE, sort="desc"
        ),
    )


def _pages(answers: Sequence[MailHistory | None]) -> int:
    return max(
        (h.pages or math.ceil(h.count / HISTORY_PER_PAGE) for h in answers if h is not None),
        default=0,
    )


async def history_page(
    mailers: Sequence[UserAccount], mail_service: MailService, page: int
) -> tuple[str, Keyboard | None]:
    answers = await _read(mailers, page)
    pages = _pages(answers)
    if not any(h is not None and h.entries for h in answers) and 0 < pages <= page:
        page = pages - 1  # the list shrank since the button was made
        answers = await _read(mailers, page)
    several = len(mailers) > 1
    lines: list[tuple[MailHistoryEntry, UserAccount]] = sorted(
        (
            (entry, each)
            for each, history in zip(mailers, answers, strict=True)
            if history is not None
            for entry in history.entries
        ),
        key=lambda line: line[0].date.timestamp() if line[0].date else 0.0,
        reverse=True,
    )
    silent = [
        each.label for each, history in zip(mailers, answers, strict=True) if history is None
    ]
    if not lines and not silent:
        return _("You have not bought any e-mail addresses yet. /mail buys one."), None
    pages = max(pages, page + 1)
    followed = await mail_service.mails.of_user(mailers[0].user_id, limit=200)
    open_states = {MailState.WAITING, MailState.LETTER}
    cards = [
        (entry.id, "📧 " + entry.email)
        for entry, each in lines
        if any(
            mailbox.id == entry.id
            and mailbox.bought_with(each.account_id, each.provider)
            and mailbox.state in open_states
            for mailbox in followed
        )
    ]
    labels = [each.label if several else None for _entry, each in lines]
    text = history_text([entry for entry, _each in lines], page + 1, pages, labels, silent)
    return text, history_keyboard(cards, page, pages)
