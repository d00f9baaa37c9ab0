"""A per-key budget of provider requests per second, shared by every process through Redis.

HeroSMS allows 50 requests a second per account and blocks for 10 s beyond that; other
providers publish nothing. Staying under a configurable budget (40 by default) keeps one busy
user from locking their own account out, whichever process sends the requests.

Each process leases slices of a key's second from Redis and spends them locally
(``SlicedRate``): a burst of calls with one key costs a Redis call per slice, not per request.
"""

from __future__ import annotations

import hashlib

from pydantic import SecretStr
from redis.asyncio import Redis

from bot.provider.client import RequestGate
from bot.storage import keys
from bot.storage.rate import SlicedRate

#: Keys whose leased slices the process remembers, at most.
MAX_KEYS = 10_000


class ProviderBudget:
    def __init__(self, redis: Redis, requests_per_second: int) -> None:
        self._redis = redis
        self._rps = requests_per_second
        # One rate per key for the process's lifetime: its leased slice is spent here.
        self._rates: dict[str, SlicedRate] = {}

    def gate_for(self, provider: str, api_key: SecretStr) -> RequestGate | None:
        if self._rps <= 0:
            return None
        # The key itself never goes into Redis: a short digest names the budget.
        digest = hashlib.sha256(f"{provider}:{api_key.get_secret_value()}".encode()).hexdigest()

        name = keys.budget(digest[:20])
        rate = self._rates.get(name)
        if rate is None:
            if len(self._rates) >= MAX_KEYS:
                self._rates.clear()  # a key's slice lasts a second: nothing much is lost
            rate = self._rates[name] = SlicedRate(self._redis, name, self._rps)
        return rate.acquire
