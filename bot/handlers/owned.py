"""Ownership of what a button names: one check per object kind, one refusal for all.

Callback data is never trusted. Each helper finds the object in the presser's own lists, then
the account it was bought with, and raises ``StaleButton`` (``NotYours`` / ``OtherAccount``)
for the errors router to explain. Nothing is asked of the provider before the check passes.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Protocol, TypeVar

from bot.accounts import Accounts, UserAccount
from bot.errors import Item, NotYours, OtherAccount
from bot.provider.hub import ProviderHub
from bot.storage.activations import Activation
from bot.storage.mails import Mailbox
from bot.storage.records import UserRecord
from bot.storage.rents import Rent

T = TypeVar("T", bound=UserRecord)
T_co = TypeVar("T_co", bound=UserRecord, covariant=True)


class _Finder(Protocol[T_co]):
    async def find(self, user_id: int, item_id: int, /) -> T_co | None: ...


async def _owned(
    finder: _Finder[T], accounts: Accounts, user_id: int, item_id: int, item: Item
) -> tuple[T, UserAccount]:
    found = await finder.find(user_id, item_id)
    if found is None:
        raise NotYours(item)
    account = await accounts.get(user_id)
    if account.provider != found.provider:
        raise OtherAccount(item)
    return found, account


async def owned_activation(
    finder: _Finder[Activation], accounts: Accounts, user_id: int, activation_id: int
) -> tuple[Activation, UserAccount]:
    return await _owned(finder, accounts, user_id, activation_id, Item.NUMBER)


async def owned_rent(
    finder: _Finder[Rent], accounts: Accounts, user_id: int, rent_id: int
) -> tuple[Rent, UserAccount]:
    return await _owned(finder, accounts, user_id, rent_id, Item.NUMBER)


async def owned_mailbox(
    finder: _Finder[Mailbox], accounts: Accounts, user_id: int, mail_id: int
) -> tuple[Mailbox, UserAccount]:
    return await _owned(finder, accounts, user_id, mail_id, Item.MAILBOX)


def other_accounts(
    hub: ProviderHub, account: UserAccount, records: Iterable[UserRecord]
) -> dict[str, str]:
    """The provider accounts other than ``account`` that ``records`` were bought with, by
    provider name, each with the title a list labels its items with (their buttons refuse
    ``OtherAccount`` until that account is connected again)."""
    others: dict[str, str] = {}
    for record in records:
        if record.provider != account.provider and record.provider not in others:
            preset = hub.preset(record.provider)
            others[record.provider] = preset.title if preset is not None else record.provider
    return others
