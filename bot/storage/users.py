"""Users: language, provider accounts (encrypted API keys), recent services.

Layout (key names in ``bot.storage.keys``):

* ``user:<id>`` — hash: ``accounts`` and ``default`` (see ``bot.storage.accounts``; a hash
  from before several accounts has ``provider``, ``key`` (ciphertext) and ``key_set_at``
  instead), ``created``, ``tg_locale``,
  ``sandbox_key`` (ciphertext: the demo account's key, kept across other connections)
* ``user:<id>:locale`` — the chosen language, apart from FSM data so ``/cancel`` keeps it
* ``user:<id>:recent`` — list of recently bought service codes, newest first
* ``user:<id>:paused`` — set while polling is paused because the provider refused the key
  (from before several accounts); ``user:<id>:paused_accounts`` — hash: the accounts whose
  key a provider refused, by id
* ``user:<id>:blocked`` — set while the user has blocked the bot
* ``users`` — set of every user id (for the operator's statistics)
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, replace

from pydantic import SecretStr
from redis.asyncio import Redis
from redis.exceptions import WatchError

from bot.storage import keys
from bot.storage.accounts import TITLE_LIMIT, AccountBook, StoredAccount
from bot.storage.secrets import KeyCipher, KeyDecryptionError, SecretKeyMismatch

RECENT_LIMIT = 6
#: How many recent user changes the change log keeps (a worker further behind forgets all).

# KEYS: the change log, its sequence; ARGV[1]: the user. Returns the change's sequence number.
_CHANGED = f"""
local seq = redis.call('INCR', KEYS[2])
redis.call('ZADD', KEYS[1], seq, ARGV[1])
redis.call('ZREMRANGEBYRANK', KEYS[1], 0, -{keys.USER_CHANGES_KEPT + 1})
return seq
"""


@dataclass(frozen=True, slots=True)
class Credentials:
    provider: str
    api_key: SecretStr

    def __repr__(self) -> str:
        return f"Credentials(provider={self.provider!r}, api_key=SecretStr('**********'))"


@dataclass(frozen=True, slots=True)
class Pauses:
    """Polling paused because a provider refused a key: for every account of the user (a
    pause from before several accounts), or for some of them."""

    everything: bool = False
    accounts: frozenset[str] = frozenset()

    def covers(self, account_id: str = "") -> bool:
        """Paused for that account ("": for any account)."""
        if self.everything:
            return True
        return account_id in self.accounts if account_id else bool(self.accounts)


@dataclass(frozen=True, slots=True)
class UserGlance:
    """What every update needs of its user (language, and the accounts for handlers that call
    the provider), read in one round trip of two commands; keys are decrypted only if asked."""

    user_id: int
    chosen_locale: str | None
    seen_locale: str | None
    book: AccountBook


@dataclass(frozen=True, slots=True)
class Standing:
    """A user's pauses, languages and accounts, and whether they blocked the bot."""

    pauses: Pauses
    glance: UserGlance
    blocked: bool

    def locale(self, default: str) -> str:
        """The chosen language, else the one Telegram reported last, else the default."""
        return self.glance.chosen_locale or self.glance.seen_locale or default


_BOOK_FIELDS = ["accounts", "default", "provider", "key", "key_set_at"]
_MAX_ATTEMPTS = 50


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
        await self._changed(user_id)  # workers keep the locale their pushes are written in

    # --- provider accounts ---

    async def get_provider(self, user_id: int) -> str | None:
        """The default account's provider."""
        account = (await self.account_book(user_id)).default_account
        return account.provider if account else None

    async def account_book(self, user_id: int, glance: UserGlance | None = None) -> AccountBook:
        """Every account of the user. ``glance``, read at the start of this update, saves
        reading them again."""
        if glance is not None and glance.user_id == user_id:
            return glance.book
        return _book(await self._redis.hmget(keys.user(user_id), _BOOK_FIELDS))

    def unseal(self, user_id: int, account: StoredAccount) -> SecretStr | None:
        """The account's key, or None when it cannot be read (another SECRET_KEY)."""
        try:
            return self._cipher.decrypt(user_id, account.sealed_key)
        except KeyDecryptionError:
            return None

    async def change_accounts(
        self, user_id: int, change: Callable[[AccountBook], AccountBook | None]
    ) -> AccountBook:
        """Apply ``change`` to the user's accounts atomically (retried when another writer got
        there first, so ``change`` must have no side effects); returns the book as stored. The
        first change writes an old single-key hash in the new layout."""
        key = keys.user(user_id)
        for _ in range(_MAX_ATTEMPTS):
            async with self._redis.pipeline(transaction=True) as pipe:
                try:
                    await pipe.watch(key)
                    before = _book(await pipe.hmget(key, _BOOK_FIELDS))
                    after = change(before)
                    if after is None:
                        return before
                    pipe.multi()  # type: ignore[no-untyped-call]
                    pipe.hset(key, "accounts", after.dump())
                    if after.default is None:
                        pipe.hdel(key, "default")
                    else:
                        pipe.hset(key, "default", after.default)
                    pipe.hdel(key, "provider", "key", "key_set_at")
                    await pipe.execute()
                    await self._changed(user_id)
                    return replace(after, legacy=False)
                except WatchError:
                    continue
        raise RuntimeError(f"too much contention on {key}")

    async def add_account(
        self,
        user_id: int,
        provider: str,
        api_key: str,
        title: str | None = None,
        *,
        make_default: bool = True,
    ) -> StoredAccount:
        """Store an account; the same provider and key again updates the one stored (a removed
        one comes back) instead of adding a second."""
        sealed = self._cipher.encrypt(user_id, api_key)
        now = int(time.time())
        added: list[StoredAccount] = []

        def change(book: AccountBook) -> AccountBook:
            same = next(
                (
                    known
                    for known in book.accounts
                    if known.provider == provider
                    and (secret := self.unseal(user_id, known)) is not None
                    and secret.get_secret_value() == api_key
                ),
                None,
            )
            if same is None:
                account = StoredAccount(book.new_id(), provider, sealed, _title(title), now)
            else:
                account = replace(same, retired=False, title=_title(title) or same.title)
            added[:] = [account]
            return book.put(account, make_default=make_default)

        await self.change_accounts(user_id, change)
        await self._redis.delete(keys.user(user_id, "paused"))
        await self._redis.hdel(keys.user(user_id, "paused_accounts"), added[0].id)
        await self._changed(user_id)  # unpaused: the workers' views read it again
        return added[0]

    async def set_credentials(self, user_id: int, provider: str, api_key: str) -> None:
        """Connect ``provider`` with ``api_key`` as the default account."""
        await self.add_account(user_id, provider, api_key)

    async def set_default(self, user_id: int, account_id: str) -> bool:
        def change(book: AccountBook) -> AccountBook | None:
            account = book.find(account_id)
            if account is None or account.retired:
                return None
            return replace(book, default=account_id)

        return (await self.change_accounts(user_id, change)).default == account_id

    async def rename_account(self, user_id: int, account_id: str, title: str | None) -> bool:
        def change(book: AccountBook) -> AccountBook | None:
            account = book.find(account_id)
            if account is None or account.retired:
                return None
            return book.put(replace(account, title=_title(title)), make_default=False)

        book = await self.change_accounts(user_id, change)
        account = book.find(account_id)
        return account is not None and account.title == _title(title)

    async def retire_account(self, user_id: int, account_id: str) -> None:
        """Removed by the user, kept for the worker while items bought with it are open."""
        await self.change_accounts(user_id, lambda book: book.retire(account_id))

    async def forget_accounts(self, user_id: int, account_ids: list[str]) -> None:
        """Drop these accounts and their keys for good."""
        if account_ids:
            # Pauses first: the accounts' change then tells the workers about both at once.
            await self._redis.hdel(keys.user(user_id, "paused_accounts"), *account_ids)
            await self.change_accounts(user_id, lambda book: book.without(account_ids))

    async def get_credentials(
        self, user_id: int, glance: UserGlance | None = None
    ) -> Credentials | None:
        """The default account's provider and key, or None when no usable key is stored."""
        account = (await self.account_book(user_id, glance)).default_account
        if account is None:
            return None
        secret = self.unseal(user_id, account)
        return None if secret is None else Credentials(account.provider, secret)

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
        books = [(uid, await self.account_book(uid)) for uid in sample]
        sealed = [(uid, account.sealed_key) for uid, book in books for account in book.accounts]
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
        return (await self.account_book(user_id)).default_account is not None

    # --- polling pause (the provider said BAD_KEY) ---

    async def pause(self, user_id: int, reason: str, account_id: str = "") -> bool:
        """Pause polling with one account (``account_id``; "" for all the user's accounts);
        True only the first time (to tell them once)."""
        if account_id:
            key = keys.user(user_id, "paused_accounts")
            paused = bool(await self._redis.hsetnx(key, account_id, reason))
        else:
            paused = bool(await self._redis.set(keys.user(user_id, "paused"), reason, nx=True))
        if paused:
            await self._changed(user_id)
        return paused

    async def pauses(self, user_id: int) -> Pauses:
        """Which of the user's accounts are paused, in one round trip."""
        async with self._redis.pipeline(transaction=False) as pipe:
            pipe.exists(keys.user(user_id, "paused"))
            pipe.hkeys(keys.user(user_id, "paused_accounts"))
            everything, some = await pipe.execute()
        return _pauses(everything, some)

    async def is_paused(self, user_id: int, account_id: str = "") -> bool:
        """Whether polling with that account is paused ("": with any of them)."""
        return (await self.pauses(user_id)).covers(account_id)

    # --- the user blocked the bot: pushes wait until they write again ---

    async def set_blocked(self, user_id: int, blocked: bool) -> None:
        key = keys.user(user_id, "blocked")
        if blocked:
            await self._redis.set(key, 1)
        else:
            await self._redis.delete(key)
        await self._changed(user_id)  # workers keep whether to push to the user at all

    async def is_blocked(self, user_id: int) -> bool:
        return bool(await self._redis.exists(keys.user(user_id, "blocked")))

    # --- the locale for messages the bot sends on its own ---

    async def glance(self, user_id: int) -> UserGlance:
        """The chosen language, the one Telegram reported last, and the stored accounts."""
        async with self._redis.pipeline(transaction=False) as pipe:
            pipe.get(keys.user(user_id, "locale"))
            pipe.hmget(keys.user(user_id), ["tg_locale", *_BOOK_FIELDS])
            chosen, (seen, *book) = await pipe.execute()
        return UserGlance(user_id, _text(chosen), _text(seen), _book(book))

    async def remember_telegram_locale(self, user_id: int, locale: str) -> None:
        await self._redis.hset(keys.user(user_id), "tg_locale", locale)
        await self._changed(user_id)

    async def standing(self, user_id: int) -> Standing:
        """What the worker keeps of a user (see worker/views.py), in one round trip."""
        async with self._redis.pipeline(transaction=False) as pipe:
            pipe.exists(keys.user(user_id, "paused"))
            pipe.hkeys(keys.user(user_id, "paused_accounts"))
            pipe.get(keys.user(user_id, "locale"))
            pipe.hmget(keys.user(user_id), ["tg_locale", *_BOOK_FIELDS])
            pipe.exists(keys.user(user_id, "blocked"))
            everything, some, chosen, (seen, *book), blocked = await pipe.execute()
        glance = UserGlance(user_id, _text(chosen), _text(seen), _book(book))
        return Standing(_pauses(everything, some), glance, bool(blocked))

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


def _pauses(everything: object, some: list[bytes | str]) -> Pauses:
    """The pause of every account (``everything``) and of the accounts named in ``some``."""
    return Pauses(bool(everything), frozenset(_text(a) or "" for a in some))


def _book(fields: list[bytes | str | None]) -> AccountBook:
    raw, default, provider, sealed, key_set_at = (_text(value) for value in fields)
    created = int(key_set_at) if key_set_at and key_set_at.isdigit() else 0
    return AccountBook.read(raw, default, provider, sealed, created)


def _title(title: str | None) -> str | None:
    cleaned = " ".join((title or "").split())[:TITLE_LIMIT]
    return cleaned or None
