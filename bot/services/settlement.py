"""Every charge ends in a card or an honest "nothing was bought".

A paid call whose answer was lost, and whose immediate look-up found nothing (or could not
look), leaves its order ``unknown`` and on the schedule (``checkout.unsettled_member``). The
worker then looks again with the purchase's own look-up (the provider's active list, rent list
or mail history, as of the moment the purchase began) until one of these is true:

- the purchase shows up: it is recorded, followed, and the user gets its card (``FOUND``);
- the provider's list has been read successfully long enough after the purchase and it is not
  there: nothing was bought (``NOTHING``);
- the provider could not be read for an hour: the user is told to check at the provider
  (``UNSURE``), since the bot can no longer say which it was.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from enum import Enum
from typing import Generic

from bot.provider import errors as pe
from bot.services.checkout import Purchase, T, look_up_within
from bot.storage.orders import Order, OrderRepo

#: A sold number is in the provider's list at once; this long after the paid call, a list
#: read without it means the call did not buy.
NOTHING_AFTER = 45.0
LOOK_EVERY = 10.0
#: While the provider cannot be read, look less often, and stop after this long.
UNREADABLE_EVERY = 30.0
GIVE_UP_AFTER = 3600.0


class Verdict(Enum):
    FOUND = "found"
    NOTHING = "nothing"
    UNSURE = "unsure"
    WAIT = "wait"


@dataclass(frozen=True, slots=True)
class FollowUp(Generic[T]):
    verdict: Verdict
    item: T | None = None
    next_at: float | None = None  # WAIT: when to look again


async def follow_up(
    orders: OrderRepo,
    clock: Callable[[], float],
    user_id: int,
    token: str,
    order: Order,
    purchase: Purchase[T],
) -> FollowUp[T]:
    """One later look at an unknown order; settles the order unless the verdict is WAIT."""
    now = clock()
    began = order.started_at if order.started_at is not None else now
    await purchase.resume(began)
    try:
        found = await look_up_within(purchase)
    except (pe.ProviderError, TimeoutError):
        if now - began >= GIVE_UP_AFTER:
            await orders.settle(user_id, token, "void")
            return FollowUp(Verdict.UNSURE)
        return FollowUp(Verdict.WAIT, next_at=now + UNREADABLE_EVERY)
    if found is not None:
        await orders.settle(user_id, token, "done", found.ref)
        return FollowUp(Verdict.FOUND, found)
    if now - began >= NOTHING_AFTER:
        await orders.settle(user_id, token, "void")
        return FollowUp(Verdict.NOTHING)
    return FollowUp(Verdict.WAIT, next_at=min(now + LOOK_EVERY, began + NOTHING_AFTER))
