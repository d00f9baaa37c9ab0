"""Each user sees their own provider webhook URL (no server-wide secret in it), in both
languages, only when the operator offers webhooks; rents pass that same URL to the provider."""

from __future__ import annotations

import re
from decimal import Decimal

import pytest

from bot.webhook_urls import WebhookUrls
from tests.harness import RENT_PROVIDERS, ChatUser, Harness

SECRET = "Provider_Secret-0123456789"
PUBLIC = "https://bot.example.com"
HOOKS = pytest.mark.bot_settings(PUBLIC_URL=PUBLIC + "/", PROVIDER_WEBHOOK_SECRET=SECRET)
OTHER_KEY = "OtherKey0123456789abcdef"
URL = re.compile(r"https://bot\.example\.com/provider/[A-Za-z0-9._-]+")
PASTE = {
    "en": "paste this webhook URL into your HeroSMS profile",
    "ru": "вставить этот адрес вебхука в профиль HeroSMS",
}
ALONE = {"en": "It is yours alone", "ru": "Он только ваш"}


def shown_url(text: str) -> str:
    found = URL.findall(text)
    assert len(found) == 1, text
    return str(found[0])


async def expected_url(harness: Harness, user: ChatUser) -> str:
    url = WebhookUrls(SECRET, PUBLIC).url(await harness.resources.accounts.get(user.id))
    assert url is not None
    return url


@HOOKS
@pytest.mark.parametrize("language", ["en", "ru"])
async def test_the_user_sees_their_own_url_after_connecting_and_on_key(
    harness: Harness, language: str
) -> None:
    user = await harness.connected(language=language)
    connected = user.last().text
    assert PASTE[language] in connected
    assert ALONE[language] in connected
    url = shown_url(connected)
    assert url == await expected_url(harness, user)
    assert url.startswith(f"{PUBLIC}/provider/{user.id}.herosms.")
    assert SECRET not in url
    await user.send("/key")
    assert shown_url(user.last().text) == url


@HOOKS
async def test_users_and_keys_get_different_urls(harness: Harness) -> None:
    alice = await harness.connected()
    first = shown_url(alice.last().text)
    bob = await harness.connected(name="Bob")  # the same provider key, another user
    assert shown_url(bob.last().text) != first
    harness.emulator.add_account(OTHER_KEY, balance=Decimal("50"))
    await alice.send(f"/key {OTHER_KEY}")
    renewed = shown_url(alice.last().text)
    assert renewed != first
    assert renewed == await expected_url(harness, alice)


@pytest.mark.bot_settings(PROVIDER_WEBHOOK_SECRET=SECRET)
async def test_no_url_without_a_public_address(harness: Harness) -> None:
    user = await harness.connected()
    assert "webhook" not in user.last().text
    await user.send("/key")
    assert "webhook" not in user.last().text


@pytest.mark.bot_settings(PUBLIC_URL=PUBLIC)
async def test_no_url_without_the_webhook_secret(harness: Harness) -> None:
    user = await harness.connected()
    assert "webhook" not in user.last().text


@HOOKS
async def test_the_sandbox_has_no_profile_to_paste_into(harness: Harness) -> None:
    user = await harness.chose_provider("Sandbox")
    assert "sandbox" in user.last().text
    await user.send("/key")
    assert "Your provider accounts:" in user.last().text
    assert "webhook" not in user.last().text


@pytest.mark.bot_settings(
    SMS_PROVIDERS=RENT_PROVIDERS, PUBLIC_URL=PUBLIC, PROVIDER_WEBHOOK_SECRET=SECRET
)
async def test_a_rent_passes_its_owners_url(harness: Harness) -> None:
    user = await harness.connected(provider="SMS-Activate")
    await user.send("/rent 4")
    await user.press(user.last().buttons[0][0][0])
    await user.press(user.last().buttons[0][0][0])
    await user.press(user.last().button_starting("✅"))
    [call] = [c for c in harness.emulator.calls if c.action == "getRentNumber"]
    assert call.params["url"] == await expected_url(harness, user)


@HOOKS
async def test_each_account_shows_its_own_url(harness: Harness) -> None:
    user = await harness.connected()
    first = shown_url(user.last().text)
    harness.emulator.add_account(OTHER_KEY, balance=Decimal("5"))
    await user.send(f"/key {OTHER_KEY}")  # a second HeroSMS account, the default now
    second = shown_url(user.last().text)
    assert second != first
    await user.send("/key")
    earlier = next(t for t in user.last().button_texts if t.startswith("HeroSMS"))
    await user.press(earlier)
    assert shown_url(user.last().text) == first
