"""Starting ``python -m bot`` and ``python -m bot.worker``: help, and one clear line (not a
traceback) for each way a start can fail."""

from __future__ import annotations

import asyncio
import logging
import os
import subprocess
import sys
from pathlib import Path

import pytest
from aiogram import Bot
from aiogram.client.telegram import TelegramAPIServer

from bot.config import Settings
from bot.telegram import BotSession, TokenRejected, reach_telegram
from tests.e2e.processes import free_port
from tests.faketg import FakeTelegram

ROOT = Path(__file__).resolve().parent.parent


def run_module(module: str, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", module, *args],
        cwd=ROOT,
        env={"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": "/tmp", **env},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


@pytest.mark.parametrize("module", ["bot", "bot.worker"])
def test_help_says_what_it_does_and_where_the_settings_are(module: str) -> None:
    done = run_module(module, "--help")
    assert done.returncode == 0, done.stderr
    assert f"usage: python -m {module}" in done.stdout
    assert "BOT_TOKEN" in done.stdout
    assert "README.md" in done.stdout
    assert "REDIS_URL" in done.stdout


@pytest.mark.parametrize("module", ["bot", "bot.worker"])
def test_a_malformed_token_is_one_line_naming_it(module: str, tmp_path: Path) -> None:
    done = run_module(module, BOT_TOKEN="x", DATA_DIR=str(tmp_path))
    assert done.returncode == 2
    assert done.stderr.strip().splitlines() == [
        "BOT_TOKEN is malformed: it looks like 123456789:AAE... (ask @BotFather for it)"
    ]


async def test_unreachable_telegram_is_a_line_per_try_with_a_growing_delay(
    caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    base = f"http://127.0.0.1:{free_port()}"
    bot = Bot("123456:" + "A" * 35, session=BotSession(api=TelegramAPIServer.from_base(base)))
    delays: list[float] = []
    sleep = asyncio.sleep

    async def record(delay: float) -> None:
        delays.append(delay)
        await sleep(0)

    monkeypatch.setattr("bot.telegram.asyncio.sleep", record)
    caplog.set_level(logging.WARNING, "bot.telegram")
    task = asyncio.create_task(reach_telegram(bot, base, first_delay=1, max_delay=8))
    while len(delays) < 6:
        await sleep(0.01)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    await bot.session.close()
    assert delays[:6] == [1, 2, 4, 8, 8, 8]
    lines = [r.getMessage() for r in caplog.records]
    assert all(line.startswith(f"Telegram cannot be reached at {base} (") for line in lines)
    assert all(r.exc_info is None for r in caplog.records)


async def test_a_rejected_token_stops_the_wait(fake_telegram: FakeTelegram) -> None:
    api = TelegramAPIServer.from_base(fake_telegram.base_url)
    bot = Bot("123456:" + "B" * 35, session=BotSession(api=api))
    try:
        with pytest.raises(TokenRejected, match="BOT_TOKEN is rejected by Telegram"):
            await reach_telegram(bot, fake_telegram.base_url)
    finally:
        await bot.session.close()
    good = Bot(fake_telegram.token, session=BotSession(api=api))
    try:
        assert (await reach_telegram(good, fake_telegram.base_url)).is_bot
    finally:
        await good.session.close()


def test_the_worker_binds_no_port_unless_asked() -> None:
    """HTTP_PORT is the bot's; two workers beside it need not fight over it (see the e2e
    test that runs them on one host)."""
    settings = Settings(_env_file=None, HTTP_PORT=8080)
    assert settings.worker_http_port == 0
    asked = Settings(_env_file=None, WORKER_HTTP_PORT=9090)
    assert asked.worker_http_port == 9090
