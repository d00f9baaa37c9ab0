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

from bot.botapi import BotApi, TokenRejected, reach_telegram
from bot.config import Settings
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
    api = BotApi("123456:" + "A" * 35, base)
    delays: list[float] = []
    sleep = asyncio.sleep

    async def record(delay: float) -> None:
        delays.append(delay)
        await sleep(0)

    monkeypatch.setattr("bot.botapi.asyncio.sleep", record)
    caplog.set_level(logging.WARNING, "bot.botapi")
    task = asyncio.create_task(reach_telegram(api, first_delay=1, max_delay=8))
    while len(delays) < 6:
        await sleep(0.01)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    await api.aclose()
    assert delays[:6] == [1, 2, 4, 8, 8, 8]
    lines = [r.getMessage() for r in caplog.records]
    assert all(line.startswith(f"Telegram cannot be reached at {base} (") for line in lines)
    assert all(r.exc_info is None for r in caplog.records)


async def test_a_rejected_token_stops_the_wait(fake_telegram: FakeTelegram) -> None:
    wrong = BotApi("123456:" + "B" * 35, fake_telegram.base_url)
    try:
        with pytest.raises(TokenRejected, match="BOT_TOKEN is rejected by Telegram"):
            await reach_telegram(wrong)
    finally:
        await wrong.aclose()
    good = BotApi(fake_telegram.token, fake_telegram.base_url)
    try:
        assert (await reach_telegram(good)).username
    finally:
        await good.aclose()


def test_the_worker_binds_no_port_unless_asked() -> None:
    """HTTP_PORT is the bot's; two workers beside it need not fight over it (see the e2e
    test that runs them on one host)."""
    settings = Settings(_env_file=None, HTTP_PORT=8080)
    assert settings.worker_http_port == 0
    asked = Settings(_env_file=None, WORKER_HTTP_PORT=9090)
    assert asked.worker_http_port == 9090
