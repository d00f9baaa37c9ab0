"""Operations: health, metrics, the operator's /stats, and logs without secrets."""

from __future__ import annotations

import asyncio
import io
import json
import logging
from collections import Counter
from pathlib import Path
from unittest.mock import AsyncMock

import pytest
from aiohttp.test_utils import TestClient, TestServer
from fakeredis import FakeAsyncRedis
from pydantic import ValidationError
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import ResponseError

from bot import metrics as metrics_module
from bot.config import Settings
from bot.logs import JsonFormatter, Redactor
from bot.metrics import Metrics, daily_totals
from bot.side import healthy
from bot.storage.schedule import DUE, Schedule
from bot.web import create_web_app
from tests.handlers.test_buy import buy_direct
from tests.harness import GOOD_KEY, Harness, running_harness


def web_app(harness: Harness):
    resources = harness.resources
    return create_web_app(
        metrics=resources.metrics,
        health=lambda: healthy(resources),
        before_scrape=lambda: resources.metrics.refresh_gauges(
            resources.redis, resources.schedule
        ),
    )


REDIS_FAILURES = (
    # What a Redis with a full disk answers every write (it still answers PING).
    ResponseError("MISCONF Redis is configured to save RDB snapshots"),
    RedisConnectionError("Redis went away"),
)


async def test_healthz_reports_redis_and_worker(harness: Harness, monkeypatch: pytest.MonkeyPatch):
    resources = harness.resources
    async with TestClient(TestServer(web_app(harness))) as client:
        # This process runs no worker and no heartbeat is in Redis: not healthy yet.
        response = await client.get("/healthz")
        assert response.status == 503
        assert (await response.json())["worker"] == "failing"
        await harness.worker.heartbeat()
        response = await client.get("/healthz")
        assert response.status == 200
        assert await response.json() == {"ok": True, "redis": "ok", "worker": "ok"}

        for failure in REDIS_FAILURES:
            monkeypatch.setattr(resources.redis, "set", AsyncMock(side_effect=failure))
            response = await client.get("/healthz")
            assert response.status == 503
            assert (await response.json())["redis"] == "failing"


async def test_metrics_count_updates_requests_deliveries_and_open_items(harness: Harness):
    user = await harness.connected()
    activation_id = await buy_direct(harness, user)
    harness.emulator.deliver_sms(activation_id, "Telegram code 24680", code="24680")
    from bot.side import watch_metrics

    watch_metrics(harness.worker.ctx, harness.resources)
    await harness.poll()
    async with TestClient(TestServer(web_app(harness))) as client:
        response = await client.get("/metrics")
        assert response.status == 200
        text = await response.text()
    assert 'bot_updates_total{type="message"}' in text
    assert 'bot_updates_total{type="callback_query"}' in text
    assert 'bot_provider_requests_total{action="getNumberV2"} 1.0' in text
    assert 'bot_codes_delivered_total{kind="activation"} 1.0' in text
    assert "bot_delivery_delay_seconds_count 1.0" in text
    assert 'bot_open_items{kind="act"} 1.0' in text
    assert "bot_queue_lag_seconds" in text


async def test_provider_errors_are_counted_by_action(harness: Harness):
    user = await harness.connected()
    harness.emulator.faults.configure(rate=1.0, kinds=["error_sql"], actions={"getBalance"})
    await user.send("/balance")
    text = harness.resources.metrics.registry.get_sample_value(
        "bot_provider_errors_total", {"action": "getBalance", "error": "ServerError"}
    )
    assert text == 4.0  # the first try and three retries


async def test_ordinary_answers_are_not_counted_as_errors(harness: Harness):
    """ "No activations" or "no numbers" is a provider that works: /stats's error rate once
    counted every waiting status as an error."""
    user = await harness.connected()
    await user.send_expecting("/active", "no open activations")
    await harness.resources.metrics.flush(harness.resources.redis)
    totals = await daily_totals(harness.resources.redis)
    assert totals["provider_requests"] >= 1
    assert totals.get("provider_errors", 0) == 0


async def test_stats_for_the_operator_only(tmp_path: Path):
    async with running_harness(tmp_path, ADMIN_IDS="") as plain:
        user = plain.user()
        await user.send_expecting("/stats", "I do not know this command")
    async with running_harness(tmp_path / "second") as harness:
        operator = harness.user()
        harness.resources.settings.admin_ids_text = str(operator.id)
        customer = harness.user()
        await harness.connect(customer)
        await buy_direct(harness, customer)
        await harness.resources.metrics.flush(harness.resources.redis)
        await customer.send("/stats")
        assert "I do not know this command" in customer.last().text
        await operator.send("/stats")
        text = operator.last().text
        assert "Statistics (today, UTC)" in text
        assert "Users: 1" in text  # the customer; the operator never sent /start
        assert "Open: 1 activation, 0 rents, 0 mailboxes" in text
        assert "Provider requests today:" in text
        assert GOOD_KEY not in text


async def test_daily_totals_are_shared_through_redis(harness: Harness):
    first, second = Metrics(), Metrics()
    first.provider_request("getStatus", "ok", 0.01)
    second.provider_request("getStatus", "ProviderTimeout", 15.0)
    second.code_delivered("rent", None, 0.0)
    await first.flush(harness.resources.redis)
    await second.flush(harness.resources.redis)
    totals = await daily_totals(harness.resources.redis)
    assert totals["provider_requests"] == 2
    assert totals["provider_errors"] == 1
    assert totals["delivered_rent"] == 1


def test_logs_are_json_lines_without_secrets_or_phone_numbers():
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(JsonFormatter())
    handler.addFilter(Redactor(["super-secret-provider-key"]))
    logger = logging.getLogger("test.redaction")
    logger.addHandler(handler)
    logger.setLevel(logging.DEBUG)
    logger.propagate = False
    try:
        logger.info("bought +79161234567 with key %s", "super-secret-provider-key")
        logger.info("token 123456789:FAKE-token-for-the-redaction-test-0 leaked")
        logger.debug("debug keeps the number 79161234567")
    finally:
        logger.removeHandler(handler)
    lines = [json.loads(line) for line in stream.getvalue().splitlines()]
    assert [entry["level"] for entry in lines] == ["info", "info", "debug"]
    assert lines[0]["msg"] == "bought …4567 with key ***"
    assert "FAKE-token" not in lines[1]["msg"]
    assert "79161234567" in lines[2]["msg"]
    assert all({"ts", "logger", "msg"} <= set(entry) for entry in lines)


def test_webhook_mode_needs_a_secret_and_the_http_endpoint():
    with pytest.raises(ValidationError, match="WEBHOOK_SECRET"):
        Settings(_env_file=None, WEBHOOK_URL="https://bot.example.com/telegram")
    with pytest.raises(ValidationError, match="HTTP_PORT"):
        Settings(
            _env_file=None,
            WEBHOOK_URL="https://bot.example.com/telegram",
            WEBHOOK_SECRET="s3cret-0123456789",
            HTTP_PORT=0,
        )
    settings = Settings(
        _env_file=None,
        WEBHOOK_URL="https://bot.example.com/telegram",
        WEBHOOK_SECRET="s3cret-0123456789",
    )
    assert settings.webhook_url == "https://bot.example.com/telegram"


def test_admin_ids_are_validated():
    assert Settings(_env_file=None, ADMIN_IDS="1, 22,333").admin_ids == frozenset({1, 22, 333})
    with pytest.raises(ValidationError, match="ADMIN_IDS"):
        Settings(_env_file=None, ADMIN_IDS="alice")


async def test_a_scrape_never_waits_for_a_recount(monkeypatch: pytest.MonkeyPatch):
    """Counting a big schedule takes a while in a busy worker; /metrics must still answer."""
    redis = FakeAsyncRedis()
    metrics, schedule = Metrics(), Schedule(redis)

    def open_acts() -> float | None:
        return metrics.registry.get_sample_value("bot_open_items", {"kind": "act"})

    await redis.zadd(DUE, {"act:p:1": 0})
    await metrics.refresh_gauges(redis, schedule)  # the first scrape waits: nothing to show yet
    assert open_acts() == 1

    gate = asyncio.Event()
    counted = metrics_module.count_followed
    counts = 0

    async def slow_count(client: FakeAsyncRedis) -> Counter[str]:
        nonlocal counts
        counts += 1
        await gate.wait()
        return await counted(client)

    monkeypatch.setattr(metrics_module, "count_followed", slow_count)
    monkeypatch.setattr(metrics_module, "GAUGES_EVERY", 0.0)
    await redis.zadd(DUE, {"act:p:2": 0})
    for _ in range(3):
        await asyncio.wait_for(metrics.refresh_gauges(redis, schedule), 1)
    assert open_acts() == 1  # the earlier count, shown while the new one runs
    assert counts == 1  # one count at a time, however often scraped
    gate.set()
    for _ in range(20):
        await asyncio.sleep(0)
    assert open_acts() == 2
    await redis.aclose()


@pytest.mark.parametrize(
    ("setting", "value"),
    [
        ("SECRET_KEY", "short"),
        ("SECRET_KEY", " padded-secret-key-value "),
        ("PROVIDER_WEBHOOK_SECRET", "short"),
        ("PROVIDER_WEBHOOK_SECRET", "has/slash-and-more-chars"),
        ("PROVIDER_WEBHOOK_SECRET", "é-accented-secret-value"),
        ("WEBHOOK_SECRET", "short"),
        ("PUBLIC_URL", "bot.example.com"),
        ("PUBLIC_URL", "https://bot.example.com/?next=<b>"),
    ],
)
def test_secrets_are_validated_with_the_setting_named(setting: str, value: str):
    with pytest.raises(ValidationError, match=setting):
        Settings.model_validate({setting: value})


def test_good_secrets_pass():
    settings = Settings(
        _env_file=None,
        SECRET_KEY="a-long-enough-secret-key",
        PROVIDER_WEBHOOK_SECRET="Provider_Secret-0123",
        WEBHOOK_SECRET="Telegram_Secret-0123",
        PUBLIC_URL="https://bot.example.com:8443/sms-bot/",
    )
    assert settings.secret_key is not None
