"""What every poller shares: settings, Redis, users, translations, the notifier, a clock."""

from __future__ import annotations

import logging
import random
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Generic, Protocol, TypeVar

from redis.asyncio import Redis

from bot.accounts import Accounts, UserAccount
from bot.config import Settings
from bot.events import NoEvents, WorkerEvents
from bot.i18n import I18n
from bot.i18n import gettext as _
from bot.keyboards.common import connect_keyboard
from bot.keyboards.markup import Keyboard
from bot.provider.lane import ProviderBusy
from bot.storage import keys
from bot.storage.claims import Claims
from bot.storage.records import UserRecord
from bot.storage.users import UserRepo
from bot.texts import escape
from bot.worker.clockguard import ClockGuard
from bot.worker.notifier import Notifier
from bot.worker.outbox import Outbox
from bot.worker.views import UserViews

log = logging.getLogger(__name__)

MAX_BACKOFF = 300.0
#: About how soon a poll refused by this process's own lane (ProviderBusy) comes back.
BUSY_RETRY = 1.0
#: How soon an item of a paused user (or one whose key was just refused) is looked at again.
PAUSED_RETRY = 600.0


@dataclass
class WorkerContext:
    settings: Settings
    redis: Redis
    users: UserRepo
    i18n: I18n
    notifier: Notifier
    #: Users' pauses, accounts, language and block, kept while they hold (see views.py); the
    #: notifier reads the block from them too.
    views: UserViews
    clock: Callable[[], float] = time.time
    #: Counts seconds passing whatever the wall clock is set to (see clockguard.py).
    steady: Callable[[], float] = time.monotonic
    events: WorkerEvents = field(default_factory=NoEvents)
    _failing: set[str] = field(default_factory=set)
    guard: ClockGuard = field(init=False)
    #: Pushes and card edits, sent beside the polls (see outbox.py).
    outbox: Outbox = field(init=False)

    def __post_init__(self) -> None:
        self.guard = ClockGuard(self.clock, self.steady)
        self.outbox = Outbox(self.notifier, Claims(self.redis), self.steady)

    def now_for(self, since: float) -> float:
        """Now, on the clock of a record made at ``since``: what its deadlines are judged by
        (the wall clock less any jump since; see clockguard.py)."""
        return self.guard.now_for(since)

    def wall_time(self, at: float | None, since: float) -> float | None:
        """A time ``at`` on that record's clock, back on the wall clock (for the schedule)."""
        return None if at is None else at + self.guard.shift(since)

    async def locale(self, user_id: int) -> str:
        return (await self.views.get(user_id)).locale(self.settings.default_locale)

    async def key_refused(self, account: UserAccount) -> None:
        """The provider said BAD_KEY: pause polling with this account and tell them, once."""
        user_id, provider_title = account.user_id, account.label
        if not await self.users.pause(user_id, "BAD_KEY", account.account_id):
            return
        log.info("provider refused a key of user %s; polling with it paused", user_id)
        locale = await self.locale(user_id)
        with self.i18n.context(), self.i18n.use_locale(locale):
            text = _(
                "{provider} no longer accepts your API key (changed or revoked?). I paused "
                "following your numbers: send the new key with /key."
            ).format(provider=escape(provider_title))
            markup = connect_keyboard(_("Connect an account"))
        await self.notifier.send(user_id, text, reply_markup=markup)

    def backoff_key(self, ref: str) -> str:
        return keys.failures(ref)

    async def backoff(self, ref: str, error: Exception | None = None) -> float:
        """Delay before polling an item again after a transient failure (grows, jittered).

        ``ProviderBusy`` is no failure of the provider: this process's lane to it was full
        (a burst of users' items came due together). The poll comes back within about a
        second, and no failure is counted: a growing backoff for it left items unpolled for
        minutes at 10,000 open activations.
        """
        if isinstance(error, ProviderBusy):
            return min(BUSY_RETRY, self.settings.poll_interval) * random.uniform(0.5, 1.5)
        self._failing.add(ref)
        key = self.backoff_key(ref)
        failures = int(await self.redis.incr(key))
        await self.redis.expire(key, 3600)
        delay = min(MAX_BACKOFF, self.settings.poll_interval * 2.0 ** min(failures, 8))
        return float(delay * random.uniform(0.5, 1.0))

    async def recovered(self, ref: str) -> None:
        # Only items that failed in this process pay for the write; a count left by another
        # process expires within the hour and only lengthens one backoff.
        if ref in self._failing:
            self._failing.discard(ref)
            await self.redis.delete(self.backoff_key(ref))


class CardKeeper(Protocol):
    """A service that remembers which message is an item's card."""

    async def set_card(self, ref: str, message_id: int) -> None: ...


S = TypeVar("S", bound=CardKeeper)


class Poller(Generic[S]):
    """What the poller of each kind is built from: the shared context, its service, the keys."""

    def __init__(self, ctx: WorkerContext, service: S, accounts: Accounts) -> None:
        self.ctx = ctx
        self.service = service
        self.accounts = accounts

    async def send_card(self, record: UserRecord, text: str, markup: Keyboard | None) -> bool:
        """A new card message for ``record`` (one found after a lost answer had no card)."""
        sent = await self.ctx.notifier.send(record.user_id, text, reply_markup=markup)
        if sent.message_id is not None:
            await self.service.set_card(record.ref, sent.message_id)
        return sent.message_id is not None

    async def poll_account(self, record: UserRecord, now: float) -> UserAccount | float | None:
        """The owner's account to poll ``record`` with, or what the poll returns instead.

        An item of a paused account is looked at again later; one whose account (and key) is
        gone is no longer followed (None).
        """
        view = await self.ctx.views.get(record.user_id)
        account = view.account_of(self.accounts, record)
        if account is not None and view.pauses.covers(account.account_id):
            return now + PAUSED_RETRY
        return account
