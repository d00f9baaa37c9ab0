"""E-mail verification as the bot sees it: offers, buying, letters, cancel and "another letter".

No Telegram here: handlers and the worker both call this and render the result themselves.
Purchases go through the checkout (``bot.services.checkout``) as numbers do.
"""

from __future__ import annotations

import logging
import re
import time
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal
from urllib.parse import urlsplit

from bot.accounts import UserAccount
from bot.provider import errors as pe
from bot.provider.models import MailDomains, MailType
from bot.services.checkout import OrderKind, Outcome, Shop
from bot.services.mail_purchases import AnotherLetter, LetterOrder, MailboxPurchase, MailLedger
from bot.services.mail_rules import MailOptions, closed_state, forgotten_state, member
from bot.storage.mails import LETTER_LIMIT, Letter, Mailbox, MailRepo, MailState
from bot.storage.orders import Order, OrderRepo
from bot.storage.records import RecordMissing
from bot.storage.schedule import Schedule

log = logging.getLogger(__name__)

_LABEL = re.compile(r"^(?!-)[a-z0-9-]{1,63}(?<!-)$")
_TLD = re.compile(r"^(?:[a-z]{2,63}|xn--[a-z0-9-]{1,59})$")


def normalize_site(text: str) -> str | None:
    """The hostname a user means by ``text`` (``https://www.Apple.com/id`` -> ``apple.com``).

    None when it is not a hostname with a top-level domain, so nothing is asked of the
    provider for text that cannot be a site.
    """
    raw = text.strip()
    if not raw or any(char.isspace() for char in raw):
        return None
    try:
        host = urlsplit(raw if "//" in raw else f"//{raw}").hostname
    except ValueError:
        return None
    if not host:
        return None
    host = host.rstrip(".")
    if host.startswith("www."):
        host = host[4:]
    try:
        host = host.encode("idna").decode("ascii").lower()
    except UnicodeError:
        return None
    labels = host.split(".")
    if len(host) > 253 or len(labels) < 2 or not _TLD.match(labels[-1]):
        return None
    return host if all(_LABEL.match(label) for label in labels) else None


class LetterArrived(Exception):
    """A cancel the bot did not send: the letter had already come (it is recorded now)."""


@dataclass(frozen=True, slots=True)
class MailOffer:
    mail_type: MailType
    name: str  # a domain (popular) or a zone
    cost: Decimal
    count: int | None  # zones have no count


def list_offers(domains: MailDomains) -> list[MailOffer]:
    """Popular domains (cheapest, then most stocked) first, then zones by price."""
    popular = [
        MailOffer(MailType.POPULAR, d.name, d.cost, d.count)
        for d in domains.popular
        if d.name and d.count > 0
    ]
    zones = [MailOffer(MailType.ZONE, z.name, z.cost, None) for z in domains.zones if z.name]
    popular.sort(key=lambda o: (o.cost, -(o.count or 0), o.name))
    zones.sort(key=lambda o: (o.cost, o.name))
    return popular + zones


class MailService(Shop[MailOptions]):
    kind = OrderKind.MAIL

    def __init__(
        self,
        mails: MailRepo,
        orders: OrderRepo,
        schedule: Schedule,
        *,
        clock: Callable[[], float] = time.time,
    ) -> None:
        super().__init__(orders, schedule, clock)
        self.mails = mails
        self.ledger = MailLedger(mails, schedule, clock, member)
        self.purchases = {OrderKind.MAIL.value: self._mailbox}

    async def offers(self, account: UserAccount, site: str) -> list[MailOffer]:
        return list_offers(await account.client.get_domains(site))

    # --- buying ---

    def quoted(self, options: MailOptions) -> Decimal | None:
        return options.price

    async def buy(self, account: UserAccount, token: str) -> Outcome[Mailbox]:
        """Carry out the confirmation ``token`` at most once."""

        async def start(order: Order) -> MailboxPurchase:
            return await self._mailbox(account, order)

        async def load(ref: str) -> Mailbox | None:
            return await self._bought(account.user_id, ref)

        return await self.checkout.confirm(account, token, OrderKind.MAIL, start=start, load=load)

    async def _mailbox(self, account: UserAccount, order: Order) -> MailboxPurchase:
        return MailboxPurchase(self.ledger, account, MailOptions.model_validate(order.params))

    async def _bought(self, user_id: int, ref: str) -> Mailbox | None:
        """The mailbox an order bought, wherever "Another letter" has moved it since."""
        found = await self.mails.get(ref)
        if found is not None:
            return found
        _, _, raw_id = ref.rpartition(":")
        return await self.mails.find(user_id, int(raw_id)) if raw_id.isdigit() else None

    async def draft_letter(
        self, account: UserAccount, mailbox: Mailbox, price: Decimal | None
    ) -> str:
        """The confirmation of another letter to ``mailbox``'s address at ``price``."""
        order = LetterOrder(pressed=mailbox.id)
        return await self.checkout.draft(account, OrderKind.LETTER, order, price)

    async def reorder(self, account: UserAccount, token: str) -> Outcome[Mailbox]:
        """Ask for another letter as confirmed, once per letter received."""

        async def start(order: Order) -> AnotherLetter:
            pressed = LetterOrder.model_validate(order.params).pressed
            return AnotherLetter(self.ledger, account, pressed, order.price)

        async def load(ref: str) -> Mailbox | None:
            return await self._bought(account.user_id, ref)

        return await self.checkout.confirm(
            account, token, OrderKind.LETTER, start=start, load=load
        )

    # --- cancel, refresh, letters ---

    async def cancel(self, account: UserAccount, mailbox: Mailbox) -> Mailbox:
        """Cancel before a letter (refunded). Provider errors propagate.

        The provider also takes a cancel after the letter, and then ends the mailbox (status
        6) without a refund, so the bot looks first: a letter that has come meanwhile is
        recorded (the worker pushes it) and LetterArrived raised instead of cancelling.
        """
        try:
            check = await account.client.check_mail_activation(mailbox.id)
        except pe.StateAnswer as answer:
            if answer.token != "STATUS_CANCEL":
                raise
            # Cancelled there already (its lifetime ran out): the cancel below says so.
        else:
            if check.received:
                await self.record_letter(mailbox.ref, check.value, check.full_message)
                raise LetterArrived
        await account.client.cancel_mail_activation(mailbox.id)
        now = self.clock()

        def change(record: Mailbox) -> Mailbox:
            record.version += 1
            if record.is_waiting:
                record.state = MailState.CANCELLED
                record.closed_at = now
            return record

        _, after = await self.mails.update(mailbox.ref, change)
        await self.schedule.forget(member(after.ref))
        return after

    async def refresh(self, account: UserAccount, mailbox: Mailbox) -> Mailbox:
        """Ask the provider about the mailbox now and record the answer.

        A closed or unknown mailbox is recorded as such; other provider errors propagate.
        """
        try:
            check = await account.client.check_mail_activation(mailbox.id)
        except pe.NoActivation:
            return await self.close(mailbox.ref, forgotten_state(mailbox, self.clock()))
        except pe.StateAnswer as answer:
            if answer.token != "STATUS_CANCEL":
                raise
            return await self.close(mailbox.ref, closed_state(mailbox, self.clock()))
        if check.received:
            await self.record_letter(mailbox.ref, check.value, check.full_message)
        found = await self.mails.get(mailbox.ref)
        return found if found is not None else mailbox

    async def record_letter(self, ref: str, value: str | None, full_message: str | None) -> bool:
        """Record the letter that arrived for the mailbox id in ``ref``, once.

        True when it is new; False when that id already had its letter (the poller and a
        webhook both reporting it) or the mailbox is unknown. The letter is stored
        undelivered and the mailbox made due, so the worker pushes it exactly once.
        """
        now = self.clock()
        text = full_message or ""
        cut = len(text) > LETTER_LIMIT

        def change(record: Mailbox) -> Mailbox | None:
            if record.has_letter_for(record.id):
                return None
            letter = Letter(
                mail_id=record.id,
                value=value,
                full_message=text[:LETTER_LIMIT] or None,
                at=now,
                cut=cut,
            )
            record.letters.append(letter)
            record.state = MailState.LETTER
            record.closed_at = None
            record.version += 1
            return record

        try:
            before, after = await self.mails.update(ref, change)
        except RecordMissing:
            return False
        if before == after:
            return False
        await self.schedule.due_now(member(ref))
        return True

    async def close(self, ref: str, state: MailState) -> Mailbox:
        """Record that a waiting mailbox ended without a letter (expired, cancelled, gone)."""
        now = self.clock()

        def change(record: Mailbox) -> Mailbox | None:
            if not record.is_waiting:
                return None
            record.state = state
            record.close(now)
            return record

        _, after = await self.mails.update(ref, change)
        await self.schedule.forget(member(ref))
        return after

    async def mark_delivered(self, ref: str, mail_id: int) -> None:
        def change(record: Mailbox) -> Mailbox:
            for letter in record.letters:
                if letter.mail_id == mail_id:
                    letter.delivered = True
            return record

        await self.mails.update(ref, change)

    async def set_card(self, ref: str, message_id: int) -> None:
        await self.mails.remember_card(ref, message_id)
