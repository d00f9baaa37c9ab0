"""E-mail verification as the bot sees it: offers, buying, letters, cancel and "another letter".

No Telegram here: handlers and the worker both call this and render the result themselves.
Purchases go through the same idempotent orders and per-user lock as numbers do; an
ambiguous outcome is looked up in the provider's mail history, never bought again blindly.
"""

from __future__ import annotations

import logging
import re
import time
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal
from urllib.parse import urlsplit

from pydantic import BaseModel

from bot.accounts import UserAccount
from bot.provider import errors as pe
from bot.provider.models import MailDomains, MailHistoryEntry, MailType
from bot.storage.mails import LETTER_LIMIT, Letter, Mailbox, MailRepo, MailState
from bot.storage.orders import OrderRepo
from bot.storage.records import RecordMissing
from bot.storage.schedule import Schedule

log = logging.getLogger(__name__)

#: The protocol documents no lifetime; providers keep a mailbox as long as a number.
MAIL_LIFETIME = 20 * 60.0
#: getMailHistory status of a mailbox that waits for its letter.
HISTORY_WAITING = 3
ORDER_KIND = "mail"
_AMBIGUOUS = (pe.TransportError, pe.ServerError, pe.MalformedResponse)
_LABEL = re.compile(r"^(?!-)[a-z0-9-]{1,63}(?<!-)$")
_TLD = re.compile(r"^(?:[a-z]{2,63}|xn--[a-z0-9-]{1,59})$")


def member(ref: str) -> str:
    """The mailbox's name in the shared schedule."""
    return f"mail:{ref}"


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


class MailOptions(BaseModel):
    """What the user chose; kept in the order so a confirmation buys exactly that."""

    site: str
    mail_type: MailType
    domain: str
    price: Decimal | None = None


@dataclass(frozen=True, slots=True)
class MailPurchase:
    """What a purchase (or "Another letter") led to."""

    mailbox: Mailbox | None = None
    already: bool = False  # done before (a double tap): here is the mailbox
    busy: bool = False  # another purchase of this user is running
    recovered: bool = False  # the answer was lost, but the mailbox is in the history
    unknown: bool = False  # the answer was lost and nothing new shows up (yet)
    expired: bool = False  # the confirmation is too old or unknown
    closed: bool = False  # the mailbox's state allows no other letter
    error: pe.ProviderError | None = None


def closed_state(mailbox: Mailbox, now: float) -> MailState:
    """How a mailbox the provider closed without a letter ended."""
    return MailState.EXPIRED if now >= mailbox.expires_at - 60 else MailState.CANCELLED


def _fits(entry: MailHistoryEntry, options: MailOptions) -> bool:
    email = entry.email.lower()
    domain = options.domain.lower()
    on_domain = (
        email.endswith("@" + domain)
        if options.mail_type is MailType.POPULAR
        else email.endswith("." + domain)
    )
    return entry.site.lower() == options.site and on_domain


class MailService:
    def __init__(
        self,
        mails: MailRepo,
        orders: OrderRepo,
        schedule: Schedule,
        *,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.mails = mails
        self.orders = orders
        self.schedule = schedule
        self.clock = clock

    async def offers(self, account: UserAccount, site: str) -> list[MailOffer]:
        return list_offers(await account.client.get_domains(site))

    # --- buying ---

    async def draft(self, user_id: int, options: MailOptions) -> str:
        return await self.orders.draft(user_id, ORDER_KIND, options.model_dump(mode="json"))

    async def buy(self, account: UserAccount, token: str) -> MailPurchase:
        """Carry out the confirmation ``token`` at most once."""
        user_id = account.user_id
        order = await self.orders.get(user_id, token)
        if order is None or order.kind != ORDER_KIND:
            return MailPurchase(expired=True)
        if order.status == "done" and order.result:
            return MailPurchase(mailbox=await self._bought(user_id, order.result), already=True)
        lock = await self.orders.lock(user_id)
        if lock is None:
            return MailPurchase(busy=True)
        try:
            started = self.clock()
            order, mine = await self.orders.begin(user_id, token, started)
            if order is None:
                return MailPurchase(expired=True)
            if not mine:
                if order.status == "done" and order.result:
                    found = await self._bought(user_id, order.result)
                    return MailPurchase(mailbox=found, already=True)
                if order.status == "unknown":
                    return MailPurchase(unknown=True)
                return MailPurchase(busy=True)
            options = MailOptions.model_validate(order.params)
            return await self._buy(account, token, options)
        finally:
            await self.orders.unlock(user_id, lock)

    async def _bought(self, user_id: int, ref: str) -> Mailbox | None:
        """The mailbox an order bought, wherever "Another letter" has moved it since."""
        found = await self.mails.get(ref)
        if found is not None:
            return found
        _, _, raw_id = ref.rpartition(":")
        return await self.mails.find(user_id, int(raw_id)) if raw_id.isdigit() else None

    async def _buy(self, account: UserAccount, token: str, options: MailOptions) -> MailPurchase:
        user_id = account.user_id
        known = await self._known_ids(user_id)
        try:
            bought = await account.client.buy_mail_activation(
                options.site, options.mail_type, options.domain
            )
        except _AMBIGUOUS as error:
            # The mailbox may or may not have been bought: look, never buy again blindly.
            log.warning("mail purchase outcome unknown for user %s: %s", user_id, error)
            entry = await self._find_new(account, known, lambda e: _fits(e, options))
            if entry is None:
                await self.orders.settle(user_id, token, "unknown")
                return MailPurchase(unknown=True, error=error)
            mailbox = self._new_mailbox(account, options, entry.id, entry.email, entry.cost)
            await self._follow(mailbox)
            await self.orders.settle(user_id, token, "done", mailbox.ref)
            return MailPurchase(mailbox=mailbox, recovered=True)
        except pe.ProviderError as error:
            await self.orders.settle(user_id, token, "draft")
            return MailPurchase(error=error)
        mailbox = self._new_mailbox(account, options, bought.id, bought.email, options.price)
        await self._follow(mailbox)
        await self.orders.settle(user_id, token, "done", mailbox.ref)
        return MailPurchase(mailbox=mailbox)

    def _new_mailbox(
        self,
        account: UserAccount,
        options: MailOptions,
        mail_id: int,
        email: str,
        cost: Decimal | None,
    ) -> Mailbox:
        now = self.clock()
        return Mailbox(
            id=mail_id,
            user_id=account.user_id,
            provider=account.provider,
            site=options.site,
            email=email,
            domain=options.domain,
            mail_type=int(options.mail_type),
            cost=cost,
            created_at=now,
            expires_at=now + MAIL_LIFETIME,
        )

    async def _known_ids(self, user_id: int) -> set[int]:
        known: set[int] = set()
        for mailbox in await self.mails.of_user(user_id, limit=200):
            known.add(mailbox.id)
            known.update(mailbox.previous_ids)
        return known

    async def _find_new(
        self,
        account: UserAccount,
        known: set[int],
        fits: Callable[[MailHistoryEntry], bool],
    ) -> MailHistoryEntry | None:
        """A waiting mailbox in the provider's history that the bot does not follow yet."""
        try:
            history = await account.client.get_mail_history(page=1, per_page=20, sort="desc")
        except pe.ProviderError:
            return None
        for entry in history.entries:
            if entry.id not in known and entry.status == HISTORY_WAITING and fits(entry):
                return entry
        return None

    async def _follow(self, mailbox: Mailbox) -> None:
        await self.mails.add(mailbox)
        await self.schedule.add(member(mailbox.ref), self.clock())

    # --- "Another letter" ---

    async def reorder(self, account: UserAccount, mailbox: Mailbox, pressed: int) -> MailPurchase:
        """Ask for another letter on the address, once per letter received."""
        if mailbox.id != pressed:
            return MailPurchase(mailbox=mailbox, already=True)  # the button's id moved on
        lock = await self.orders.lock(account.user_id)
        if lock is None:
            return MailPurchase(busy=True)
        try:
            current = await self.mails.find(account.user_id, pressed)
            if current is None:
                return MailPurchase(expired=True)
            if current.id != pressed:
                return MailPurchase(mailbox=current, already=True)
            if current.state is not MailState.LETTER:
                return MailPurchase(mailbox=current, closed=True)
            return await self._reorder(account, current)
        finally:
            await self.orders.unlock(account.user_id, lock)

    async def _reorder(self, account: UserAccount, mailbox: Mailbox) -> MailPurchase:
        if mailbox.reorder_unsure:
            # The last try got no answer: it may have gone through, so look before paying.
            found = await self._find_reordered(account, mailbox)
            if found is not None:
                return found
        try:
            renewed = await account.client.reorder_mail_activation(mailbox.id)
        except _AMBIGUOUS as error:
            log.warning("mail reorder outcome unknown for user %s: %s", mailbox.user_id, error)
            found = await self._find_reordered(account, mailbox)
            if found is not None:
                return found
            await self._mark_unsure(mailbox.ref)
            return MailPurchase(unknown=True, error=error)
        except pe.ProviderError as error:
            return MailPurchase(error=error)
        return MailPurchase(mailbox=await self._move(mailbox, renewed.id, renewed.email))

    async def _find_reordered(self, account: UserAccount, mailbox: Mailbox) -> MailPurchase | None:
        known = await self._known_ids(mailbox.user_id)
        email = mailbox.email.lower()
        entry = await self._find_new(account, known, lambda e: e.email.lower() == email)
        if entry is None:
            return None
        moved = await self._move(mailbox, entry.id, entry.email)
        return MailPurchase(mailbox=moved, recovered=True)

    async def _mark_unsure(self, ref: str) -> None:
        def change(record: Mailbox) -> Mailbox:
            record.reorder_unsure = True
            return record

        await self.mails.update(ref, change)

    async def _move(self, mailbox: Mailbox, new_id: int, email: str) -> Mailbox:
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
            record.version += 1
            return record

        moved = await self.mails.move(old_ref, renew)
        await self.schedule.forget(member(old_ref))
        await self.schedule.add(member(moved.ref), now)
        return moved

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
            return await self.close(mailbox.ref, MailState.GONE)
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
            record.closed_at = now
            record.version += 1
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
        def change(record: Mailbox) -> Mailbox:
            record.card_message_id = message_id
            return record

        await self.mails.update(ref, change)
