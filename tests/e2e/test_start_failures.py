"""A start that cannot reach Telegram, or that Telegram refuses: one clear line, no traceback."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from tests.e2e.processes import BotProcess, free_port
from tests.faketg import FakeTelegram

pytestmark = pytest.mark.e2e

TOKEN = "123456:" + "B" * 35


def env(tmp_path: Path, base: str, token: str = TOKEN) -> dict[str, str]:
    return {
        "BOT_TOKEN": token,
        "TELEGRAM_API_BASE": base,
        "DATA_DIR": str(tmp_path / "data"),
        "SECRET_KEY": "e2e-secret-key-of-some-length",
        "HTTP_PORT": "0",
        "LOG_FORMAT": "text",
    }


@pytest.mark.parametrize("module", ["bot", "bot.worker"])
async def test_unreachable_telegram_is_retried_until_stopped(tmp_path: Path, module: str):
    base = f"http://127.0.0.1:{free_port()}"
    process = BotProcess(env(tmp_path, base), tmp_path / "start.log", module=module)
    await process.start()
    try:
        line = f"Telegram cannot be reached at {base}"
        for _ in range(600):
            if process.log.count(line) >= 2:
                break
            await asyncio.sleep(0.1)
        assert process.log.count(line) >= 2, process.log
    finally:
        code = await process.stop()
    assert code == 0, process.log
    for noise in ("Traceback", "Unclosed client session", TOKEN):
        assert noise not in process.log, process.log


async def test_a_rejected_token_is_one_line_and_exit_2(
    tmp_path: Path, fake_telegram: FakeTelegram
):
    process = BotProcess(env(tmp_path, fake_telegram.base_url), tmp_path / "start.log")
    await process.start()
    assert process.process is not None
    assert await asyncio.wait_for(process.process.wait(), 120) == 2
    log = process.log
    assert f"Cannot start: BOT_TOKEN is rejected by Telegram at {fake_telegram.base_url}" in log
    for noise in ("Traceback", "Unclosed client session", TOKEN):
        assert noise not in log, log
