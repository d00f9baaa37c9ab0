"""The paid calls behind e-mail verification: a mailbox, and another letter on its address.

Each supplies the call and its look-up to the checkout (``bot.services.checkout``), which owns
locking, settling and "outcome unknown". A lost answer is looked up in the provider's mail
history.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal

from pydantic import BaseModel

from bot.accounts import UserAccount
from bot.provider import errors as pe
from bot.provider.models import MailHistoryEntry, MailType
from bot.services.checkout import Outcome, Purchase, Status
from bot.services.ledger import Ledger
from bot.services.mail_rules import (
    HISTORY_WAITING,
    MAIL_LIFETIME,
    MailOptions,
    fits,
    new_mailbox,
)
from bot.storage.mails import Mailbox, MailRepo, MailState

#: How much of the provider's history is read after a lost answer (newest first).
HISTORY_PAGE = 20


@dataclass(frozen=True, slots=True)
class MailLedger(Ledger[Mailbox]):
    """Mailboxes are also found in the provider's history, and move to a new id per letter."""

    records: MailRepo

    async def find_new(
        self,
        account: UserAccount,
        known: set[int],
        fitting: Callable[[MailHistoryEntry], bool],
    ) -> MailHistoryEntry | None:
        """A waiting mailbox in the provider's history that the bot does not follow yet.

        ProviderError when the history cannot be read: "not found" must mean "not there".
        """
        history = await account.client.get_mail_history(page=1, per_page=HISTORY_PAGE, sort="desc")
        for entry in history.entries:
            if entry.id not in known and entry.status == HISTORY_WAITING and fitting(entry):
                return entry
        return None

    async def move(
        self, mailbox: Mailbox, new_id: int, email: str, paid: Decimal | None = None
    ) -> Mailbox:
        """Another letter ordered: the address waits again under a new id; ``paid`` adds to
        what the address has cost so far (the card shows the total)."""
        now = self.clock()
        old_ref = mailbox.ref

        def renew(record: Mailbox) -> Mailbox:
            record.previous_ids.append(record.id)
            record.id = new_id
            record.email = email or record.email
            record.state = MailState.WAITING
            record.created_at = now
            record.expires_at = now + MAIL_LIFETIME
            record.closed_at = None
            record.milestone = None
            record.reorder_unsure = False
            if paid is not None:
                record.cost = (record.cost or Decimal(0)) + paid
            record.version += 1
            return record

        moved = await self.records.move(old_ref, renew)
        await self.renamed(old_ref, moved.ref)
        return moved


@dataclass
class MailboxPurchase(Purchase[Mailbox]):
    """buyMailActivation; after a lost answer, a fitting waiting mailbox in the history."""

    _ledger: MailLedger
    _account: UserAccount
    _options: MailOptions
    _known: set[int] = field(default_factory=set, init=False)

    async def pay(self) -> Mailbox:
        account, options = self._account, self._options
        self._known = await self._ledger.known_ids(account.user_id)
        bought = await account.client.buy_mail_activation(
            options.site, options.mail_type, options.domain
        )
        mailbox = new_mailbox(
            account, options, bought.id, bought.email, options.price, self._ledger.clock()
        )
        await self._ledger.follow(mailbox)
        return mailbox

    async def resume(self, since: float) -> None:
        self._known = await self._ledger.known_ids(self._account.user_id, before=since)

    async def price(self) -> Decimal | None:
        options = self._options
        try:
            domains = await self._account.client.get_domains(options.site)
        except pe.ProviderError:
            return None
        listed = domains.popular if options.mail_type is MailType.POPULAR else domains.zones
        return next((d.cost for d in listed if d.name == options.domain), None)

    async def look_up(self) -> Mailbox | None:
        options = self._options
        entry = await self._ledger.find_new(self._account, self._known, lambda e: fits(e, options))
        if entry is None:
            return None
        mailbox = new_mailbox(
            self._account, options, entry.id, entry.email, entry.cost, self._ledger.clock()
        )
        await self._ledger.follow(mailbox)
        return mailbox


async def address_price(account: UserAccount, mailbox: Mailbox) -> Decimal | None:
    """What an address on ``mailbox``'s domain costs now (another letter costs as much)."""
    domains = await account.client.get_domains(mailbox.site)
    popular = MailType(mailbox.mail_type) is MailType.POPULAR
    listed = domains.popular if popular else domains.zones
    return next((d.cost for d in listed if d.name == mailbox.domain), None)


class LetterOrder(BaseModel):
    """A confirmation of another letter: the mailbox id the card's button carried."""

    pressed: int


@dataclass
class AnotherLetter(Purchase[Mailbox]):
    """reorderMailActivation: the same address waits for one more letter, once per letter."""

    _ledger: MailLedger
    _account: UserAccount
    _pressed: int
    _quoted: Decimal | None = None  # the price the confirmation showed
    _current: Mailbox | None = field(default=None, init=False)
    _cost: Decimal | None = field(default=None, init=False)  # the price read just before

    @property
    def traceable(self) -> bool:
        # A lost answer marks the address "unsure" instead: the next tap looks before paying.
        return False

    async def price(self) -> Decimal | None:
        mailbox = await self._ledger.records.find(self._account.user_id, self._pressed)
        if mailbox is None:
            return None
        self._cost = await address_price(self._account, mailbox)
        return self._cost

    async def settled(self) -> Outcome[Mailbox] | None:
        current = await self._ledger.records.find(self._account.user_id, self._pressed)
        if current is None:
            return Outcome(Status.EXPIRED)
        if current.id != self._pressed:
            return Outcome(Status.ALREADY, current)
        if current.state is not MailState.LETTER:
            return Outcome(Status.CLOSED, current)
        self._current = current
        if current.reorder_unsure:
            # The last try got no answer: it may have gone through, so look before paying.
            found = await self._reordered(current)
            if found is not None:
                return Outcome(Status.RECOVERED, found)
        return None

    async def pay(self) -> Mailbox:
        current = self._checked()
        renewed = await self._account.client.reorder_mail_activation(current.id)
        paid = self._cost if self._cost is not None else self._quoted
        return await self._ledger.move(current, renewed.id, renewed.email, paid)

    async def look_up(self) -> Mailbox | None:
        current = self._checked()
        found = await self._reordered(current)
        if found is None:
            await self._mark_unsure(current.ref)
        return found

    def _checked(self) -> Mailbox:
        if self._current is None:
            raise RuntimeError("settled() must run before paying")
        return self._current

    async def _reordered(self, mailbox: Mailbox) -> Mailbox | None:
        email = mailbox.email.lower()
        known = await self._ledger.known_ids(mailbox.user_id)
        entry = await self._ledger.find_new(
            self._account, known, lambda e: e.email.lower() == email
        )
        if entry is None:
            return None
        return await self._ledger.move(mailbox, entry.id, entry.email)

    async def _mark_unsure(self, ref: str) -> None:
        def change(record: Mailbox) -> Mailbox:
            record.reorder_unsure = True
            return record

        await self._ledger.records.update(ref, change)
