"""The mailbox card's buttons, and the letter's "Full letter".

A button names a mailbox by id; before any handler here, ``_Check`` finds it among the
presser's own mailboxes (nothing is asked of the provider before) and hands it in as ``pressed``,
with the card it is drawn in. The pressed id may be an earlier one of the same
address ("Another letter" moves a mailbox to a new id): a button that no longer fits the
mailbox shows its current state instead of acting.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from aiogram import BaseMiddleware, F
from aiogram.types import CallbackQuery, TelegramObject
from aiogram.utils.callback_answer import CallbackAnswer

from bot.accounts import UserAccount
from bot.handlers.copies import Copies
from bot.handlers.mail.common import Card, Settled, Unsettled, pressed_message, read_outcome
from bot.handlers.owned import owned_mailbox
from bot.handlers.routes import Routes
from bot.handlers.unsettled import alert
from bot.i18n import gettext as _
from bot.keyboards.callback_data import CallbackFilter
from bot.keyboards.callbacks import MailAction, MailCallback, MailReorderCallback
from bot.middlewares.base import Handler
from bot.middlewares.callback_answer import BUYING
from bot.provider import errors as pe
from bot.services.checkout import OrderKind, Status
from bot.services.mail_purchases import address_price
from bot.services.mail_rules import forgotten_state, member
from bot.services.mails import LetterArrived, MailService
from bot.storage.mails import Mailbox, MailState
from bot.telegram import edit_text, inline_markup
from bot.texts import describe_error, requote_notice
from bot.views.mail import card as card_content
from bot.views.mail import card_text, letter_offer, letter_parts, mail_error, reorder_unknown_text


@dataclass(frozen=True, slots=True)
class Pressed:
    """A card's button, checked: the id it carries, the mailbox that id names, and its card."""

    id: int  # the mailbox's id, an earlier one of the same address, or a letter's (Full letter)
    mailbox: Mailbox
    card: Card


class _Check(BaseMiddleware):
    """Every button here names a mailbox: it must be the presser's own before its handler runs."""

    async def __call__(self, handler: Handler, event: TelegramObject, data: dict[str, Any]) -> Any:
        assert isinstance(event, CallbackQuery)
        pressed_id: int = data["callback_data"].id
        service: MailService = data["mail_service"]
        mailbox, account = await owned_mailbox(
            service.mails, data["accounts"], event.from_user.id, pressed_id, data.get("glance")
        )
        card = Card(pressed_message(event), account, service, Copies.of(data))
        data["pressed"] = Pressed(pressed_id, mailbox, card)
        return await handler(event, data)


router = Routes(name=__name__)
router.callback_query.middleware(_Check())


def _on(action: MailAction) -> CallbackFilter:
    """The filter of a mailbox card's button."""
    return MailCallback.filter(F.action == action)


@router.callback_query(_on(MailAction.CANCEL))
async def cancel_mailbox(
    query: CallbackQuery, pressed: Pressed, callback_answer: CallbackAnswer
) -> None:
    mailbox, card = pressed.mailbox, pressed.card
    if not mailbox.is_waiting or pressed.id != mailbox.id:
        alert(callback_answer, _("This address no longer waits for a letter."))
        await card.show(mailbox)
        return
    arrived = _("A letter has just arrived, so the address can no longer be cancelled.")
    try:
        mailbox = await card.service.cancel(card.account, mailbox)
    except LetterArrived:
        alert(callback_answer, arrived)
        mailbox = await card.service.mails.get(mailbox.ref) or mailbox
    except (pe.BadStatus, pe.AlreadyClosed) as error:
        # The provider sees another state (a letter just came?): say so, show its real state.
        mailbox = await _refreshed(card.account, mailbox, card.service)
        if mailbox.state is MailState.LETTER:
            alert(callback_answer, arrived)
        else:
            alert(callback_answer, describe_error(error, card.provider))
    except pe.NoActivation as error:
        mailbox = await card.service.close(
            mailbox.ref, forgotten_state(mailbox, card.service.clock())
        )
        alert(callback_answer, mail_error(error, card.provider))
    else:
        callback_answer.text = _("Cancelled, the money is refunded.")
    await card.show(mailbox)


async def _refreshed(account: UserAccount, mailbox: Mailbox, service: MailService) -> Mailbox:
    try:
        return await service.refresh(account, mailbox)
    except pe.ProviderError:
        return mailbox


@router.callback_query(_on(MailAction.ANOTHER))
async def another_letter_offered(
    query: CallbackQuery, pressed: Pressed, callback_answer: CallbackAnswer
) -> None:
    """The quote of another letter (it costs money): the card's buttons become its price,
    Buy and Cancel, so the card stays where it is."""
    mailbox, card = pressed.mailbox, pressed.card
    if pressed.id != mailbox.id:
        callback_answer.text = _("Already asked: waiting for another letter.")
        await card.show(mailbox)
        return
    if mailbox.state is not MailState.LETTER:
        alert(callback_answer, _("This address cannot get another letter now."))
        await card.show(mailbox)
        return
    callback_answer.text = await _offer_letter(card, mailbox)


async def _offer_letter(card: Card, mailbox: Mailbox) -> str:
    """Put the quote's buttons under the card; the words for the tap's answer."""
    price = await address_price(card.account, mailbox)
    token = await card.service.draft_letter(card.account, mailbox, price)
    text, markup = letter_offer(mailbox, price, token)
    if card.message is not None:
        # The card as of now (countdown, language), with the offer's buttons in place of its own.
        drawn = card_text(mailbox, card.provider, card.service.clock())
        await edit_text(card.message, drawn, markup)
    return text


@router.callback_query(_on(MailAction.ANOTHER_CANCEL))
async def another_letter_cancelled(
    query: CallbackQuery, pressed: Pressed, callback_answer: CallbackAnswer
) -> None:
    await pressed.card.service.checkout.void(pressed.card.account.user_id, [OrderKind.LETTER])
    callback_answer.text = _("Nothing was bought.")
    await pressed.card.show(pressed.mailbox)


@router.callback_query(MailReorderCallback.filter(), flags=BUYING)
async def another_letter(
    query: CallbackQuery,
    callback_data: MailReorderCallback,
    pressed: Pressed,
    callback_answer: CallbackAnswer,
) -> None:
    card = pressed.card
    purchase = await card.service.reorder(card.account, callback_data.token)
    if purchase.requote:
        # Nothing was bought: the offer again, at the price asked now.
        await _offer_letter(card, pressed.mailbox)
        alert(callback_answer, requote_notice(purchase.price))
        return
    match read_outcome(purchase):
        case Unsettled(status=Status.BUSY):
            alert(callback_answer, _("A purchase is already in progress. One moment…"))
            return
        case Unsettled(status=Status.EXPIRED):
            alert(
                callback_answer,
                _("This offer is out of date. Press the button on the card again."),
            )
        case Unsettled(status=Status.UNKNOWN):
            alert(callback_answer, reorder_unknown_text(card.provider))
        case Unsettled(error=error):
            refusal = error or pe.NoActivation("ACTIVATION_NOT_FOUND")
            alert(callback_answer, mail_error(refusal, card.provider))
        case Settled(status=status, mailbox=renewed):
            if status is Status.CLOSED:
                alert(callback_answer, _("This address cannot get another letter now."))
            elif status is Status.ALREADY:
                callback_answer.text = _("Already asked: waiting for another letter.")
            else:
                callback_answer.text = _("Waiting for another letter.")
            await card.adopt(renewed)
            return
    # Nothing bought: the card gets its own buttons back.
    await card.show(pressed.mailbox)


@router.callback_query(_on(MailAction.REFRESH))
async def refresh_mailbox(
    query: CallbackQuery, pressed: Pressed, callback_answer: CallbackAnswer
) -> None:
    mailbox, card = pressed.mailbox, pressed.card
    if mailbox.is_waiting and pressed.id == mailbox.id:
        await card.service.schedule.due_now(member(mailbox.ref))
        mailbox = await card.service.refresh(card.account, mailbox)
    callback_answer.text = _("Updated.")
    await card.show(mailbox)


@router.callback_query(_on(MailAction.FULL))
async def full_letter(
    query: CallbackQuery, pressed: Pressed, callback_answer: CallbackAnswer
) -> None:
    letter = next((item for item in pressed.mailbox.letters if item.mail_id == pressed.id), None)
    if letter is None:
        alert(callback_answer, _("This letter is not stored any more."))
        return
    message = pressed.card.message
    if message is not None:
        for part in letter_parts(pressed.mailbox, letter):
            await message.answer(part)


@router.callback_query(_on(MailAction.SHOW))
async def card_again(query: CallbackQuery, pressed: Pressed) -> None:
    """The card as a new message (from /mails); the worker edits that one from now on."""
    mailbox, card = pressed.mailbox, pressed.card
    if card.message is not None:
        text, markup = card_content(mailbox, card.provider, card.service.clock())
        sent = await card.message.answer(text, reply_markup=inline_markup(markup))
        await card.service.set_card(mailbox.ref, sent.message_id)
