"""A per-second rate shared by every process: a counter per second in Redis."""

from __future__ import annotations

import asyncio
import random
import time

from redis.asyncio import Redis


async def wait_for_slot(redis: Redis, name: str, per_second: int) -> None:
    """Return once this call fits within ``per_second`` calls of ``name`` in this second."""
    while True:
        now = time.time()
        second = int(now)
        counter = f"{name}:{second}"
        async with redis.pipeline(transaction=True) as pipe:
            pipe.incr(counter)
            pipe.expire(counter, 3)
            used, _ = await pipe.execute()
        if int(used) <= per_second:
            return
        # Full: the next second, with a little jitter so waiters do not stampede.
        await asyncio.sleep(second + 1 - now + random.uniform(0, 0.05))
