"""Optimistic updates of JSON records in Redis.

Handlers (a button press) and workers (a poll) change the same record concurrently; each change
is a read-modify-write under WATCH, retried when another writer got there first, so no update
is lost and no lock is held across a network call.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

from pydantic import BaseModel
from redis.asyncio import Redis
from redis.exceptions import WatchError

R = TypeVar("R", bound=BaseModel)

MAX_ATTEMPTS = 50


class RecordMissing(LookupError):
    pass


async def load(redis: Redis, key: str, model: type[R]) -> R | None:
    raw = await redis.get(key)
    if raw is None:
        return None
    return model.model_validate_json(raw)


async def update(
    redis: Redis,
    key: str,
    model: type[R],
    change: Callable[[R], R | None],
) -> tuple[R, R]:
    """Apply ``change`` to the stored record atomically; returns (before, after).

    ``change`` gets a copy and returns the new record, or None to leave it as it is. It may run
    more than once (when another writer intervenes), so it must not have side effects.
    """
    for _ in range(MAX_ATTEMPTS):
        async with redis.pipeline(transaction=True) as pipe:
            try:
                await pipe.watch(key)
                raw = await pipe.get(key)
                if raw is None:
                    raise RecordMissing(key)
                before = model.model_validate_json(raw)
                after = change(before.model_copy(deep=True))
                if after is None or after == before:
                    return before, before  # leaving the block resets (unwatches) the pipeline
                pipe.multi()  # type: ignore[no-untyped-call]
                pipe.set(key, after.model_dump_json())
                await pipe.execute()
                return before, after
            except WatchError:
                continue
    raise RuntimeError(f"too much contention on {key}")
