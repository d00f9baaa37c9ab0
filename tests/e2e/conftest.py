from __future__ import annotations

import contextlib
import json
import os
import signal
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

import pytest
from aiohttp import web

from bot.sandbox import Clock, Emulator, EmulatorConfig, create_app
from tests.e2e.processes import BotProcess
from tests.faketg import FakeTelegram, UserSide

KEY = "E2eProviderKey0123456789"


async def onboard(user: UserSide, provider: str = "HeroSMS") -> None:
    """/start, choose ``provider``, send the key: the user is connected."""
    await user.send_and_wait("/start", "To begin, choose your provider", timeout=30)
    await user.press(provider)
    await user.send_and_wait(KEY, f"Connected to {provider}")


async def start_with_user(
    bot: BotProcess, telegram: FakeTelegram, name: str, provider: str = "HeroSMS"
) -> UserSide:
    """Start ``bot`` and onboard a new user called ``name`` with ``provider``."""
    await bot.start()
    user = telegram.user(first_name=name)
    await onboard(user, provider)
    return user


@dataclass
class Provider:
    emulator: Emulator
    url: str


@contextlib.asynccontextmanager
async def served_emulator(seed: int, key: str, balance: Decimal) -> AsyncIterator[Provider]:
    """An emulator with one account (``key``, ``balance``) served over HTTP on a free
    loopback port, as a real provider would be; ``seed`` sets its prices and stock."""
    emulator = Emulator(EmulatorConfig(seed=seed), Clock())
    emulator.add_account(key, balance=balance)
    runner = web.AppRunner(create_app(emulator), access_log=None)
    await runner.setup()
    try:
        site = web.TCPSite(runner, "127.0.0.1", 0)
        await site.start()
        port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
        yield Provider(emulator, f"http://127.0.0.1:{port}/stubs/handler_api.php")
    finally:
        await runner.cleanup()


@pytest.fixture
async def provider() -> AsyncIterator[Provider]:
    """The emulator served over HTTP on loopback, as a real provider would be."""
    async with served_emulator(3, KEY, Decimal("20")) as served:
        yield served


#: The second provider's key: another account, at another provider.
KEY_B = "E2eSecondProviderKey9876"


@dataclass
class TwoProviders:
    """Two emulators on two loopback ports, as two providers with their own prices and stock:
    ``first`` knows KEY (balance 20), ``second`` KEY_B (balance 35)."""

    first: Provider
    second: Provider
    titles: tuple[str, str] = ("Alpha SMS", "Beta SMS")

    @property
    def spec(self) -> str:
        """SMS_PROVIDERS naming both (``name:Title=url``): generic providers, every feature."""
        first, second = self.titles
        return f"alpha:{first}={self.first.url},beta:{second}={self.second.url}"


@pytest.fixture
async def two_providers() -> AsyncIterator[TwoProviders]:
    async with (
        served_emulator(3, KEY, Decimal("20")) as first,
        served_emulator(4, KEY_B, Decimal("35")) as second,
    ):
        yield TwoProviders(first, second)


@pytest.fixture
def make_two_provider_bot(
    make_bot: Callable[..., BotProcess], two_providers: TwoProviders
) -> Callable[..., BotProcess]:
    """``make_bot`` with both of ``two_providers`` as the providers users may choose."""

    def make(module: str = "bot", **extra: str) -> BotProcess:
        return make_bot(module, **{"SMS_PROVIDERS": two_providers.spec, **extra})

    return make


def bot_env(tmp_path: Path, telegram: FakeTelegram, provider: Provider) -> dict[str, str]:
    return {
        "BOT_TOKEN": telegram.token,
        "TELEGRAM_API_BASE": telegram.base_url,
        "DATA_DIR": str(tmp_path / "data"),
        "SMS_PROVIDERS": f"herosms={provider.url}",
        "SECRET_KEY": "e2e-secret-key-of-some-length",
        "POLL_INTERVAL": "0.3",
        "TELEGRAM_CHAT_INTERVAL": "0",
        "THROTTLE_RATE": "1000",
        "HTTP_PORT": "0",
        "LOG_LEVEL": "INFO",
        # The tests read each tap's own answer: a slow tap's early answer ("⏳ Waiting for…")
        # would stand in for it on a busy machine. It is tested in tests/handlers.
        "SLOW_REPLY_AFTER": "30",
    }


@pytest.fixture
def make_bot(tmp_path: Path, fake_telegram: FakeTelegram, provider: Provider):
    processes: list[BotProcess] = []

    def make(module: str = "bot", **extra: str) -> BotProcess:
        env = {**bot_env(tmp_path, fake_telegram, provider), **extra}
        process = BotProcess(env, tmp_path / f"{module}-{len(processes)}.log", module=module)
        processes.append(process)
        return process

    yield make
    for process in processes:
        process.kill_sync()
    kill_embedded_redis(tmp_path / "data")


def embedded_redis_pid(data_dir: Path) -> int:
    """The pid of the embedded Redis the processes using ``data_dir`` share."""
    return int(json.loads((data_dir / "redis" / "redis.json").read_text())["pid"])


def kill_embedded_redis(data_dir: Path) -> None:
    """The embedded Redis outlives the processes that use it: a test that failed before
    stopping them all must not leave it running."""
    with contextlib.suppress(OSError, ValueError, KeyError):
        os.kill(embedded_redis_pid(data_dir), signal.SIGKILL)
