from __future__ import annotations

import contextlib
import json
import os
import signal
from collections.abc import AsyncIterator
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


@pytest.fixture
async def provider() -> AsyncIterator[Provider]:
    """The emulator served over HTTP on loopback, as a real provider would be."""
    emulator = Emulator(EmulatorConfig(seed=3), Clock())
    emulator.add_account(KEY, balance=Decimal("20"))
    runner = web.AppRunner(create_app(emulator), access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    yield Provider(emulator, f"http://127.0.0.1:{port}/stubs/handler_api.php")
    await runner.cleanup()


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
