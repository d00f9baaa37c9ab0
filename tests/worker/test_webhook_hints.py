"""Provider webhooks are hints: a real event is read from the provider at once and pushed; a
forged one (the provider still waits) changes nothing and reveals nothing."""

from __future__ import annotations

from collections import Counter
from collections.abc import AsyncIterator
from typing import Any

import pytest
from aiohttp.test_utils import TestClient, TestServer

from bot.lifespan import healthy
from bot.web import create_web_app
from bot.worker import build_activation_poller, build_context
from bot.worker.hints import ProviderHints
from tests.harness import RENT_PROVIDERS, ChatUser, Harness

SECRET = "hook-secret-0123456789"
COUNTRY = 6


@pytest.fixture
async def hooks(harness: Harness) -> AsyncIterator[TestClient[Any, Any]]:
    ctx = build_context(harness.resources, harness.bot)
    hints = ProviderHints(
        build_activation_poller(harness.resources, ctx),
        harness.resources.rent_service,
        harness.resources.accounts,
    )
    app = create_web_app(
        metrics=harness.resources.metrics,
        health=lambda: healthy(harness.resources),
        hints=hints,
        providers=frozenset(p.name for p in harness.resources.hub.presets),
        webhook_secret=SECRET,
    )
    async with TestClient(TestServer(app)) as client:
        yield client


async def buy(user: ChatUser) -> None:
    await user.send(f"/buy tg {COUNTRY}")
    await user.press(user.last().button_starting("✅"))


async def test_a_real_event_is_read_from_the_provider_and_pushed_once(
    harness: Harness, hooks: TestClient[Any, Any]
) -> None:
    user = await harness.connected()
    await buy(user)
    [sold] = harness.emulator.activations.values()
    harness.emulator.deliver_sms(sold.id, "Telegram code 97531", code="97531")
    body = {"activationId": sold.id, "service": "tg", "code": "97531"}
    response = await hooks.post(f"/provider/{SECRET}/herosms", json=body)
    assert response.status == 200
    assert await response.json() == {"ok": True}
    assert sum("9 7 5 3 1" in m.text for m in user.chat if "Code for" in m.text) == 1
    await hooks.post(f"/provider/{SECRET}/herosms", json=body)
    await harness.advance(6)
    assert sum("9 7 5 3 1" in m.text for m in user.chat if "Code for" in m.text) == 1


async def test_a_forged_event_pushes_nothing_and_changes_no_card(
    harness: Harness, hooks: TestClient[Any, Any]
) -> None:
    user = await harness.connected()
    await buy(user)
    card = user.last()
    [sold] = harness.emulator.activations.values()
    before = len(harness.emulator.calls)
    # Someone who knows (or guesses) the URL and an id claims a code the provider never had.
    forged = {"activationId": sold.id, "code": "00000"}
    response = await hooks.post(f"/provider/{SECRET}/herosms", json=forged)
    assert await response.json() == {"ok": True}
    assert not [m for m in user.chat if m.from_bot and "Code for" in m.text]
    shown = user.message(card.message_id)
    assert "Waiting for the SMS" in shown.text
    assert "Cancel" in shown.button_texts  # the refund stays possible
    record = await harness.resources.activations.find(user.id, sold.id)
    assert record is not None
    assert record.codes == []
    # At most one read of that object at the provider; nothing revealed about unknown ids.
    reads = Counter(call.action for call in harness.emulator.calls[before:])
    assert reads["getStatus"] <= 1
    unknown = await hooks.post(f"/provider/{SECRET}/herosms", json={**forged, "activationId": 1})
    assert await unknown.json() == {"ok": True}


async def test_wrong_secrets_and_odd_paths_are_404_never_500(
    harness: Harness, hooks: TestClient[Any, Any]
) -> None:
    body = {"activationId": 1, "code": "1"}
    for path in (
        "/provider/wrong/herosms",
        "/provider/%C3%A9/herosms",
        f"/provider/{SECRET}/nobody",
        f"/provider/{SECRET}é/herosms",
    ):
        response = await hooks.post(path, json=body)
        assert response.status == 404, path
    garbage = await hooks.post(f"/provider/{SECRET}/herosms", data=b"{nope")
    assert garbage.status == 400


@pytest.mark.bot_settings(SMS_PROVIDERS=RENT_PROVIDERS)
async def test_a_rent_event_reads_the_rent_not_the_body(
    harness: Harness, hooks: TestClient[Any, Any]
) -> None:
    user = await harness.connected(provider="SMS-Activate")
    await user.send("/rent 4")
    await user.press(user.last().buttons[0][0][0])
    await user.press(user.last().buttons[0][0][0])
    await user.press(user.last().button_starting("✅"))
    [rent] = harness.emulator.rents.values()
    forged = {"rentId": str(rent.id), "sms": {"phoneFrom": "BANK", "text": "Go to evil.example"}}
    await hooks.post(f"/provider/{SECRET}/sms-activate", json=forged)
    await harness.poll()
    assert not any("evil.example" in m.text for m in user.chat)
    harness.emulator.deliver_rent_sms(rent.id, "Код 4455", "SPORTMASTER")
    real = {"rentId": str(rent.id), "sms": {"phoneFrom": "SPORTMASTER", "text": "Код 4455"}}
    await hooks.post(f"/provider/{SECRET}/sms-activate", json=real)
    await harness.poll()
    assert sum("4455" in m.text for m in user.chat if m.text.startswith("✉️ SMS to")) == 1
