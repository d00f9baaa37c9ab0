"""Following a purchase whose answer was lost until it ends in a card or in "nothing bought".

The checkout leaves such an order ``unknown`` and schedules ``settle:<user>:<token>``; this
poller rebuilds the order's purchase, looks again (``bot.services.settlement``) and tells the
user: the card of what was bought, a plain "nothing was bought", or, when the provider could
not be read for long, that the bot cannot tell. Every kind with an order takes part: numbers,
reused numbers, added services, rents, rent extensions and mailboxes.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from bot.accounts import Accounts, UserAccount
from bot.services.checkout import Purchase
from bot.services.settlement import Verdict, follow_up
from bot.storage.orders import Order, OrderRepo
from bot.storage.records import Stored
from bot.views.settlement import settled_text
from bot.worker.context import WorkerContext
from bot.worker.views import connected

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class Settles:
    """How one order kind is looked at again, and how what it bought is shown."""

    resume: Callable[[UserAccount, Order], Awaitable[Purchase[Any] | None]]
    present: Callable[[Any], Awaitable[None]]


class SettlePoller:
    def __init__(
        self,
        ctx: WorkerContext,
        orders: OrderRepo,
        accounts: Accounts,
        kinds: dict[str, Settles],
    ) -> None:
        self.ctx = ctx
        self.orders = orders
        self.accounts = accounts
        self.kinds = kinds

    async def poll(self, ref: str, stored: Stored | None = None) -> float | None:
        """``stored`` is never read for an order (its record is not the member's)."""
        user_text, _, token = ref.partition(":")
        if not user_text.isdigit() or not token:
            return None
        user_id = int(user_text)
        order = await self.orders.get(user_id, token)
        if order is None or order.status != "unknown":
            return None  # settled meanwhile (a later tap found it), or forgotten
        kind = self.kinds.get(order.kind)
        account = await self._account(user_id, order)
        if kind is None or account is None or order.account not in (None, account.identity):
            # The key that bought it is gone: this bot can no longer ask about it.
            await self._end(user_id, token, order, unsure=True)
            return None
        purchase = await kind.resume(account, order)
        if purchase is None:
            await self._end(user_id, token, order, unsure=True)
            return None
        # "Nothing was bought" and "give up" are judged on the order's own clock (a wall-clock
        # jump since is taken out, see clockguard.py).
        since = order.started_at if order.started_at is not None else self.ctx.clock()

        def clock() -> float:
            return self.ctx.now_for(since)

        result = await follow_up(self.orders, clock, user_id, token, order, purchase)
        if result.verdict is Verdict.WAIT:
            return self.ctx.wall_time(result.next_at, since)
        log.info("unknown %s order of user %s settled: %s", order.kind, user_id, result.verdict)
        if result.verdict is Verdict.FOUND:
            await kind.present(result.item)
        else:
            await self._tell(
                user_id, account.preset.title, unsure=result.verdict is Verdict.UNSURE
            )
        return None

    async def _account(self, user_id: int, order: Order) -> UserAccount | None:
        """The account the order was placed with (an order from before several accounts:
        the user's account of its provider)."""
        provider = (order.account or "").partition(":")[0]
        if not provider:
            return await connected(self.accounts, user_id)
        return await self.accounts.of_item(user_id, order.account_id, provider)

    async def _end(self, user_id: int, token: str, order: Order, *, unsure: bool) -> None:
        await self.orders.settle(user_id, token, "void")
        provider = (order.account or "").partition(":")[0]
        preset = self.accounts.hub.preset(provider)
        await self._tell(user_id, preset.title if preset else provider, unsure=unsure)

    async def _tell(self, user_id: int, provider: str, *, unsure: bool) -> None:
        ctx = self.ctx
        locale = await ctx.locale(user_id)
        with ctx.i18n.context(), ctx.i18n.use_locale(locale):
            text = settled_text(provider, unsure=unsure)
        await ctx.notifier.send(user_id, text)
