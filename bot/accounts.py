"""A user's provider accounts: the stored keys, the presets, and ready clients.

Shared by handlers and the worker, so both resolve "this item's account" the same way: a
record names the account it was bought with (``account_id``); one bought before several
accounts names only its provider and goes to the user's account of that provider.
"""

from __future__ import annotations

import secrets
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Protocol

from pydantic import SecretStr

from bot.errors import NoKeyConnected, ProviderUnavailable, UnknownAccount
from bot.provider.client import ProviderClient
from bot.provider.hub import ProviderHub
from bot.provider.presets import SANDBOX_NAME, Feature, ProviderPreset
from bot.storage.accounts import AccountBook, StoredAccount
from bot.storage.users import UserGlance, UserRepo


class SandboxBackend(Protocol):
    """The in-process emulator's account book, as far as the bot needs it."""

    def ensure_account(self, key: str, balance: Decimal) -> None: ...


@dataclass(frozen=True, slots=True)
class UserAccount:
    user_id: int
    preset: ProviderPreset
    client: ProviderClient
    #: The stored account's id (stable, unique per user): what records and buttons name.
    account_id: str = ""
    title: str | None = None
    #: Removed by the user; still followed by the worker while its items are open.
    retired: bool = False

    @property
    def provider(self) -> str:
        return self.preset.name

    @property
    def label(self) -> str:
        """How lists and buttons name this account: the user's title, else the provider."""
        return self.title or self.preset.title

    @property
    def identity(self) -> str:
        """Names this provider account (provider and key) without revealing the key."""
        return f"{self.preset.name}:{self.client.key_fingerprint}"

    def supports(self, feature: Feature) -> bool:
        return self.preset.supports(feature)


class Accounts:
    def __init__(
        self,
        users: UserRepo,
        hub: ProviderHub,
        *,
        sandboxes: Mapping[str, SandboxBackend] | None = None,
        sandbox_balance: Decimal = Decimal("100"),
    ) -> None:
        self.users = users
        self.hub = hub
        #: The demo providers' emulators by provider name (empty without SANDBOX=1).
        self._sandboxes: Mapping[str, SandboxBackend] = sandboxes or {}
        self._sandbox_balance = sandbox_balance

    def background(self) -> Accounts:
        """The same accounts for the worker: its requests go through lanes of their own."""
        return Accounts(
            self.users,
            self.hub.background(),
            sandboxes=self._sandboxes,
            sandbox_balance=self._sandbox_balance,
        )

    async def get(self, user_id: int, glance: UserGlance | None = None) -> UserAccount:
        """The user's default account (the next one when the default's provider is no longer
        offered or its key cannot be read); NoKeyConnected / ProviderUnavailable explain what
        is missing. ``glance``: the user as read at the start of this update (saves a read)."""
        book = await self.users.account_book(user_id, glance)
        stored = book.default_account
        if stored is None:
            raise NoKeyConnected
        for candidate in book.active:
            account = self._open(user_id, candidate)
            if account is not None:
                return account
        if self.hub.preset(stored.provider) is None:
            raise ProviderUnavailable(stored.provider)
        raise NoKeyConnected  # the key cannot be read (SECRET_KEY changed)

    async def all(self, user_id: int, glance: UserGlance | None = None) -> list[UserAccount]:
        """Every connected account, the default first; unknown providers are skipped."""
        book = await self.users.account_book(user_id, glance)
        opened = (self._open(user_id, stored) for stored in book.active)
        return [account for account in opened if account is not None]

    async def by_id(
        self, user_id: int, account_id: str, glance: UserGlance | None = None
    ) -> UserAccount:
        """One of the user's connected accounts; UnknownAccount when ``account_id`` is not
        (a forged button, or an account removed since)."""
        book = await self.users.account_book(user_id, glance)
        stored = book.find(account_id)
        account = None if stored is None or stored.retired else self._open(user_id, stored)
        if account is None:
            raise UnknownAccount
        return account

    async def of_item(
        self,
        user_id: int,
        account_id: str | None,
        provider: str,
        *,
        glance: UserGlance | None = None,
    ) -> UserAccount | None:
        """The account an item was bought with, removed ones included (the worker follows
        their open items): by ``account_id``, or for an item from before several accounts,
        the user's account of its ``provider`` (the default if it is one). None when gone."""
        book = await self.users.account_book(user_id, glance)
        return self.of_item_in(book, user_id, account_id, provider)

    def of_item_in(
        self, book: AccountBook, user_id: int, account_id: str | None, provider: str
    ) -> UserAccount | None:
        """``of_item`` on a book already read (a list resolves many items with one read)."""
        stored = book.owner_of(account_id, provider)
        return None if stored is None else self._open(user_id, stored)

    def _open(self, user_id: int, stored: StoredAccount) -> UserAccount | None:
        preset = self.hub.preset(stored.provider)
        api_key = self.users.unseal(user_id, stored)
        if preset is None or api_key is None:
            return None
        backend = self._sandboxes.get(preset.name)
        if backend is not None:
            # The emulator lives in memory: after a restart the demo account comes back.
            backend.ensure_account(api_key.get_secret_value(), self._sandbox_balance)
        client = self.hub.client(preset.name, api_key)
        return UserAccount(user_id, preset, client, stored.id, stored.title, stored.retired)

    async def connect(
        self,
        user_id: int,
        provider: str,
        api_key: str,
        title: str | None = None,
        *,
        make_default: bool = True,
    ) -> tuple[UserAccount, Decimal]:
        """Check the key with one balance call, and store it only when the provider accepts it
        (the cashback is for /balance: a second call here made a slow provider twice as slow).
        The same provider and key again updates the stored account instead of adding one."""
        preset = self.hub.preset(provider)
        if preset is None:
            raise ProviderUnavailable(provider)
        client = self.hub.client(provider, SecretStr(api_key))
        balance = await client.get_balance()
        stored = await self.users.add_account(
            user_id, provider, api_key, title, make_default=make_default
        )
        account = UserAccount(user_id, preset, client, stored.id, stored.title)
        return account, balance

    async def connect_sandbox(self, user_id: int, provider: str = SANDBOX_NAME) -> Decimal:
        """Connect the user's demo key to the demo ``provider``: one key for every demo
        provider, each its own emulator, so it is one account at each."""
        backend = self._sandboxes.get(provider)
        if backend is None:
            raise ProviderUnavailable(provider)
        # The same demo account every time: its balance and its numbers stay the user's.
        key = await self.users.get_sandbox_key(user_id)
        if key is None:
            key = f"sandbox-{user_id}-{secrets.token_hex(8)}"
            await self.users.set_sandbox_key(user_id, key)
        backend.ensure_account(key, self._sandbox_balance)
        _, balance = await self.connect(user_id, provider, key)
        return balance
