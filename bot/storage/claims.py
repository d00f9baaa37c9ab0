"""Short claims that make one deliverer push a code (or letter) at a time.

A deliverer takes a claim before it hands a push over, and the claim carries a token of its
own: a push that waited longer than the claim lasts finds out before sending that another
deliverer may have taken over, and giving a claim back never drops somebody else's.
"""

from __future__ import annotations

import secrets

from redis.asyncio import Redis

# KEYS[1]: the claim; ARGV[1]: the holder's token, ARGV[2]: seconds it lasts from now.
_KEEP = """
if redis.call('GET', KEYS[1]) == ARGV[1] then
  redis.call('EXPIRE', KEYS[1], ARGV[2])
  return 1
end
return 0
"""

_GIVE_BACK = """
if redis.call('GET', KEYS[1]) == ARGV[1] then
  return redis.call('DEL', KEYS[1])
end
return 0
"""


class Claims:
    def __init__(self, redis: Redis) -> None:
        self._redis = redis
        self._keep = redis.register_script(_KEEP)
        self._give_back = redis.register_script(_GIVE_BACK)

    async def take(self, key: str, seconds: int) -> str | None:
        """The claim's token, or None while another deliverer holds it."""
        token = secrets.token_hex(8)
        taken = await self._redis.set(key, token, nx=True, ex=seconds)
        return token if taken else None

    async def keep(self, key: str, token: str, seconds: int) -> bool:
        """Still held with ``token`` (and now for ``seconds`` more)?"""
        return bool(await self._keep(keys=[key], args=[token, seconds]))

    async def give_back(self, key: str, token: str) -> None:
        await self._give_back(keys=[key], args=[token])
