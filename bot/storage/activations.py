"""Activations the bot follows, as JSON records in Redis.

* ``act:<provider>:<id>`` — the record (ids are per provider, so the provider is in the key)
* ``user:<uid>:open_acts`` — set of the user's open refs (batching decides on its size)
* ``user:<uid>:acts`` — sorted set of the user's refs (``<provider>:<id>``) by purchase time;
  a button names an activation by id and is resolved only through the presser's own set, so
  another user's activation cannot even be looked up.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from decimal import Decimal
from enum import StrEnum

from pydantic import BaseModel, Field
from redis.asyncio import Redis

from bot.storage import records
from bot.storage.users import PREFIX, user_key

#: Closed activations stay visible (cards, buy again) this long.
RETENTION = 30 * 24 * 3600


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


class Activation(BaseModel):
    id: int
    user_id: int
    provider: str
    service: str
    phone: str
    country: int | None = None
    operator: str | None = None
    cost: Decimal | None = None
    created_at: float
    expires_at: float
    state: State = State.WAITING
    codes: list[Code] = Field(default_factory=list)
    can_retry: bool = True
    verification: bool = False
    options: BuyOptions | None = None
    card_message_id: int | None = None
    external: bool = False  # bought outside the bot; found in getActiveActivations
    closed_at: float | None = None
    call_from: str | None = None
    milestone: int | None = None  # last countdown milestone shown on the card (minutes)
    ready_sent: bool = False  # the user said the SMS was sent (status 1)
    waiting_since: float | None = None  # purchase or the last "Another code": a code is likely
    extra_ref: str | None = None  # the reuse of this number bought with "Use again"
    group: list[str] = Field(default_factory=list)  # refs sharing this number (multi-service)
    forward: bool = False  # bought with call forwarding: additional services can be added
    version: int = 0  # bumped on every change: a poll answer older than a change is dropped
    changed_at: float = 0.0  # when the user last acted: provider snapshots older than it lie

    @property
    def ref(self) -> str:
        return f"{self.provider}:{self.id}"

    @property
    def is_open(self) -> bool:
        return self.state.is_open

    @property
    def last_code(self) -> str | None:
        return self.codes[-1].code if self.codes else None

    def seconds_left(self, now: float | None = None) -> float:
        return max(0.0, self.expires_at - (time.time() if now is None else now))


def activation_key(ref: str) -> str:
    return f"{PREFIX}:act:{ref}"


def make_ref(provider: str, activation_id: int) -> str:
    return f"{provider}:{activation_id}"


class ActivationRepo:
    def __init__(self, redis: Redis) -> None:
        self._redis = redis

    async def add(self, activation: Activation) -> bool:
        """Store a new activation; False when it was already known (a reconciliation race)."""
        key = activation_key(activation.ref)
        created = await self._redis.set(key, activation.model_dump_json(), nx=True)
        if not created:
            return False
        await self._redis.zadd(
            user_key(activation.user_id, "acts"), {activation.ref: activation.created_at}
        )
        if activation.is_open:
            await self._redis.sadd(user_key(activation.user_id, "open_acts"), activation.ref)
        return True

    async def get(self, ref: str) -> Activation | None:
        return await records.load(self._redis, activation_key(ref), Activation)

    async def find(self, user_id: int, activation_id: int) -> Activation | None:
        """The user's own activation with this id (any provider), or None."""
        suffix = f":{activation_id}"
        refs = await self._redis.zrevrange(user_key(user_id, "acts"), 0, -1)
        for ref in map(_text, refs):
            if ref.endswith(suffix):
                found = await self.get(ref)
                if found is not None and found.user_id == user_id:
                    return found
        return None

    async def update(
        self, ref: str, change: Callable[[Activation], Activation | None]
    ) -> tuple[Activation, Activation]:
        before, after = await records.update(self._redis, activation_key(ref), Activation, change)
        if before.is_open and not after.is_open:
            await self._redis.srem(user_key(after.user_id, "open_acts"), ref)
        return before, after

    async def open_count(self, user_id: int) -> int:
        """How many of the user's activations are open (kept as a set, so this is cheap)."""
        return int(await self._redis.scard(user_key(user_id, "open_acts")))

    async def get_many(self, refs: list[str]) -> list[Activation]:
        if not refs:
            return []
        raws = await self._redis.mget([activation_key(ref) for ref in refs])
        return [Activation.model_validate_json(raw) for raw in raws if raw is not None]

    async def with_group(self, activation: Activation) -> list[Activation]:
        """The activation and the others sharing its number, in purchase order."""
        if not activation.group:
            return [activation]
        found = {a.ref: a for a in await self.get_many(activation.group)}
        found[activation.ref] = activation
        return [found[ref] for ref in activation.group if ref in found]

    async def of_user(self, user_id: int, *, limit: int = 50) -> list[Activation]:
        refs = await self._redis.zrevrange(user_key(user_id, "acts"), 0, limit - 1)
        found = []
        for ref in map(_text, refs):
            activation = await self.get(ref)
            if activation is not None:
                found.append(activation)
        return found

    async def open_of_user(self, user_id: int) -> list[Activation]:
        return [a for a in await self.of_user(user_id, limit=200) if a.is_open]

    async def prune(self, user_id: int, now: float | None = None) -> int:
        """Forget the user's closed activations older than the retention period."""
        cutoff = (time.time() if now is None else now) - RETENTION
        old = await self._redis.zrangebyscore(user_key(user_id, "acts"), "-inf", cutoff)
        removed = 0
        for ref in map(_text, old):
            activation = await self.get(ref)
            if activation is None or not activation.is_open:
                await self._redis.delete(activation_key(ref))
                await self._redis.zrem(user_key(user_id, "acts"), ref)
                await self._redis.srem(user_key(user_id, "open_acts"), ref)
                removed += 1
        return removed


def _text(value: object) -> str:
    return value.decode() if isinstance(value, bytes) else str(value)
