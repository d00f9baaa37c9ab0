"""What hangs on a provider account: its open items, its balance, and removing it.

An account the user removes while items bought with it are open is retired, not forgotten:
the worker keeps following those items with its key. When the last of them closes (the record
stores call ``closed``), or at the user's next /key, it is forgotten, key and all.
"""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import TypeVar

from bot.accounts import Accounts, UserAccount
from bot.provider import errors as pe
from bot.storage.accounts import AccountBook
from bot.storage.activations import ActivationRepo
from bot.storage.mails import MailRepo
from bot.storage.records import UserRecord
from bot.storage.rents import RentRepo

T = TypeVar("T")

#: How long a screen listing several accounts waits for each one's balance.
BALANCE_TIMEOUT = 5.0


@dataclass(frozen=True, slots=True)
class AccountItems:
    accounts: Accounts
    activations: ActivationRepo
    rents: RentRepo
    mails: MailRepo

    async def _open_records(self, user_id: int) -> list[UserRecord]:
        activations, rents, mails = await asyncio.gather(
            self.activations.open_of_user(user_id),
            self.rents.open_of_user(user_id),
            self.mails.of_user(user_id, limit=200),
        )
        return [*activations, *rents, *(mailbox for mailbox in mails if mailbox.is_open)]

    async def open_counts(self, user_id: int, book: AccountBook | None = None) -> Counter[str]:
        """How many open items each account (by id) has."""
        if book is None:
            book = await self.accounts.users.account_book(user_id)
        counts: Counter[str] = Counter()
        for record in await self._open_records(user_id):
            owner = book.owner_of(record.account_id, record.provider)
            if owner is not None:
                counts[owner.id] += 1
        return counts

    async def remove(self, user_id: int, account_id: str) -> int:
        """Remove the account: forgotten at once when nothing of it is open, else retired
        until its open items close. Returns how many are open."""
        open_now = (await self.open_counts(user_id))[account_id]
        if open_now:
            await self.accounts.users.retire_account(user_id, account_id)
        else:
            await self.accounts.users.forget_accounts(user_id, [account_id])
        return open_now

    async def closed(self, record: UserRecord) -> None:
        """A record closed: if its account was removed, that account may be done with."""
        book = await self.accounts.users.account_book(record.user_id)
        owner = book.owner_of(record.account_id, record.provider)
        if owner is not None and owner.retired:
            await self.forget_finished(record.user_id)

    async def forget_finished(self, user_id: int) -> None:
        """Forget the retired accounts none of whose items is open any more."""
        book = await self.accounts.users.account_book(user_id)
        retired = [account.id for account in book.accounts if account.retired]
        if not retired:
            return
        counts = await self.open_counts(user_id, book)
        await self.accounts.users.forget_accounts(
            user_id, [account_id for account_id in retired if not counts[account_id]]
        )


async def ask_each(
    accounts: Sequence[UserAccount],
    ask: Callable[[UserAccount], Awaitable[T]],
    timeout: float | None = None,
) -> list[T | None]:
    """``ask`` every account at once; None for one that failed or was slower than
    ``timeout`` (BALANCE_TIMEOUT by default): the others are not held up by it."""
    timeout = BALANCE_TIMEOUT if timeout is None else timeout

    async def one(account: UserAccount) -> T | None:
        try:
            return await asyncio.wait_for(ask(account), timeout)
        except (pe.ProviderError, TimeoutError):
            return None

    return list(await asyncio.gather(*(one(account) for account in accounts)))


async def balances(accounts: Sequence[UserAccount]) -> list[Decimal | None]:
    """Every account's balance, asked at once (see ``ask_each``)."""
    return await ask_each(accounts, lambda account: account.client.get_balance())
