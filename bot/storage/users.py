"""Users: language, provider, encrypted API key, recent services.

Layout (key names in ``bot.storage.keys``):

* ``user:<id>`` — hash: ``provider``, ``key`` (ciphertext), ``created``, ``key_set_at``,
  ``sandbox_key`` (ciphertext: the demo account's key, kept across other connections)
* ``user:<id>:locale`` — the chosen language, apart from FSM data so ``/cancel`` keeps it
* ``user:<id>:recent`` — list of recently bought service codes, newest first
* ``user:<id>:paused`` — set while polling is paused because the provider refused the key
* ``user:<id>:blocked`` — set while the user has blocked the bot
* ``users`` — set of every user id (for the operator's statistics)
"""

from __future__ import annotations

import time
from dataclasses import dataclass

from pydantic import SecretStr
from redis.asyncio import Redis

from bot.storage import keys
from bot.storage.secrets import KeyCipher, KeyDecryptionError, SecretKeyMismatch

RECENT_LIMIT = 6
#: How many recent user changes the change log keeps (a worker further behind forgets all).
CHANGES_KEPT = 5_000

# KEYS: the change log, its sequence; ARGV[1]: the user. Returns the change's sequence number.
_CHANGED = f"""
local seq = redis.call('INCR', KEYS[2])
redis.call('ZADD', KEYS[1], seq, ARGV[1])
redis.call('ZREMRANGEBYRANK', KEYS[1], 0, -{CHANGES_KEPT + 1})
return seq
"""


@dataclass(frozen=True, slots=True)
class Credentials:
    provider: str
    api_key: SecretStr

    def __repr__(self) -> str:
        return f"Credentials(provider={self.provider!r}, api_key=SecretStr('**********'))"


@dataclass(frozen=True, slots=True)
class UserGlance:
    """What every update needs of its user (language, and the key for handlers that call the
    provider), read in one round trip of two commands; the key is decrypted only if asked."""

    user_id: int
    chosen_locale: str | None
    seen_locale: str | None
    provider: str | None
    sealed_key: str | None


class UserRepo:
    def __init__(self, redis: Redis, cipher: KeyCipher) -> None:
        self._redis = redis
        self._cipher = cipher
        self._changed_script = redis.register_script(_CHANGED)

    async def _changed(self, user_id: int) -> None:
        """Tell the workers, which cache each user's key and pause, that this user's changed
        (they read the log with every claim: no round trip of their own)."""
        await self._changed_script(keys=[keys.USER_CHANGES, keys.USER_CHANGES_SEQ], args=[user_id])

    async def register(self, user_id: int) -> None:
        await self._redis.sadd(keys.USERS, user_id)
        await self._redis.hsetnx(keys.user(user_id), "created", int(time.time()))

    async def count(self) -> int:
        return int(await self._redis.scard(keys.USERS))

    # --- language ---

    async def get_locale(self, user_id: int) -> str | None:
        value = await self._redis.get(keys.user(user_id, "locale"))
        return _text(value)

    async def set_locale(self, user_id: int, locale: str) -> None:
        await self._redis.set(keys.user(user_id, "locale"), locale)

    # --- provider and key ---

    async def get_provider(self, user_id: int) -> str | None:
        return _text(await self._redis.hget(keys.user(user_id), "provider"))

    async def set_credentials(self, user_id: int, provider: str, api_key: str) -> None:
        sealed = self._cipher.encrypt(user_id, api_key)
        await self._redis.hset(
            keys.user(user_id),
            mapping={"provider": provider, "key": sealed, "key_set_at": int(time.time())},
        )
        await self._redis.delete(keys.user(user_id, "paused"))
        await self._changed(user_id)

    async def get_credentials(
        self, user_id: int, glance: UserGlance | None = None
    ) -> Credentials | None:
        """The provider and key, or None when no usable key is stored. ``glance``, read at the
        start of this update, saves reading them again."""
        if glance is None or glance.user_id != user_id:
            provider, sealed = await self._redis.hmget(keys.user(user_id), ["provider", "key"])
            provider_name, token = _text(provider), _text(sealed)
        else:
            provider_name, token = glance.provider, glance.sealed_key
        if not provider_name or not token:
            return None
        try:
            return Credentials(provider_name, self._cipher.decrypt(user_id, token))
        except KeyDecryptionError:
            return None

    async def check_secret(self) -> None:
        """Fail (SecretKeyMismatch) when SECRET_KEY is not the key the stored API keys were
        encrypted with. The first start stores a check value; a deployment from before the
        check is tried against a few stored keys instead."""
        stored = _text(await self._redis.get(keys.SECRET_CHECK))
        if stored is not None:
            self._cipher.verify_check(stored)
            return
        members = await self._redis.srandmember(keys.USERS, 20)
        sample = [int(m) for m in members] if isinstance(members, list) else []
        tokens = [(uid, _text(await self._redis.hget(keys.user(uid), "key"))) for uid in sample]
        sealed = [(uid, token) for uid, token in tokens if token]
        if sealed and not any(self._cipher.can_decrypt(uid, token) for uid, token in sealed):
            raise SecretKeyMismatch(len(sealed))
        await self._redis.set(keys.SECRET_CHECK, self._cipher.check_value(), nx=True)

    async def get_sandbox_key(self, user_id: int) -> str | None:
        """The key of the user's demo account, kept apart from the connected key so that
        connecting the sandbox again (after another provider) finds the same account."""
        sealed = _text(await self._redis.hget(keys.user(user_id), "sandbox_key"))
        if sealed is None:
            return None
        try:
            return self._cipher.decrypt(user_id, sealed).get_secret_value()
        except KeyDecryptionError:
            return None

    async def set_sandbox_key(self, user_id: int, api_key: str) -> None:
        sealed = self._cipher.encrypt(user_id, api_key)
        await self._redis.hset(keys.user(user_id), "sandbox_key", sealed)

    async def has_key(self, user_id: int) -> bool:
        return bool(await self._redis.hexists(keys.user(user_id), "key"))

    async def delete_credentials(self, user_id: int) -> bool:
        removed = await self._redis.hdel(keys.user(user_id), "key", "key_set_at")
        await self._changed(user_id)
        return bool(removed)

    # --- polling pause (the provider said BAD_KEY) ---

    async def pause(self, user_id: int, reason: str) -> bool:
        """Mark the user's polling paused; True only the first time (to tell them once)."""
        paused = bool(await self._redis.set(keys.user(user_id, "paused"), reason, nx=True))
        if paused:
            await self._changed(user_id)
        return paused

    async def is_paused(self, user_id: int) -> bool:
        return bool(await self._redis.exists(keys.user(user_id, "paused")))

    # --- the user blocked the bot: pushes wait until they write again ---

    async def set_blocked(self, user_id: int, blocked: bool) -> None:
        key = keys.user(user_id, "blocked")
        if blocked:
            await self._redis.set(key, 1)
        else:
            await self._redis.delete(key)

    async def is_blocked(self, user_id: int) -> bool:
        return bool(await self._redis.exists(keys.user(user_id, "blocked")))

    # --- the locale for messages the bot sends on its own ---

    async def glance(self, user_id: int) -> UserGlance:
        """The chosen language, the one Telegram reported last, and the stored key."""
        async with self._redis.pipeline(transaction=False) as pipe:
            pipe.get(keys.user(user_id, "locale"))
            pipe.hmget(keys.user(user_id), ["tg_locale", "provider", "key"])
            chosen, (seen, provider, sealed) = await pipe.execute()
        return UserGlance(user_id, _text(chosen), _text(seen), _text(provider), _text(sealed))

    async def remember_telegram_locale(self, user_id: int, locale: str) -> None:
        await self._redis.hset(keys.user(user_id), "tg_locale", locale)

    async def locale_for(self, user_id: int, default: str) -> str:
        """The chosen language, else the one Telegram reported last, else the default."""
        chosen = await self.get_locale(user_id)
        if chosen:
            return chosen
        seen = _text(await self._redis.hget(keys.user(user_id), "tg_locale"))
        return seen or default

    # --- recent services ---

    async def add_recent_service(self, user_id: int, service: str) -> None:
        key = keys.user(user_id, "recent")
        async with self._redis.pipeline(transaction=True) as pipe:
            pipe.lrem(key, 0, service)
            pipe.lpush(key, service)
            pipe.ltrim(key, 0, RECENT_LIMIT - 1)
            await pipe.execute()

    async def recent_services(self, user_id: int) -> list[str]:
        values = await self._redis.lrange(keys.user(user_id, "recent"), 0, RECENT_LIMIT - 1)
        return [text for value in values if (text := _text(value))]


def _text(value: bytes | str | None) -> str | None:
    if value is None:
        return None
    return value.decode() if isinstance(value, bytes) else value
