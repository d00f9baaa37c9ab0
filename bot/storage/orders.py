"""Idempotent purchases: one confirmation buys at most one number, whatever is tapped twice.

A confirmation screen carries a token; ``orders:<uid>:<token>`` remembers what it would buy
(a quote: the options, the account and the price the user saw, and when) and, once tapped,
what happened: ``pending`` while the provider is asked, ``done`` with the
result, ``draft`` again when the purchase certainly failed (a retry is then safe), or
``unknown`` when the outcome is ambiguous and the bot must look at the provider's state. A
per-user lock keeps two devices from buying at the same moment.

Only the latest confirmation of each kind is live (``quote:<uid>:<kind>``): a newer one, a
``/cancel`` or a key change kills the older ones (:meth:`OrderRepo.void`), and the checkout
refuses a dead or old quote instead of buying at whatever the price is now.
"""

from __future__ import annotations

import secrets
from collections.abc import Iterable
from decimal import Decimal
from typing import Any, Literal

from pydantic import BaseModel
from redis.asyncio import Redis

from bot.storage import keys, records

ORDER_TTL = 24 * 3600
#: How long a confirmation may be tapped by default: prices and stock move within minutes.
QUOTE_TTL = 300.0
LOCK_TTL_MS = 60_000

# "void": the outcome was unknown and a later look found nothing bought; it buys nothing more.
OrderStatus = Literal["draft", "pending", "done", "unknown", "void"]


class Order(BaseModel):
    kind: str  # "activation", "rent", "mail"
    params: dict[str, Any]
    status: OrderStatus = "draft"
    result: str | None = None  # the ref of what was bought
    started_at: float | None = None
    # The quote: the price shown (None where none was), the account it was shown for, and when.
    price: Decimal | None = None
    account: str | None = None
    #: The id of the user's account that pays (see storage/accounts.py); None on old orders.
    account_id: str | None = None
    quoted_at: float | None = None


def _order_key(user_id: int, token: str) -> str:
    return keys.order(user_id, token)


def _lock_key(user_id: int) -> str:
    return keys.purchase_lock(user_id)


_UNLOCK = """
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0
"""


class OrderRepo:
    def __init__(self, redis: Redis, *, quote_ttl: float = QUOTE_TTL) -> None:
        self._redis = redis
        self.quote_ttl = quote_ttl
        self._unlock = redis.register_script(_UNLOCK)

    async def draft(
        self,
        user_id: int,
        kind: str,
        params: dict[str, Any],
        *,
        price: Decimal | None = None,
        account: str | None = None,
        account_id: str | None = None,
        now: float | None = None,
    ) -> str:
        """A new confirmation of ``kind``; the user's earlier one of that kind dies."""
        token = secrets.token_urlsafe(9)
        order = Order(
            kind=kind,
            params=params,
            price=price,
            account=account,
            account_id=account_id,
            quoted_at=now,
        )
        async with self._redis.pipeline(transaction=True) as pipe:
            pipe.set(_order_key(user_id, token), records.dump(order), ex=ORDER_TTL)
            pipe.set(keys.live_quote(user_id, kind), token, ex=ORDER_TTL)
            await pipe.execute()
        return token

    async def is_live(self, user_id: int, kind: str, token: str) -> bool:
        live = await self._redis.get(keys.live_quote(user_id, kind))
        return live is not None and (live.decode() if isinstance(live, bytes) else live) == token

    async def void(self, user_id: int, kinds: Iterable[str]) -> None:
        """Kill the live confirmations of ``kinds`` (``/cancel``, a key change, a new dialog)."""
        names = [keys.live_quote(user_id, kind) for kind in kinds]
        if names:
            await self._redis.delete(*names)

    async def get(self, user_id: int, token: str) -> Order | None:
        return await records.load(self._redis, _order_key(user_id, token), Order)

    async def begin(self, user_id: int, token: str, now: float) -> tuple[Order | None, bool]:
        """Move a draft to pending. Returns the order and whether this call may buy."""
        key = _order_key(user_id, token)

        def start(order: Order) -> Order | None:
            if order.status != "draft":
                return None
            order.status = "pending"
            order.started_at = now
            return order

        try:
            before, after = await records.update(self._redis, key, Order, start)
        except records.RecordMissing:
            return None, False
        return after, before.status == "draft" and after.status == "pending"

    async def settle(
        self, user_id: int, token: str, status: OrderStatus, result: str | None = None
    ) -> None:
        key = _order_key(user_id, token)

        def finish(order: Order) -> Order:
            order.status = status
            order.result = result
            if status == "done":
                # A later tap of the same button reads only what was bought and who paid:
                # the quote (options, price, times) would only fill Redis for the day.
                order.params = {}
                order.price = order.started_at = order.quoted_at = None
            return order

        try:
            await records.update(self._redis, key, Order, finish)
        except records.RecordMissing:
            return

    async def lock(self, user_id: int) -> str | None:
        """The user's purchase lock (a token to unlock with), or None if someone holds it."""
        token = secrets.token_hex(8)
        taken = await self._redis.set(_lock_key(user_id), token, nx=True, px=LOCK_TTL_MS)
        return token if taken else None

    async def unlock(self, user_id: int, token: str) -> None:
        # Only the holder unlocks: a lock that expired and was taken again stays taken.
        await self._unlock(keys=[_lock_key(user_id)], args=[token])
