from __future__ import annotations

import json

import httpx

from bot.sandbox import Clock, Emulator, EmulatorConfig
from tests.sandbox.helpers import KEY, T0, api_json, buy


def receiver(statuses: list[int], seen: list[httpx.Request]) -> httpx.AsyncClient:
    """A webhook receiver answering ``statuses`` in turn (then 200)."""

    def reply(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        status = statuses.pop(0) if statuses else 200
        return httpx.Response(status)

    return httpx.AsyncClient(transport=httpx.MockTransport(reply))


async def test_activation_webhook_with_retries() -> None:
    seen: list[httpx.Request] = []
    async with receiver([500, 502], seen) as client:
        emu = Emulator(EmulatorConfig(seed=3), Clock(frozen_at=T0), webhook_client=client)
        emu.add_account(KEY, 100)
        emu.set_webhooks(KEY, ["https://hooks.test/a"])
        activation_id, _ = buy(emu)
        emu.deliver_sms(activation_id, "Telegram code: 31337")

        assert await emu.flush_webhooks() == 1
        delivery = emu.webhook_deliveries[0]
        assert not delivery.delivered
        assert delivery.attempts[0].status == 500
        assert await emu.flush_webhooks() == 0  # not due yet
        emu.advance(30)
        assert await emu.flush_webhooks() == 1
        assert delivery.attempts[-1].status == 502
        emu.advance(90)
        await emu.flush_webhooks()
        assert delivery.delivered
        assert len(delivery.attempts) == 3

    body = json.loads(seen[0].content)
    assert body == {
        "activationId": activation_id,
        "service": "tg",
        "text": "Telegram code: 31337",
        "code": "31337",
        "country": 0,
        "receivedAt": "2025-12-29 09:20:00",
    }
    assert seen[0].headers["content-type"] == "application/json"
    assert len(seen) == 3


async def test_gives_up_after_eight_attempts_in_two_hours() -> None:
    seen: list[httpx.Request] = []
    async with receiver([503] * 100, seen) as client:
        emu = Emulator(EmulatorConfig(seed=3), Clock(frozen_at=T0), webhook_client=client)
        emu.add_account(KEY, 100)
        emu.set_webhooks(KEY, ["https://hooks.test/a", "https://hooks.test/b"])
        activation_id, _ = buy(emu)
        emu.deliver_sms(activation_id, "Telegram code: 1234")
        for _ in range(20):
            await emu.flush_webhooks()
            emu.advance(600)
        assert [len(d.attempts) for d in emu.webhook_deliveries] == [8, 8]
        assert all(d.given_up for d in emu.webhook_deliveries)
        last = emu.webhook_deliveries[0].attempts[-1].at
        assert last - T0 <= 2 * 3600 + 600
    assert {str(r.url) for r in seen} == {"https://hooks.test/a", "https://hooks.test/b"}


async def test_rent_webhook_uses_the_rent_url() -> None:
    seen: list[httpx.Request] = []
    async with receiver([], seen) as client:
        emu = Emulator(EmulatorConfig(seed=3), Clock(frozen_at=T0), webhook_client=client)
        emu.add_account(KEY, 100)
        emu.set_webhooks(KEY, ["https://hooks.test/profile"])
        body = api_json(emu, "getRentNumber", service="tg", url="https://hooks.test/rent")
        rent_id = body["phone"]["id"]
        emu.deliver_rent_sms(rent_id, "Код 2792", phone_from="SPORTMASTER")
        await emu.flush_webhooks()
    assert [str(r.url) for r in seen] == ["https://hooks.test/rent"]
    assert json.loads(seen[0].content) == {
        "rentId": str(rent_id),
        "sms": {"phoneFrom": "SPORTMASTER", "text": "Код 2792", "date": "2025-12-29 09:20:00"},
    }


async def test_unreachable_receiver_counts_as_failure() -> None:
    def refuse(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("refused", request=request)

    async with httpx.AsyncClient(transport=httpx.MockTransport(refuse)) as client:
        emu = Emulator(EmulatorConfig(seed=3), Clock(frozen_at=T0), webhook_client=client)
        emu.add_account(KEY, 100)
        emu.set_webhooks(KEY, ["https://hooks.test/a"])
        activation_id, _ = buy(emu)
        emu.deliver_sms(activation_id, "Telegram code: 1234")
        await emu.flush_webhooks()
    attempt = emu.webhook_deliveries[0].attempts[0]
    assert attempt.status is None
    assert attempt.error is not None
