"""Activations the bot follows, as JSON records in Redis.

Stored as :class:`bot.storage.records.UserRecords` describes: ``act:<provider>:<id>``, the
index ``user:<uid>:acts`` and the open set ``user:<uid>:open_acts`` (batching decides on its
size).
"""

from __future__ import annotations

from decimal import Decimal
from enum import StrEnum

from pydantic import BaseModel, Field

from bot.storage import records


class State(StrEnum):
    WAITING = "waiting"  # no code yet
    CODE = "code"  # a code arrived; the user may finish or ask for another
    RETRY = "retry"  # another code was asked for
    FINISHED = "finished"
    CANCELLED = "cancelled"  # cancelled with a refund
    EXPIRED = "expired"  # lifetime over without a code: refunded

    @property
    def is_open(self) -> bool:
        return self in {State.WAITING, State.CODE, State.RETRY}


class Code(BaseModel):
    code: str
    at: float
    delivered: bool = False
    push_unsure: bool = False  # Telegram failed twice after the push left: it may be missing


class BuyOptions(BaseModel):
    """What the user chose; kept so "Buy again" repeats it exactly."""

    service: str
    country: int | None = None
    operator: str | None = None
    max_price: Decimal | None = None
    verification: bool = False
    phone_exception: list[str] = Field(default_factory=list)
    forward: bool = False  # a number with call forwarding (it can take additional services)
    #: Several services on one number (getMultiServiceNumber); ``service`` is the first.
    services: list[str] = Field(default_factory=list)

    @property
    def is_multi(self) -> bool:
        return len(self.services) > 1


class Activation(records.UserRecord, records.Expiring):
    service: str
    phone: str
    country: int | None = None
    operator: str | None = None
    cost: Decimal | None = None
    expires_at: float
    state: State = State.WAITING
    codes: list[Code] = Field(default_factory=list)
    can_retry: bool = True
    verification: bool = False
    options: BuyOptions | None = None
    external: bool = False  # bought outside the bot; found in getActiveActivations
    call_from: str | None = None
    milestone: int | None = None  # last countdown milestone shown on the card (minutes)
    ready_sent: bool = False  # the user said the SMS was sent (status 1)
    # When the user last asked for another code (None: the wait began at the purchase).
    waiting_since: float | None = None
    extra_ref: str | None = None  # the reuse of this number bought with "Use again"
    group: list[str] = Field(default_factory=list)  # refs sharing this number (multi-service)
    forward: bool = False  # bought with call forwarding: additional services can be added
    changed_at: float = 0.0  # when the user last acted: provider snapshots older than it lie

    @property
    def is_open(self) -> bool:
        return self.state.is_open

    @property
    def last_code(self) -> str | None:
        return self.codes[-1].code if self.codes else None


class ActivationRepo(records.UserRecords[Activation]):
    model = Activation
    kind = "act"
    index = "acts"
    open_index = "open_acts"

    async def find(self, user_id: int, activation_id: int) -> Activation | None:
        """The user's own activation with this id (any provider), or None."""
        suffix = f":{activation_id}"
        for ref in await self.refs(user_id):
            if ref.endswith(suffix):
                found = await self.get(ref)
                if found is not None and found.user_id == user_id:
                    return found
        return None

    async def open_count(self, user_id: int) -> int:
        """How many of the user's activations are open (kept as a set, so this is cheap)."""
        return int(await self._redis.scard(self.open_set(user_id)))

    async def with_group(self, activation: Activation) -> list[Activation]:
        """The activation and the others sharing its number, in purchase order."""
        if not activation.group:
            return [activation]
        found = {a.ref: a for a in await self.get_many(activation.group)}
        found[activation.ref] = activation
        return [found[ref] for ref in activation.group if ref in found]

    async def open_of_user(self, user_id: int) -> list[Activation]:
        return [a for a in await self.of_user(user_id, limit=200) if a.is_open]
