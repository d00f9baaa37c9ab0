"""What a mailbox is, by the protocol: its lifetime, how it ends, and what a purchase names.

Pure rules shared by the service, the purchases, the worker and the views: no I/O here.
"""

from __future__ import annotations

from decimal import Decimal

from pydantic import BaseModel

from bot.accounts import UserAccount
from bot.provider.models import MailHistoryEntry, MailType
from bot.storage.mails import Mailbox, MailState

#: The protocol documents no lifetime; providers keep a mailbox as long as a number.
MAIL_LIFETIME = 20 * 60.0
#: getMailHistory status of a mailbox that waits for its letter.
HISTORY_WAITING = 3
#: How long past its end a mailbox is still asked about before the bot closes it itself.
GIVE_UP_AFTER = 600.0


def member(ref: str) -> str:
    """The mailbox's name in the shared schedule."""
    return f"mail:{ref}"


class MailOptions(BaseModel):
    """What the user chose; kept in the order so a confirmation buys exactly that."""

    site: str
    mail_type: MailType
    domain: str
    price: Decimal | None = None


def closed_state(mailbox: Mailbox, now: float) -> MailState:
    """How a mailbox the provider closed without a letter ended."""
    return MailState.EXPIRED if now >= mailbox.expires_at - 60 else MailState.CANCELLED


def forgotten_state(mailbox: Mailbox, now: float) -> MailState:
    """How a mailbox the provider no longer knows ended: past its lifetime it ran out (the
    provider forgets those, after the refund), else it is gone for a reason nobody said."""
    return MailState.EXPIRED if now >= mailbox.expires_at - 60 else MailState.GONE


def overdue(mailbox: Mailbox, now: float) -> bool:
    """Waiting long past its end: the provider will not say more, so the bot closes it."""
    return now > mailbox.expires_at + GIVE_UP_AFTER


def fits(entry: MailHistoryEntry, options: MailOptions) -> bool:
    """Whether a mailbox in the provider's history is one ``options`` would have bought."""
    email = entry.email.lower()
    domain = options.domain.lower()
    on_domain = (
        email.endswith("@" + domain)
        if options.mail_type is MailType.POPULAR
        else email.endswith("." + domain)
    )
    return entry.site.lower() == options.site and on_domain


def new_mailbox(
    account: UserAccount,
    options: MailOptions,
    mail_id: int,
    email: str,
    cost: Decimal | None,
    now: float,
) -> Mailbox:
    """The record of a mailbox just bought with ``options``."""
    return Mailbox(
        id=mail_id,
        user_id=account.user_id,
        provider=account.provider,
        account_id=account.account_id or None,
        site=options.site,
        email=email,
        domain=options.domain,
        mail_type=int(options.mail_type),
        cost=cost,
        created_at=now,
        expires_at=now + MAIL_LIFETIME,
    )
