"""Provider webhooks are hints: a real event is read from the provider at once and pushed; a
forged one (the provider still waits) changes nothing and reveals nothing. Each user has their
own URL, and an event counts only for that user's objects."""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import AsyncIterator
from decimal import Decimal
from typing import Any

import pytest
from aiohttp.http_exceptions import InvalidURLError
from aiohttp.test_utils import TestClient, TestServer

from bot.sandbox.models import Activation, Rent
from bot.side import healthy
from bot.web import SERVER_LOG, create_web_app
from bot.webhook_urls import WebhookUrls
from bot.worker import build_activation_poller
from bot.worker.hints import ProviderHints
from tests.harness import RENT_PROVIDERS, ChatUser, Harness

SECRET = "hook-secret-0123456789"
URLS = WebhookUrls(SECRET, "https://bot.example.com/")
COUNTRY = 6
OTHER_KEY = "OtherKey0123456789abcdef"


@pytest.fixture
async def hooks(harness: Harness) -> AsyncIterator[TestClient[Any, Any]]:
    ctx = harness.worker.ctx  # the worker's, as in the running bot
    hints = ProviderHints(
        build_activation_poller(harness.resources, ctx),
        harness.resources.rent_service,
        harness.resources.accounts,
        URLS,
    )
    app = create_web_app(
        metrics=harness.resources.metrics,
        health=lambda: healthy(harness.resources),
        hints=hints,
        urls=URLS,
    )
    async with TestClient(TestServer(app)) as client:
        yield client


async def path_of(harness: Harness, user: ChatUser) -> str:
    """The path of the user's own webhook URL (as the bot shows it)."""
    url = URLS.url(await harness.resources.accounts.get(user.id))
    assert url is not None
    return url.removeprefix("https://bot.example.com")


async def with_number(harness: Harness) -> tuple[ChatUser, Activation]:
    """A connected user who bought one number."""
    user = await harness.connected()
    await user.send(f"/buy tg {COUNTRY}")
    await user.press(user.last().button_starting("✅"))
    [sold] = harness.emulator.activations.values()
    return user, sold


async def test_a_real_event_is_read_from_the_provider_and_pushed_once(
    harness: Harness, hooks: TestClient[Any, Any]
) -> None:
    user, sold = await with_number(harness)
    harness.emulator.deliver_sms(sold.id, "Telegram code 97531", code="97531")
    body = {"activationId": sold.id, "service": "tg", "code": "97531"}
    path = await path_of(harness, user)
    response = await hooks.post(path, json=body)
    assert response.status == 200
    assert await response.json() == {"ok": True}
    await harness.sent()  # the push goes out beside the read, not before the answer
    assert sum("9 7 5 3 1" in m.text for m in user.chat if "Code for" in m.text) == 1
    await hooks.post(path, json=body)
    await harness.advance(6)
    assert sum("9 7 5 3 1" in m.text for m in user.chat if "Code for" in m.text) == 1


async def test_a_forged_event_pushes_nothing_and_changes_no_card(
    harness: Harness, hooks: TestClient[Any, Any]
) -> None:
    user, sold = await with_number(harness)
    card = user.last()
    before = len(harness.emulator.calls)
    # Someone who knows (or guesses) the URL and an id claims a code the provider never had.
    forged = {"activationId": sold.id, "code": "00000"}
    path = await path_of(harness, user)
    response = await hooks.post(path, json=forged)
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
    unknown = await hooks.post(path, json={**forged, "activationId": 1})
    assert await unknown.json() == {"ok": True}


async def test_malformed_and_non_ascii_paths_are_404_never_500(
    harness: Harness, hooks: TestClient[Any, Any]
) -> None:
    user = await harness.connected()
    path = await path_of(harness, user)
    body = {"activationId": 1, "code": "1"}
    for odd in (
        "/provider/wrong",
        "/provider/%C3%A9",
        f"{path}é",
        f"{path}%00",
        f"{path}/herosms",
        f"/provider/{SECRET}/herosms",  # the old shared-secret URL is gone
        "/provider/" + "9" * 300,
        "/provider/1.herosms..",
    ):
        response = await hooks.post(odd, json=body)
        assert response.status == 404, odd
    garbage = await hooks.post(path, data=b"{nope")
    assert garbage.status == 400


async def test_no_read_for_ids_the_url_owner_does_not_own(
    harness: Harness, hooks: TestClient[Any, Any]
) -> None:
    victim, sold = await with_number(harness)
    harness.emulator.add_account(OTHER_KEY, balance=Decimal("50"))
    attacker = harness.user(first_name="Mallory")
    await harness.connect(attacker, key=OTHER_KEY)
    own = await path_of(harness, attacker)
    victim_path = await path_of(harness, victim)
    tag, mac = victim_path.rsplit(".", 2)[1:]
    forged_mac = victim_path[: -len(mac)] + ("A" if mac[0] != "A" else "B") + mac[1:]
    paths = {
        "the attacker's own URL": own,
        "the victim's URL for another provider": victim_path.replace(".herosms.", ".smshub."),
        "a forged MAC": forged_mac,
        "another user id": victim_path.replace(f"/{victim.id}.", f"/{attacker.id}."),
        "a random token": f"/provider/{victim.id}.herosms.{tag}.{'x' * 22}",
    }
    before = len(harness.emulator.calls)
    for name, path in paths.items():
        response = await hooks.post(path, json={"activationId": sold.id, "code": "00000"})
        # Same answer whatever the token and the id: nothing tells which are real.
        assert response.status == 200, name
        assert await response.json() == {"ok": True}, name
    assert harness.emulator.calls[before:] == []  # not one read at the provider
    assert not [m for m in victim.chat if m.from_bot and "Code for" in m.text]


async def test_removing_the_account_retires_its_url(
    harness: Harness, hooks: TestClient[Any, Any]
) -> None:
    user, sold = await with_number(harness)
    old = await path_of(harness, user)
    harness.emulator.add_account(OTHER_KEY, balance=Decimal("50"))
    await user.send(f"/key {OTHER_KEY}")
    new = await path_of(harness, user)
    assert new != old
    # The first account is removed (its number is still followed by polling, not by hints).
    await user.send("/key")
    await user.press(next(t for t in user.last().button_texts if t.startswith("HeroSMS")))
    await user.press("Remove")
    await user.press("Yes, remove")
    assert "is removed" in user.last().text
    before = len(harness.emulator.calls)
    await hooks.post(old, json={"activationId": sold.id})
    assert harness.emulator.calls[before:] == []


async def with_rent(harness: Harness) -> tuple[ChatUser, Rent]:
    """A user connected to SMS-Activate who rented one number for 4 hours."""
    user = await harness.connected(provider="SMS-Activate")
    await user.send("/rent 4")
    await user.press(user.last().buttons[0][0][0])
    await user.press(user.last().buttons[0][0][0])
    await user.press(user.last().button_starting("✅"))
    [rent] = harness.emulator.rents.values()
    return user, rent


@pytest.mark.bot_settings(SMS_PROVIDERS=RENT_PROVIDERS)
async def test_a_failed_read_is_logged_and_left_to_the_regular_poll(
    harness: Harness, hooks: TestClient[Any, Any], caplog: pytest.LogCaptureFixture
) -> None:
    user, rent = await with_rent(harness)
    harness.emulator.deliver_rent_sms(rent.id, "Код 4455", "SPORTMASTER")
    harness.emulator.faults.configure(rate=1.0, kinds=["error_sql"])
    body = {"rentId": rent.id, "sms": {"phoneFrom": "SPORTMASTER", "text": "Код 4455"}}
    with caplog.at_level(logging.INFO, logger="bot.worker.hints"):
        response = await hooks.post(await path_of(harness, user), json=body)
    assert await response.json() == {"ok": True}
    assert "webhook hint not read (ServerError); the next poll will" in caplog.messages
    assert not any("4455" in m.text for m in user.chat)
    harness.emulator.faults.clear()
    await harness.poll()
    assert sum("4455" in m.text for m in user.chat if m.text.startswith("✉️ SMS to")) == 1


@pytest.mark.bot_settings(SMS_PROVIDERS=RENT_PROVIDERS)
async def test_a_rent_event_reads_the_rent_not_the_body(
    harness: Harness, hooks: TestClient[Any, Any]
) -> None:
    user, rent = await with_rent(harness)
    forged = {"rentId": str(rent.id), "sms": {"phoneFrom": "BANK", "text": "Go to evil.example"}}
    path = await path_of(harness, user)
    await hooks.post(path, json=forged)
    await harness.poll()
    assert not any("evil.example" in m.text for m in user.chat)
    harness.emulator.deliver_rent_sms(rent.id, "Код 4455", "SPORTMASTER")
    real = {"rentId": str(rent.id), "sms": {"phoneFrom": "SPORTMASTER", "text": "Код 4455"}}
    await hooks.post(path, json=real)
    await harness.poll()
    assert sum("4455" in m.text for m in user.chat if m.text.startswith("✉️ SMS to")) == 1


def test_a_request_the_http_parser_rejects_logs_no_error() -> None:
    """Raw non-ASCII bytes in a path are answered 400 by aiohttp's parser; its traceback is
    kept out of the logs (anyone could flood them), other server errors are not."""
    rejected = InvalidURLError("Invalid char in url path")
    bug = RuntimeError("a bug")
    records = [
        logging.LogRecord(
            "bot.web.server", logging.ERROR, __file__, 1, "x", (), (type(e), e, None)
        )
        for e in (rejected, bug)
    ]
    assert [SERVER_LOG.filter(record) for record in records] == [False, True]


@pytest.mark.bot_settings(SMS_PROVIDERS=RENT_PROVIDERS)
async def test_another_users_rent_is_not_read_through_ones_own_url(
    harness: Harness, hooks: TestClient[Any, Any]
) -> None:
    victim, rent = await with_rent(harness)
    harness.emulator.deliver_rent_sms(rent.id, "Код 4455", "SPORTMASTER")
    harness.emulator.add_account(OTHER_KEY, balance=Decimal("50"))
    attacker = harness.user(first_name="Mallory")
    await harness.connect(attacker, key=OTHER_KEY, provider="SMS-Activate")
    before = len(harness.emulator.calls)
    body = {"rentId": rent.id, "sms": {"phoneFrom": "SPORTMASTER", "text": "Код 4455"}}
    response = await hooks.post(await path_of(harness, attacker), json=body)
    assert await response.json() == {"ok": True}
    assert harness.emulator.calls[before:] == []
    assert not any("4455" in m.text for m in victim.chat + attacker.chat)
