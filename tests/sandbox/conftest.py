from __future__ import annotations

import pytest

from bot.sandbox import Clock, Emulator, EmulatorConfig
from tests.sandbox.helpers import KEY, OTHER, T0


@pytest.fixture
def clock() -> Clock:
    return Clock(frozen_at=T0)


@pytest.fixture
def config() -> EmulatorConfig:
    return EmulatorConfig(seed=7)


@pytest.fixture
def emu(config: EmulatorConfig, clock: Clock) -> Emulator:
    emulator = Emulator(config, clock)
    emulator.add_account(KEY, 100)
    emulator.add_account(OTHER, 100)
    return emulator
