"""The service tests run on a provider with every feature ("mine", the emulator here), each for
a user connected to it."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from bot.accounts import UserAccount
from tests.harness import PROVIDER_URL, Harness, running_harness


@pytest.fixture
async def harness(tmp_path: Path) -> AsyncIterator[Harness]:
    # Multi-service numbers, forwarding, extra activations, rent and mail: all of it.
    async with running_harness(tmp_path, SMS_PROVIDERS=f"mine={PROVIDER_URL}") as running:
        yield running


@pytest.fixture
async def account(harness: Harness) -> UserAccount:
    user = await harness.connected(provider="mine")
    return await harness.resources.accounts.get(user.id)
