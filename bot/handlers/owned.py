"""Ownership of what a button names: one check per object kind, one refusal for all.

Callback data is never trusted. Each helper finds the object in the presser's own lists, then
the account it was bought with (whatever the default account is now), and raises
``StaleButton`` (``NotYours``, or ``OtherAccount`` when that account was removed) for the
errors router to explain. Nothing is asked of the provider before the check passes.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Iterable
from typing import Protocol, TypeVar

from bot.accounts import Accounts, UserAccount
from bot.errors import Item, NotYours, OtherAccount
from bot.provider.presets import Feature
from bot.storage.activations import Activation
from bot.storage.mails import Mailbox
from bot.storage.records import UserRecord
from bot.storage.rents import Rent
from bot.storage.users import UserGlance
from bot.views.common import ItemLabels, account_label

T = TypeVar("T", bound=UserRecord)
T_co = TypeVar("T_co", bound=UserRecord, covariant=True)


class _Finder(Protocol[T_co]):
    async def find(self, user_id: int, item_id: int, /) -> T_co | None: ...


async def _owned(
    finder: _Finder[T],
    accounts: Accounts,
    user_id: int,
    item_id: int,
    item: Item,
    glance: UserGlance | None,
) -> tuple[T, UserAccount]:
    found = await finder.find(user_id, item_id)
    if found is None:
        raise NotYours(item)
    account = await accounts.of_item(user_id, found.account_id, found.provider, glance=glance)
    if account is None or account.retired:
        raise OtherAccount(item)
    return found, account


async def owned_activation(
    finder: _Finder[Activation],
    accounts: Accounts,
    user_id: int,
    activation_id: int,
    glance: UserGlance | None = None,
) -> tuple[Activation, UserAccount]:
    return await _owned(finder, accounts, user_id, activation_id, Item.NUMBER, glance)


async def owned_rent(
    finder: _Finder[Rent],
    accounts: Accounts,
    user_id: int,
    rent_id: int,
    glance: UserGlance | None = None,
) -> tuple[Rent, UserAccount]:
    return await _owned(finder, accounts, user_id, rent_id, Item.NUMBER, glance)


async def owned_mailbox(
    finder: _Finder[Mailbox],
    accounts: Accounts,
    user_id: int,
    mail_id: int,
    glance: UserGlance | None = None,
) -> tuple[Mailbox, UserAccount]:
    return await _owned(finder, accounts, user_id, mail_id, Item.MAILBOX, glance)


async def each_account(
    accounts: Accounts,
    user_id: int,
    action: Callable[[UserAccount], Awaitable[object]],
    feature: Feature | None = None,
) -> None:
    """``action`` on every connected account (that has ``feature``) at once: a slow provider
    holds up the others no longer than it holds up itself."""
    connected = await accounts.all(user_id)
    await asyncio.gather(
        *(action(account) for account in connected if feature is None or account.supports(feature))
    )


async def item_labels(
    accounts: Accounts, user_id: int, records: Iterable[UserRecord]
) -> ItemLabels:
    """How a list names the account of each of ``records`` (one read of the user's accounts):
    by the account's label when the user has several, ``🔒 <provider>`` when it was removed."""
    book = await accounts.users.account_book(user_id)
    several = len(book.active) > 1
    labels: dict[str, str] = {}
    gone: set[str] = set()
    for record in records:
        account = accounts.of_item_in(book, user_id, record.account_id, record.provider)
        if account is None or account.retired:
            preset = accounts.hub.preset(record.provider)
            title = preset.title if preset is not None else record.provider
            labels[record.ref] = account_label(title)
            gone.add(title)
        elif several:
            labels[record.ref] = account.label
    return ItemLabels(labels, frozenset(gone))
