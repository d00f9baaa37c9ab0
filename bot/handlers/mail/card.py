"""The mailbox card's buttons, and the letter's "Full letter".

A button names a mailbox by id; ``owned_mailbox`` finds it among the presser's own mailboxes
before anything is asked of the provider. The pressed id may be an earlier one of the same
address ("Another letter" moves a mailbox to a new id): a button that no longer fits the
mailbox shows its current state instead of acting.
"""

from __future__ import annotations

from aiogram import F
from aiogram.types import CallbackQuery
from aiogram.utils.callback_answer import CallbackAnswer
from aiogram.utils.i18n import gettext as _

from bot.accounts import Accounts, UserAccount
from bot.handlers.mail.common import (
    Settled,
    Unsettled,
    keep_card,
    pressed_message,
    read_outcome,
    show_card,
)
from bot.handlers.owned import owned_mailbox
from bot.handlers.routes import Routes
from bot.handlers.unsettled import alert
from bot.keyboards.callbacks import MailAction, MailCallback
from bot.provider import errors as pe
from bot.services.checkout import Status
from bot.services.mail_rules import member
from bot.services.mails import LetterArrived, MailService
from bot.storage.mails import Mailbox, MailState
from bot.texts import describe_error
from bot.views.mail import card, letter_parts, mail_error, reorder_unknown_text

router = Routes(name=__name__)


async def _owned(
    query: CallbackQuery, callback_data: MailCallback, accounts: Accounts, service: MailService
) -> tuple[Mailbox, UserAccount]:
    return await owned_mailbox(service.mails, accounts, query.from_user.id, callback_data.id)


@router.callback_query(MailCallback.filter(F.action == MailAction.CANCEL))
async def cancel_mailbox(
    query: CallbackQuery,
    callback_data: MailCallback,
    accounts: Accounts,
    mail_service: MailService,
    callback_answer: CallbackAnswer,
) -> None:
    mailbox, account = await _owned(query, callback_data, accounts, mail_service)
    provider = account.preset.title
    message = pressed_message(query)
    if not mailbox.is_waiting or callback_data.id != mailbox.id:
        alert(callback_answer, _("This address no longer waits for a letter."))
        await show_card(message, mailbox, provider, mail_service)
        return
    arrived = _("A letter has just arrived, so the address can no longer be cancelled.")
    try:
        mailbox = await mail_service.cancel(account, mailbox)
    except LetterArrived:
        alert(callback_answer, arrived)
        mailbox = await mail_service.mails.get(mailbox.ref) or mailbox
    except (pe.BadStatus, pe.AlreadyClosed) as error:
        # The provider sees another state (a letter just came?): say so, show its real state.
        mailbox = await _refreshed(account, mailbox, mail_service)
        if mailbox.state is MailState.LETTER:
            alert(callback_answer, arrived)
        else:
            alert(callback_answer, describe_error(error, provider))
    except pe.NoActivation as error:
        mailbox = await mail_service.close(mailbox.ref, MailState.GONE)
        alert(callback_answer, mail_error(error, provider))
    else:
        callback_answer.text = _("Cancelled, the money is refunded.")
    await show_card(message, mailbox, provider, mail_service)


async def _refreshed(account: UserAccount, mailbox: Mailbox, service: MailService) -> Mailbox:
    try:
        return await service.refresh(account, mailbox)
    except pe.ProviderError:
        return mailbox


@router.callback_query(MailCallback.filter(F.action == MailAction.ANOTHER))
async def another_letter(
    query: CallbackQuery,
    callback_data: MailCallback,
    accounts: Accounts,
    mail_service: MailService,
    callback_answer: CallbackAnswer,
) -> None:
    mailbox, account = await _owned(query, callback_data, accounts, mail_service)
    provider = account.preset.title
    purchase = await mail_service.reorder(account, mailbox, callback_data.id)
    match read_outcome(purchase):
        case Unsettled(status=Status.BUSY):
            alert(callback_answer, _("A purchase is already in progress. One moment…"))
        case Unsettled(status=Status.UNKNOWN):
            alert(callback_answer, reorder_unknown_text(provider))
        case Unsettled(error=error):
            refusal = error or pe.NoActivation("ACTIVATION_NOT_FOUND")
            alert(callback_answer, mail_error(refusal, provider))
        case Settled(status=status, mailbox=renewed):
            if status is Status.CLOSED:
                alert(callback_answer, _("This address cannot get another letter now."))
            elif status is Status.ALREADY:
                callback_answer.text = _("Already asked: waiting for another letter.")
            else:
                callback_answer.text = _("Waiting for another letter.")
            message = pressed_message(query)
            await show_card(message, renewed, provider, mail_service)
            await keep_card(message, renewed, mail_service)


@router.callback_query(MailCallback.filter(F.action == MailAction.REFRESH))
async def refresh_mailbox(
    query: CallbackQuery,
    callback_data: MailCallback,
    accounts: Accounts,
    mail_service: MailService,
    callback_answer: CallbackAnswer,
) -> None:
    mailbox, account = await _owned(query, callback_data, accounts, mail_service)
    if mailbox.is_waiting and callback_data.id == mailbox.id:
        await mail_service.schedule.due_now(member(mailbox.ref))
        mailbox = await mail_service.refresh(account, mailbox)
    callback_answer.text = _("Updated.")
    await show_card(pressed_message(query), mailbox, account.preset.title, mail_service)


@router.callback_query(MailCallback.filter(F.action == MailAction.FULL))
async def full_letter(
    query: CallbackQuery,
    callback_data: MailCallback,
    accounts: Accounts,
    mail_service: MailService,
    callback_answer: CallbackAnswer,
) -> None:
    mailbox, _account = await _owned(query, callback_data, accounts, mail_service)
    letter = next((item for item in mailbox.letters if item.mail_id == callback_data.id), None)
    if letter is None:
        alert(callback_answer, _("This letter is not stored any more."))
        return
    message = pressed_message(query)
    if message is not None:
        for part in letter_parts(mailbox, letter):
            await message.answer(part)


@router.callback_query(MailCallback.filter(F.action == MailAction.SHOW))
async def card_again(
    query: CallbackQuery,
    callback_data: MailCallback,
    accounts: Accounts,
    mail_service: MailService,
) -> None:
    """The card as a new message (from /mails); the worker edits that one from now on."""
    mailbox, account = await _owned(query, callback_data, accounts, mail_service)
    message = pressed_message(query)
    if message is not None:
        text, markup = card(mailbox, account.preset.title, mail_service.clock())
        sent = await message.answer(text, reply_markup=markup)
        await mail_service.set_card(mailbox.ref, sent.message_id)
