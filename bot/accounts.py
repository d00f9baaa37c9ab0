"""A user's provider account: the stored key, the preset, and a ready client.

Shared by handlers and the worker, so both resolve "this user's provider" the same way.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from decimal import Decimal
from typing import Protocol

from pydantic import SecretStr

from bot.errors import NoKeyConnected, ProviderUnavailable
from bot.provider.client import ProviderClient
from bot.provider.hub import ProviderHub
from bot.provider.presets import SANDBOX_NAME, Feature, ProviderPreset
from bot.storage.users import UserGlance, UserRepo


class SandboxBackend(Protocol):
    """The in-process emulator's account book, as far as the bot needs it."""

    def ensure_account(self, key: str, balance: Decimal) -> None: ...


@dataclass(frozen=True, slots=True)
class UserAccount:
    user_id: int
    preset: ProviderPreset
    client: ProviderClient

    @property
    def provider(self) -> str:
        return self.preset.name

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
        sandbox: SandboxBackend | None = None,
        sandbox_balance: Decimal = Decimal("100"),
    ) -> None:
        self.users = users
        self.hub = hub
        self._sandbox = sandbox
        self._sandbox_balance = sandbox_balance

    def background(self) -> Accounts:
        """The same accounts for the worker: its requests go through lanes of their own."""
        return Accounts(
            self.users,
            self.hub.background(),
            sandbox=self._sandbox,
            sandbox_balance=self._sandbox_balance,
        )

    async def get(self, user_id: int, glance: UserGlance | None = None) -> UserAccount:
        """The user's account; NoKeyConnected / ProviderUnavailable explain what is missing.
        ``glance``: the user as read at the start of this update (saves a read)."""
        credentials = await self.users.get_credentials(user_id, glance)
        if credentials is None:
            raise NoKeyConnected
        preset = self.hub.preset(credentials.provider)
        if preset is None:
            raise ProviderUnavailable(credentials.provider)
        if preset.name == SANDBOX_NAME and self._sandbox is not None:
            # The emulator lives in memory: after a restart the demo account comes back.
            self._sandbox.ensure_account(
                credentials.api_key.get_secret_value(), self._sandbox_balance
            )
        return UserAccount(user_id, preset, self.hub.client(preset.name, credentials.api_key))

    async def connect(self, user_id: int, provider: str, api_key: str) -> Decimal:
        """Check the key with one balance call, and store it only when the provider accepts it
        (the cashback is for /balance: a second call here made a slow provider twice as slow)."""
        if self.hub.preset(provider) is None:
            raise ProviderUnavailable(provider)
        client = self.hub.client(provider, SecretStr(api_key))
        balance = await client.get_balance()
        await self.users.set_credentials(user_id, provider, api_key)
        return balance

    async def connect_sandbox(self, user_id: int) -> Decimal:
        if self._sandbox is None:
            raise ProviderUnavailable(SANDBOX_NAME)
        # The same demo account every time: its balance and its numbers stay the user's.
        key = await self.users.get_sandbox_key(user_id)
        if key is None:
            key = f"sandbox-{user_id}-{secrets.token_hex(8)}"
            await self.users.set_sandbox_key(user_id, key)
        self._sandbox.ensure_account(key, self._sandbox_balance)
        return await self.connect(user_id, SANDBOX_NAME, key)
