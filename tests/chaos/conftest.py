"""Fixtures of the reliability suite, and a summary of every scenario's figures at the end."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from pathlib import Path

import pytest

from tests.chaos.helpers import Fleet, ProviderServer, RedisServer, Rig
from tests.conftest import FIGURE
from tests.faketg import FakeTelegram
from tests.faketg.fixtures import fake_telegram

__all__ = ["fake_telegram"]


@pytest.fixture
def report(request: pytest.FixtureRequest) -> Callable[[str], None]:
    """``report(line)``: print a figure line (shown with -rA or -s) and repeat it in the
    terminal summary, which every run shows (tests/conftest.py; the line travels with the
    test's report, so a run on several workers shows it too)."""

    def emit(line: str) -> None:
        request.node.user_properties.append((FIGURE, line))
        print(line)

    return emit


@pytest.fixture
async def redis_server(tmp_path: Path) -> AsyncIterator[RedisServer]:
    server = RedisServer(tmp_path / "redis")
    await server.start()
    try:
        yield server
    finally:
        server.kill_sync()
        await server.stop()


@pytest.fixture
async def provider() -> AsyncIterator[ProviderServer]:
    server = ProviderServer(seed=7)
    await server.start()
    try:
        yield server
    finally:
        await server.stop()


@pytest.fixture
async def fleet(
    tmp_path: Path,
    fake_telegram: FakeTelegram,
    provider: ProviderServer,
    redis_server: RedisServer,
) -> AsyncIterator[Fleet]:
    fleet = Fleet(
        tmp_path,
        fake_telegram,
        REDIS_URL=redis_server.url,
        SMS_PROVIDERS=f"herosms={provider.url}",
    )
    try:
        yield fleet
    finally:
        fleet.kill_sync()
        await fleet.close_taps()


@pytest.fixture
def rig(
    fleet: Fleet,
    fake_telegram: FakeTelegram,
    provider: ProviderServer,
    redis_server: RedisServer,
    report: Callable[[str], None],
) -> Rig:
    """The five fixtures every scenario needs, as one."""
    return Rig(fleet, fake_telegram, provider, redis_server, report)
