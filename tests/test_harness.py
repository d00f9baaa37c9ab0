"""The test suite's own shortcuts change nothing a test can see.

A market is built once per seed and session and copied (tests/conftest.py), and the handler
harness builds the bot's sandbox emulator only when a test uses it (tests/harness.py).
"""

from __future__ import annotations

import random
from pathlib import Path

from bot.sandbox import Clock, Emulator, EmulatorConfig
from bot.sandbox.market import Market
from tests.conftest import REAL_MARKET_BUILD
from tests.harness import Harness, LazySandbox, running_harness


def real_build(rng: random.Random) -> Market:
    """Market.build as the bot has it, without the session's memo."""
    return REAL_MARKET_BUILD(Market, rng)


def test_a_copied_market_is_the_built_one_and_its_own():
    seed = "memo-check-market"
    first = Market.build(random.Random(seed))
    first.offers[next(iter(first.offers))].count = -5
    first.mail_zones.clear()
    rng = random.Random(seed)
    copied = Market.build(rng)
    fresh_rng = random.Random(seed)
    fresh = real_build(fresh_rng)
    assert copied.to_dict() == fresh.to_dict()
    assert rng.getstate() == fresh_rng.getstate()
    assert copied.offers is not fresh.offers
    key = next(iter(copied.offers))
    assert copied.offers[key] is not Market.build(random.Random(seed)).offers[key]


def test_emulators_of_a_seed_start_alike_and_stay_apart():
    one = Emulator(EmulatorConfig(seed=21), Clock(frozen_at=1_800_000_000.0))
    two = Emulator(EmulatorConfig(seed=21), Clock(frozen_at=1_800_000_000.0))
    assert one.world.market.to_dict() == two.world.market.to_dict()
    one.world.market.rent_offers[0, "tg"].count = 0
    assert two.world.market.rent_offers[0, "tg"].count != 0
    other = Emulator(EmulatorConfig(seed=22), Clock(frozen_at=1_800_000_000.0))
    assert other.world.market.to_dict() != one.world.market.to_dict()


async def test_the_sandbox_is_built_only_when_used(harness: Harness, tmp_path: Path):
    sandbox = harness.resources.sandbox
    assert isinstance(sandbox, LazySandbox)
    assert sandbox._runtime is None
    user = await harness.chose_provider("Sandbox")
    assert "Connected to Sandbox" in user.last().text
    assert sandbox._runtime is not None


async def test_a_used_sandbox_is_saved_and_found_again(tmp_path: Path):
    async with running_harness(tmp_path) as first:
        user = first.user()
        await user.send("/start")
        await user.press("Sandbox")
        sandbox = first.resources.sandbox
        assert sandbox is not None
        keys = set(sandbox.emulator.accounts)
    assert (tmp_path / "sandbox.json").exists()
    async with running_harness(tmp_path) as second:
        sandbox = second.resources.sandbox
        assert sandbox is not None
        assert set(sandbox.emulator.accounts) == keys
