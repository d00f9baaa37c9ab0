from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from tests.faketg.fixtures import fake_bot, fake_telegram
from tests.harness import Harness, running_harness

__all__ = ["fake_bot", "fake_telegram"]


@pytest.fixture
async def harness(tmp_path: Path) -> AsyncIterator[Harness]:
    async with running_harness(tmp_path) as running:
        yield running
