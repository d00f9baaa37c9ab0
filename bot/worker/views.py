"""What every poll of a user's items needs (which accounts are paused, the accounts with their
decrypted keys), kept in process for as long as it holds.

A user's accounts and pauses change rarely; reading them (two commands and a key decryption)
on every poll was most of a poll's cost. So a view lives until the user changes: every change
(an account added, changed or removed, polling paused) is written to a change log in Redis
(``UserRepo._changed``), and the worker's schedule turn reads the users changed since its
last turn in the same script call that claims items (no round trip of its own); their views
are dropped before anything claimed in that turn is polled.

A process whose views are not kept in step that way (no worker loop: a webhook hint in the
bot process, a test polling directly) falls back to reading a view again after a second, as
before. A log that moved on too far for the process to catch up drops every view.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from bot.accounts import Accounts, UserAccount
from bot.errors import NoKeyConnected, ProviderUnavailable
from bot.storage.accounts import AccountBook
from bot.storage.records import UserRecord
from bot.storage.users import Pauses, UserRepo

#: Without a change-log reading this recent, a view is trusted for UNSYNCED_SECONDS only.
SYNC_SECONDS = 5.0
UNSYNCED_SECONDS = 1.0
#: A view not used for this long is dropped when the cache is trimmed.
IDLE_SECONDS = 900.0
BOUND = 10_000


async def connected(accounts: Accounts, user_id: int) -> UserAccount | None:
    """The user's default account; None when no key is left to ask the provider with."""
    try:
        return await accounts.get(user_id)
    except (NoKeyConnected, ProviderUnavailable):
        return None


@dataclass(slots=True)
class UserView:
    read_at: float  # steady seconds
    used_at: float
    pauses: Pauses
    book: AccountBook
    #: Accounts opened from ``book`` (by account id and provider; None: no usable key).
    opened: dict[tuple[str | None, str], UserAccount | None] = field(default_factory=dict)

    def account_of(self, accounts: Accounts, record: UserRecord) -> UserAccount | None:
        """The account ``record`` was bought with (see ``Accounts.of_item``), opened once."""
        which = (record.account_id, record.provider)
        if which not in self.opened:
            self.opened[which] = accounts.of_item_in(
                self.book, record.user_id, record.account_id, record.provider
            )
        return self.opened[which]


class UserViews:
    def __init__(self, users: UserRepo, steady: Callable[[], float] = time.monotonic) -> None:
        self._users = users
        self._steady = steady
        self._views: dict[int, UserView] = {}
        self._bound = BOUND
        self._synced_at: float | None = None
        self._generation = 0  # counts syncs that dropped views
        #: The change-log sequence this process has applied (-1: none yet).
        self.seq = -1

    def synced(self, seq: int, changed: Iterable[int] | None) -> None:
        """The change log, as a schedule turn read it: drop the views of changed users
        (every view for None)."""
        if changed is None or changed:
            self._generation += 1
        if changed is None:
            self._views.clear()
        else:
            for user_id in changed:
                self._views.pop(user_id, None)
        self.seq = seq
        self._synced_at = self._steady()

    def forget(self, user_id: int) -> None:
        self._views.pop(user_id, None)

    def _valid(self, view: UserView, now: float) -> bool:
        if self._synced_at is not None and now - self._synced_at < SYNC_SECONDS:
            return True
        return now - view.read_at < UNSYNCED_SECONDS

    async def get(self, user_id: int) -> UserView:
        now = self._steady()
        view = self._views.get(user_id)
        if view is not None and self._valid(view, now):
            view.used_at = now
            return view
        generation = self._generation
        pauses = await self._users.pauses(user_id)
        view = UserView(now, now, pauses, await self._users.account_book(user_id))
        if generation != self._generation:
            return view  # a change arrived while reading: this one may predate it, not kept
        if len(self._views) >= self._bound:
            horizon = now - IDLE_SECONDS
            self._views = {u: v for u, v in self._views.items() if v.used_at > horizon}
            self._bound = max(BOUND, 2 * len(self._views))
        self._views[user_id] = view
        return view
