"""What every poll of a user's items needs (which accounts are paused, the accounts with their
decrypted keys, the language to write in, whether they blocked the bot), kept in process for
as long as it holds.

A user's accounts and pauses change rarely; reading them (two commands and a key decryption)
on every poll was most of a poll's cost. So a view lives until the user changes: every change
(an account added, changed or removed, polling paused, a language chosen, the bot blocked or
unblocked) is written to a change log in Redis
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
from bot.storage.users import Pauses, Standing, UserRepo

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
    standing: Standing
    #: Accounts opened from ``book`` (by account id and provider; None: no usable key).
    opened: dict[tuple[str | None, str], UserAccount | None] = field(default_factory=dict)

    @property
    def pauses(self) -> Pauses:
        return self.standing.pauses

    @property
    def book(self) -> AccountBook:
        return self.standing.glance.book

    @property
    def blocked(self) -> bool:
        return self.standing.blocked

    def locale(self, default: str) -> str:
        return self.standing.locale(default)

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
        self.users = users
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
        view = UserView(now, now, await self.users.standing(user_id))
        if generation != self._generation:
            return view  # a change arrived while reading: this one may predate it, not kept
        if len(self._views) >= self._bound:
            horizon = now - IDLE_SECONDS
            self._views = {u: v for u, v in self._views.items() if v.used_at > horizon}
            self._bound = max(BOUND, 2 * len(self._views))
        self._views[user_id] = view
        return view


class ViewedRecipients:
    """Whether a user blocked the bot, as the notifier asks before every push: read from the
    user's view, not from Redis each time."""

    def __init__(self, views: UserViews) -> None:
        self._views = views

    async def is_blocked(self, user_id: int) -> bool:
        return (await self._views.get(user_id)).blocked

    async def set_blocked(self, user_id: int, blocked: bool) -> None:
        await self._views.users.set_blocked(user_id, blocked)
        self._views.forget(user_id)
