"""Fixtures for driving :class:`ProviderClient` against the in-process emulator.

The emulator runs on a frozen clock (``T0``) with a fixed seed, so prices, ids, phones and fault
sequences are the same on every run; ``emu.advance()`` moves every lifecycle forward.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from datetime import datetime
from typing import Any

import httpx
import pytest

from bot.provider import ProviderClient
from bot.sandbox import Clock, Emulator, EmulatorConfig, EmulatorTransport

KEY = "client-key-1"
OTHER = "client-key-2"
T0 = 1_767_000_000.0  # 2025-12-29 09:20:00 UTC
#: T0 as the emulator writes it (naive, UTC offset 0).
T0_NAIVE = datetime(2025, 12, 29, 9, 20, 0)
ENDPOINT = "https://sandbox.test/stubs/handler_api.php"
BALANCE = 100

ClientFactory = Callable[..., ProviderClient]


def make_emulator(**config: Any) -> Emulator:
    """A seeded emulator on a frozen clock with two funded accounts."""
    options: dict[str, Any] = {"seed": 11, **config}
    emulator = Emulator(EmulatorConfig(**options), Clock(frozen_at=T0))
    emulator.add_account(KEY, BALANCE)
    emulator.add_account(OTHER, BALANCE)
    return emulator


@pytest.fixture
def emu() -> Emulator:
    return make_emulator()


@pytest.fixture
async def http(emu: Emulator) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(transport=EmulatorTransport(emu)) as client:
        yield client


@pytest.fixture
def make_client(http: httpx.AsyncClient) -> ClientFactory:
    """A client for any key over the emulator (``backoff=0``: retries do not sleep; two retries
    for reads, which the fault tests count on)."""

    def build(key: str = KEY, **options: Any) -> ProviderClient:
        options.setdefault("backoff", 0)
        options.setdefault("read_retries", 2)
        return ProviderClient(http, ENDPOINT, key, **options)

    return build


@pytest.fixture
def client(make_client: ClientFactory) -> ProviderClient:
    return make_client(KEY)


@pytest.fixture
def other(make_client: ClientFactory) -> ProviderClient:
    """The same provider, another account."""
    return make_client(OTHER)
