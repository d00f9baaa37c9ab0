"""One checkout for everything the bot pays for: at most one charge per confirmation.

Every purchase kind (a number, several services on one number, an extra activation, an
additional service, a rent, a rent extension, a mailbox, another letter) supplies only its
paid call and how to find what that call bought when the answer is lost (:class:`Purchase`).
The checkout owns the rest, once:

- a confirmation is a quote: an order drafted with a token (``OrderRepo``) that records the
  options, the account and the price the user saw; a tap carries the token. A quote that is
  no longer the user's latest of its kind (``/cancel``, a key change, a newer one), that is
  older than the quote lifetime, or that was shown for another account buys nothing
  (``STALE``); where the purchase can read its price, a price above the quote buys nothing
  either (``REPRICED``): the caller shows the fresh quote instead. Where the protocol takes a
  ceiling (getNumber's ``maxPrice``), the purchase passes the quote on, so a rise between that
  check and the paid call is refused by the provider itself (``WRONG_MAX_PRICE``), and reads as
  ``REPRICED`` too (:meth:`Purchase.rose`);
- the paid call runs under the user's purchase lock, after the order moved from draft to
  pending, so a double tap, a second device or a retried update never pays twice;
- an outcome the provider may or may not have carried out (``pe.OUTCOME_UNKNOWN``) is settled
  by the purchase's look-up, never by paying again;
- the order is settled (done with what it bought, draft again after a certain failure, or
  unknown), and the caller gets one typed :class:`Outcome`.

Every paid action goes through a confirmation and its order, the additional service too: the
protocol publishes no price for it, so its quote carries none (the screen says so) and the
card records what the balance lost. An order left ``unknown`` is followed by the worker
(``bot.services.settlement``) until it ends in a card or in "nothing was bought".
"""

from __future__ import annotations

import asyncio
import logging
from abc import ABC, abstractmethod
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass
from decimal import Decimal
from enum import Enum, StrEnum
from typing import Any, ClassVar, Generic, TypeVar

from pydantic import BaseModel

from bot.accounts import UserAccount
from bot.provider import errors as pe
from bot.storage.orders import Order, OrderRepo
from bot.storage.records import UserRecord
from bot.storage.schedule import Schedule

log = logging.getLogger(__name__)

T = TypeVar("T", bound=UserRecord)
T_co = TypeVar("T_co", bound=UserRecord, covariant=True)


class OrderKind(StrEnum):
    """What an order buys; the values are stored with drafted orders, so they stay."""

    ACTIVATION = "activation"
    RENT = "rent"
    RENT_EXTENSION = "rent_extend"
    MAIL = "mail"
    EXTRA = "extra"  # the same number once more (getExtraActivation)
    LETTER = "letter"  # another letter to the same address (reorderMailActivation)
    ADDITIONAL = "additional"  # another service on a forwarding number (getAdditionalService)


class Status(Enum):
    BOUGHT = "bought"
    ALREADY = "already"  # the order (or the item) had already bought this: a double tap
    RECOVERED = "recovered"  # the answer was lost, but the provider's state shows the purchase
    BUSY = "busy"  # another purchase of this user is running
    UNKNOWN = "unknown"  # the answer was lost and nothing new shows up (yet)
    EXPIRED = "expired"  # the confirmation is too old, unknown, or names something gone
    FAILED = "failed"  # the provider refused: nothing was bought, ``error`` says why
    CLOSED = "closed"  # the item's state allows no such purchase now
    STALE = "stale"  # the quote died (cancelled, superseded, too old, another account)
    REPRICED = "repriced"  # the price rose above the quote: ``price`` is the new one


@dataclass(frozen=True, slots=True)
class Outcome(Generic[T_co]):
    """What a confirmation tap led to."""

    status: Status
    item: T_co | None = None
    error: pe.ProviderError | None = None
    renewed: bool = False  # the purchase moved the item to a new provider id
    price: Decimal | None = None  # REPRICED: the price now
    quote: Order | None = None  # STALE, REPRICED: the dead quote, to offer a fresh one from

    @property
    def already(self) -> bool:
        return self.status is Status.ALREADY

    @property
    def recovered(self) -> bool:
        return self.status is Status.RECOVERED

    @property
    def busy(self) -> bool:
        return self.status is Status.BUSY

    @property
    def unknown(self) -> bool:
        return self.status is Status.UNKNOWN

    @property
    def expired(self) -> bool:
        return self.status is Status.EXPIRED

    @property
    def closed(self) -> bool:
        return self.status is Status.CLOSED

    @property
    def requote(self) -> bool:
        """Nothing was bought because the quote is no longer good: show a fresh one."""
        return self.status in (Status.STALE, Status.REPRICED)


class Purchase(ABC, Generic[T]):
    """One purchase kind: the paid call, and where to look when its answer is lost."""

    async def settled(self) -> Outcome[T] | None:
        """Under the lock, before paying: an answer that makes paying unnecessary, if any."""
        return None

    @abstractmethod
    async def pay(self) -> T:
        """The paid call; records and follows what it bought. ProviderError on failure."""

    async def look_up(self) -> T | None:
        """After a lost answer: what the call bought, recorded and followed; None if nothing.

        ProviderError when the provider cannot be read: "None" must mean "not bought".
        """
        return None

    async def resume(self, since: float) -> None:
        """Before a later look-up (by the worker): the bot's knowledge as of ``since``."""

    @property
    def traceable(self) -> bool:
        """Whether a look-up can tell "bought" from "not bought" (so the worker follows it)."""
        return True

    async def price(self) -> Decimal | None:
        """What the purchase costs now, where the provider says; None when it cannot be read."""
        return None

    def rose(self, error: pe.ProviderError) -> bool:
        """Whether the provider's refusal says the price rose above the quote (a ceiling the
        purchase passed on, as getNumber's maxPrice): nothing was bought, re-quote."""
        return False


Load = Callable[[str], Awaitable[T | None]]


#: How long the paid path waits for a read of its own (the price check, the look-up after a
#: lost answer): the tap's handler holds the chat, and what it cannot finish the worker does.
READ_BUDGET = 8.0
#: When the worker first looks again at an unknown outcome (it has just been looked for).
LOOK_AGAIN_AFTER = 10.0


def unsettled_member(user_id: int, token: str) -> str:
    """The schedule's name for an order whose outcome the worker still has to find out."""
    return f"settle:{user_id}:{token}"


async def look_up_within(purchase: Purchase[T], budget: float = READ_BUDGET) -> T | None:
    """The purchase's look-up; ProviderError or TimeoutError when it could not look."""
    async with asyncio.timeout(budget):
        return await purchase.look_up()


async def price_now(purchase: Purchase[T]) -> Decimal | None:
    """The purchase's price now; None when it cannot be read in time."""
    try:
        async with asyncio.timeout(READ_BUDGET):
            return await purchase.price()
    except TimeoutError:
        return None


class Checkout:
    def __init__(self, orders: OrderRepo, clock: Callable[[], float], schedule: Schedule) -> None:
        self.orders = orders
        self._clock = clock
        self._schedule = schedule

    async def draft(
        self,
        account: UserAccount,
        kind: OrderKind,
        params: BaseModel,
        price: Decimal | None = None,
    ) -> str:
        """A confirmation's token: the order remembers what it buys, where, and for how much."""
        return await self.orders.draft(
            account.user_id,
            kind.value,
            params.model_dump(mode="json"),
            price=price,
            account=account.identity,
            account_id=account.account_id or None,
            now=self._clock(),
        )

    async def void(self, user_id: int, kinds: Iterable[OrderKind] = tuple(OrderKind)) -> None:
        """Kill the user's live confirmations (all kinds by default)."""
        await self.orders.void(user_id, [kind.value for kind in kinds])

    async def _is_stale(self, account: UserAccount, token: str, order: Order) -> bool:
        if order.account is not None and order.account != account.identity:
            return True
        if order.quoted_at is not None and self._clock() - order.quoted_at > self.orders.quote_ttl:
            return True
        return not await self.orders.is_live(account.user_id, order.kind, token)

    async def confirm(
        self,
        account: UserAccount,
        token: str,
        kind: OrderKind,
        *,
        start: Callable[[Order], Awaitable[Purchase[T] | None]],
        load: Load[T],
    ) -> Outcome[T]:
        """Carry out the confirmation ``token`` at most once, and only as quoted.

        ``start`` turns the pending order into its purchase (None when what it names is gone);
        ``load`` reads back what an earlier tap bought.
        """
        user_id = account.user_id
        order = await self.orders.get(user_id, token)
        if order is None or order.kind != kind.value:
            return Outcome(Status.EXPIRED)
        if order.status == "done" and order.result:
            return Outcome(Status.ALREADY, await load(order.result))
        if order.status == "draft" and await self._is_stale(account, token, order):
            return Outcome(Status.STALE, quote=order)
        lock = await self.orders.lock(user_id)
        if lock is None:
            return Outcome(Status.BUSY)
        try:
            order, mine = await self.orders.begin(user_id, token, self._clock())
            if order is None:
                return Outcome(Status.EXPIRED)
            if not mine:
                return await self._taken(order, load)
            purchase = await start(order)
            if purchase is None:
                await self.orders.settle(user_id, token, "draft")
                return Outcome(Status.EXPIRED)
            repriced = await self._repriced(purchase, order)
            if repriced is None:
                outcome = await self._pay(purchase, user_id)
                if outcome.error is None or not purchase.rose(outcome.error):
                    await self._settle(user_id, token, outcome, follow=purchase.traceable)
                    return outcome
                repriced = await self._ceiling_held(purchase, order, outcome.error)
            await self.orders.settle(user_id, token, "draft")
            await self.orders.void(user_id, [order.kind])
            return repriced
        finally:
            await self.orders.unlock(user_id, lock)

    @staticmethod
    async def _repriced(purchase: Purchase[T], order: Order) -> Outcome[T] | None:
        """Never pay more than the quote: a higher price now is shown, not paid."""
        if order.price is None:
            return None
        # Unreadable is not dearer: the purchase goes ahead as quoted.
        now = await price_now(purchase)
        if now is None or now <= order.price:
            return None
        return Outcome(Status.REPRICED, price=now, quote=order)

    @staticmethod
    async def _ceiling_held(
        purchase: Purchase[T], order: Order, error: pe.ProviderError
    ) -> Outcome[T]:
        """The provider refused to charge more than the quote: the price it names, or the
        price read now, is the new quote."""
        price = error.min_price if isinstance(error, pe.WrongMaxPrice) else None
        if price is None:
            price = await price_now(purchase)
        return Outcome(Status.REPRICED, price=price, quote=order)

    async def _taken(self, order: Order, load: Load[T]) -> Outcome[T]:
        """Another tap got there first: report what it did."""
        if order.status == "done" and order.result:
            return Outcome(Status.ALREADY, await load(order.result))
        if order.status == "unknown":
            return Outcome(Status.UNKNOWN)
        if order.status == "void":
            return Outcome(Status.STALE, quote=order)
        return Outcome(Status.BUSY)

    async def _pay(self, purchase: Purchase[T], user_id: int) -> Outcome[T]:
        try:
            settled = await purchase.settled()
        except pe.ProviderError as error:
            return Outcome(Status.FAILED, error=error)  # could not check: nothing was paid
        if settled is not None:
            return settled
        try:
            item = await purchase.pay()
        except pe.OUTCOME_UNKNOWN as error:
            # It may or may not have been bought: look, never pay again blindly.
            log.warning(
                "%s outcome unknown for user %s: %s",
                type(purchase).__name__,
                user_id,
                type(error).__name__,
            )
            found = await self._look_up(purchase)
            if found is None:
                return Outcome(Status.UNKNOWN, error=error)
            return Outcome(Status.RECOVERED, found)
        except pe.ProviderError as error:
            return Outcome(Status.FAILED, error=error)
        except Exception:
            # Not a refusal the provider spelled out (a bug, storage failing after the call):
            # the money may have moved, so it is looked up like a lost answer.
            log.exception("%s failed unexpectedly for user %s", type(purchase).__name__, user_id)
            found = await self._look_up(purchase)
            return Outcome(Status.UNKNOWN) if found is None else Outcome(Status.RECOVERED, found)
        return Outcome(Status.BOUGHT, item)

    @staticmethod
    async def _look_up(purchase: Purchase[T]) -> T | None:
        try:
            return await look_up_within(purchase)
        except (pe.ProviderError, TimeoutError):
            return None  # the worker looks again (see bot.services.settlement)

    async def _settle(
        self, user_id: int, token: str, outcome: Outcome[T], *, follow: bool
    ) -> None:
        match outcome:
            case Outcome(item=item) if item is not None:
                await self.orders.settle(user_id, token, "done", item.ref)
            case Outcome(status=Status.UNKNOWN):
                await self.orders.settle(user_id, token, "unknown")
                # Every charge ends in a card or an honest "nothing was bought": the worker
                # keeps looking until it knows which.
                if follow:
                    await self._schedule.add(
                        unsettled_member(user_id, token), self._clock() + LOOK_AGAIN_AFTER
                    )
            case _:
                await self.orders.settle(user_id, token, "draft")


Choice = TypeVar("Choice", bound=BaseModel)


class Shop(Generic[Choice]):
    """What the service of each kind (activations, rents, mailboxes) is built on.

    Its pending orders and the checkout that carries them out, the poll schedule, the clock;
    ``Choice`` is what a user picks before confirming, ``kind`` what its orders are stored as.
    """

    kind: ClassVar[OrderKind]

    def __init__(self, orders: OrderRepo, schedule: Schedule, clock: Callable[[], float]) -> None:
        self.orders = orders
        self.schedule = schedule
        self.clock = clock
        self.checkout = Checkout(orders, clock, schedule)

    async def draft(
        self, account: UserAccount, options: Choice, price: Decimal | None = None
    ) -> str:
        """A confirmation that buys what ``options`` describe at ``price`` (the quote shown;
        by default the one the options carry); the user's earlier one of this kind dies."""
        shown = price if price is not None else self.quoted(options)
        return await self.checkout.draft(account, self.kind, options, shown)

    def quoted(self, options: Choice) -> Decimal | None:
        """The price a confirmation of ``options`` shows, where the options carry it."""
        return None

    #: Each order kind this shop sells, and how to turn such an order into its purchase.
    purchases: dict[str, Callable[[UserAccount, Order], Awaitable[Purchase[Any] | None]]]

    async def purchase_for(self, account: UserAccount, order: Order) -> Purchase[Any] | None:
        """The purchase ``order`` describes (the worker's later look at an unknown one);
        None when what it names is gone or the kind is not this shop's."""
        make = self.purchases.get(order.kind)
        return await make(account, order) if make is not None else None
