"""What the mail routers share: drawing the card, reading what a purchase came to."""

from __future__ import annotations

from dataclasses import dataclass

from aiogram.types import CallbackQuery, Message

from bot.accounts import UserAccount
from bot.handlers.copies import Copies
from bot.provider import errors as pe
from bot.services.checkout import Outcome, Status
from bot.services.mails import MailService
from bot.storage.mails import Mailbox
from bot.telegram import edit_text
from bot.views.mail import card


def pressed_message(query: CallbackQuery) -> Message | None:
    """The message under the button; None when Telegram no longer has it."""
    return query.message if isinstance(query.message, Message) else None


@dataclass(frozen=True, slots=True)
class Card:
    """Where a mailbox's card is drawn: the pressed message (None once Telegram has lost it)."""

    message: Message | None
    account: UserAccount
    service: MailService
    #: Where the other copies of the card are redrawn; None for a card just bought (it has none).
    copies: Copies | None = None

    @property
    def provider(self) -> str:
        return self.account.preset.title

    async def show(self, mailbox: Mailbox) -> None:
        """The card as of now in the tapped message, and in every other copy of it."""
        text, markup = card(mailbox, self.provider, self.service.clock())
        if self.copies is not None:
            await self.copies.draw(self.message, mailbox, self.service.mails, text, markup)
        elif self.message is not None:
            await edit_text(self.message, text, markup)

    async def adopt(self, mailbox: Mailbox) -> None:
        """Show ``mailbox`` here and make this message its card: the worker edits it from now."""
        await self.show(mailbox)
        if self.message is not None and mailbox.card_message_id != self.message.message_id:
            await self.service.set_card(mailbox.ref, self.message.message_id)


@dataclass(frozen=True, slots=True)
class Unsettled:
    """Nothing to show on the card: BUSY, EXPIRED, UNKNOWN, or FAILED (``error`` may say why)."""

    status: Status
    error: pe.ProviderError | None = None


@dataclass(frozen=True, slots=True)
class Settled:
    """A mailbox to show: BOUGHT, ALREADY, RECOVERED or CLOSED."""

    status: Status
    mailbox: Mailbox


_NOTHING_TO_SHOW = {Status.BUSY, Status.EXPIRED, Status.UNKNOWN, Status.FAILED}


def read_outcome(outcome: Outcome[Mailbox]) -> Unsettled | Settled:
    """The one reading of the checkout's outcome, for a purchase and for "Another letter"."""
    if outcome.status in _NOTHING_TO_SHOW:
        return Unsettled(outcome.status, outcome.error)
    if outcome.item is None:
        # What an earlier tap bought can no longer be found: as good as a refusal.
        return Unsettled(Status.FAILED, outcome.error)
    return Settled(outcome.status, outcome.item)
