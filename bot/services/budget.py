"""A per-key budget of provider requests per second, shared by every process through Redis.

HeroSMS allows 50 requests a second per account and blocks for 10 s beyond that; other
providers publish nothing. Staying under a configurable budget (40 by default) keeps one busy
user from locking their own account out, whichever process sends the requests.
"""

from __future__ import annotations

import hashlib

from pydantic import SecretStr
from redis.asyncio import Redis

from bot.provider.client import RequestGate
from bot.storage import keys
from bot.storage.rate import wait_for_slot


class ProviderBudget:
    def __init__(self, redis: Redis, requests_per_second: int) -> None:
        self._redis = redis
        self._rps = requests_per_second

    def gate_for(self, provider: str, api_key: SecretStr) -> RequestGate | None:
        if self._rps <= 0:
            return None
        # The key itself never goes into Redis: a short digest names the budget.
        digest = hashlib.sha256(f"{provider}:{api_key.get_secret_value()}".encode()).hexdigest()

        name = keys.budget(digest[:20])

        async def wait_turn() -> None:
            await wait_for_slot(self._redis, name, self._rps)

        return wait_turn
