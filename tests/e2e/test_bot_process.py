"""The real ``python -m bot`` against the fake Telegram server, with the embedded Redis."""

from __future__ import annotations

import json

import pytest

from tests.e2e.processes import BotProcess
from tests.faketg import FakeTelegram

pytestmark = pytest.mark.e2e


async def test_start_and_sandbox_key_flow_then_clean_shutdown(
    tmp_path, fake_telegram: FakeTelegram
):
    data_dir = tmp_path / "data"
    bot = BotProcess(
        {
            "BOT_TOKEN": fake_telegram.token,
            "TELEGRAM_API_BASE": fake_telegram.base_url,
            "SANDBOX": "1",
            "DATA_DIR": str(data_dir),
            "SMS_PROVIDERS": "herosms=http://127.0.0.1:9/stubs/handler_api.php",
            "LOG_LEVEL": "INFO",
            "HTTP_PORT": "0",
        },
        tmp_path / "bot.log",
    )
    await bot.start()
    try:
        user = fake_telegram.user(first_name="Eve")
        greeting = await user.send_and_wait("/start", "Hi, Eve!", timeout=30)
        assert greeting.button_texts == ["HeroSMS", "Sandbox", "Sandbox B"]
        connected = await user.press_and_wait("Sandbox", "Connected to Sandbox", timeout=10)
        assert "Balance: 100.00" in connected.text
        await user.send_and_wait("/balance", "Balance on Sandbox: 100.00")
    finally:
        code = await bot.stop()
    assert code == 0, bot.log
    log = bot.log
    assert "Traceback" not in log, log
    assert fake_telegram.token not in log
    assert "sandbox-" not in log  # the generated sandbox key
    # The embedded Redis it started is gone, its data kept under DATA_DIR.
    assert not (data_dir / "redis" / "redis.json").exists()
    kept = data_dir / "redis"
    assert (kept / "appendonly.aof").exists() or (kept / "appendonlydir").is_dir()
    assert json.loads((data_dir / "sandbox.json").read_text())["accounts"]
