"""What the mail routers share: alerts, drawing the card, reading what a purchase came to."""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum, auto

from aiogram.types import CallbackQuery, Message
from aiogram.utils.callback_answer import CallbackAnswer

from bot.provider import errors as pe
from bot.services.mails import MailPurchase, MailService
from bot.storage.mails import Mailbox
from bot.telegram import edit_text
from bot.views.mail import card


def alert(answer: CallbackAnswer, text: str) -> None:
    answer.text = text
    answer.show_alert = True


def pressed_message(query: CallbackQuery) -> Message | None:
    """The message under the button; None when Telegram no longer has it."""
    return query.message if isinstance(query.message, Message) else None


async def show_card(
    message: Message | None, mailbox: Mailbox, provider: str, mail_service: MailService
) -> None:
    if message is not None:
        await edit_text(message, *card(mailbox, provider, mail_service.clock()))


async def keep_card(message: Message | None, mailbox: Mailbox, mail_service: MailService) -> None:
    """Remember ``message`` as the mailbox's card, where the worker edits it from now on."""
    if message is not None and mailbox.card_message_id != message.message_id:
        await mail_service.set_card(mailbox.ref, message.message_id)


class Result(Enum):
    BUSY = auto()  # another purchase of this user is running
    EXPIRED = auto()  # the confirmation, or the mailbox, is no longer known
    UNKNOWN = auto()  # the provider's answer was lost and nothing new shows up
    FAILED = auto()  # the provider refused
    CLOSED = auto()  # the mailbox's state allows no other letter
    ALREADY = auto()  # done before (a double tap): here is the mailbox
    RECOVERED = auto()  # the answer was lost, but the mailbox is in the history
    DONE = auto()


@dataclass(frozen=True, slots=True)
class Unsettled:
    """Nothing to show on the card: BUSY, EXPIRED, UNKNOWN or FAILED."""

    result: Result
    error: pe.ProviderError | None = None


@dataclass(frozen=True, slots=True)
class Settled:
    """A mailbox to show: CLOSED, ALREADY, RECOVERED or DONE."""

    result: Result
    mailbox: Mailbox


def outcome(purchase: MailPurchase) -> Unsettled | Settled:
    """The one reading of the service's result, for a purchase and for "Another letter"."""
    if purchase.busy:
        return Unsettled(Result.BUSY)
    if purchase.expired:
        return Unsettled(Result.EXPIRED)
    if purchase.unknown:
        return Unsettled(Result.UNKNOWN, purchase.error)
    if purchase.error is not None or purchase.mailbox is None:
        return Unsettled(Result.FAILED, purchase.error)
    if purchase.closed:
        return Settled(Result.CLOSED, purchase.mailbox)
    if purchase.already:
        return Settled(Result.ALREADY, purchase.mailbox)
    if purchase.recovered:
        return Settled(Result.RECOVERED, purchase.mailbox)
    return Settled(Result.DONE, purchase.mailbox)
