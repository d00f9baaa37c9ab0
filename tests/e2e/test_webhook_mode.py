"""The real bot process in Telegram webhook mode, behind its own HTTP endpoint."""

from __future__ import annotations

import httpx
import pytest

from tests.e2e.conftest import Provider
from tests.e2e.processes import free_port
from tests.faketg import FakeTelegram

pytestmark = pytest.mark.e2e

SECRET = "webhook-secret-for-tests"


async def test_webhook_updates_need_the_secret(
    make_bot, fake_telegram: FakeTelegram, provider: Provider
):
    port = free_port()
    url = f"http://127.0.0.1:{port}/telegram"
    bot = make_bot(
        WEBHOOK_URL=url, WEBHOOK_SECRET=SECRET, HTTP_PORT=str(port), HTTP_HOST="127.0.0.1"
    )
    await bot.start()
    try:
        await fake_telegram.wait_until(lambda: fake_telegram.webhook_url == url, timeout=30)
        user = fake_telegram.user(first_name="Wendy")
        await user.send_and_wait("/start", "Hi, Wendy!", timeout=10)

        update = {
            "update_id": 999_000_001,
            "message": {
                "message_id": 77,
                "date": 1_790_000_000,
                "chat": {"id": user.user_id, "type": "private", "first_name": "Wendy"},
                "from": {"id": user.user_id, "is_bot": False, "first_name": "Wendy"},
                "text": "/help",
                "entities": [{"type": "bot_command", "offset": 0, "length": 5}],
            },
        }
        async with httpx.AsyncClient() as client:
            forged = await client.post(url, json=update)
            assert forged.status_code == 401
            wrong = await client.post(
                url, json=update, headers={"X-Telegram-Bot-Api-Secret-Token": "guess"}
            )
            assert wrong.status_code == 401
            assert not [
                c
                for c in fake_telegram.calls_to("sendMessage")
                if "What I can do" in str(c.params)
            ]
            good = await client.post(
                url, json=update, headers={"X-Telegram-Bot-Api-Secret-Token": SECRET}
            )
            assert good.status_code == 200
            await fake_telegram.wait_until(
                lambda: any(
                    "What I can do" in str(c.params) for c in fake_telegram.calls_to("sendMessage")
                ),
                timeout=10,
            )
            health = await client.get(f"http://127.0.0.1:{port}/healthz")
            assert health.status_code == 200
            metrics = await client.get(f"http://127.0.0.1:{port}/metrics")
            assert 'bot_updates_total{type="message"}' in metrics.text
    finally:
        assert await bot.stop() == 0
    assert "Traceback" not in bot.log
    assert SECRET not in bot.log
