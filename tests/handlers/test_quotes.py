"""A /buy confirmation buys only what it showed: cancelled, replaced, old, switched or dearer
confirmations buy nothing, say so in an alert, and show the current offer in their place."""

from __future__ import annotations

from decimal import Decimal

import pytest

from bot.storage.orders import QUOTE_TTL
from tests.faketg import ChatMessage
from tests.harness import GOOD_KEY, ChatUser, Harness

SERVICE = "tg"
COUNTRY = 6

STALE = {"en": "no longer valid", "ru": "больше не действует"}
ROSE = {"en": "The price rose to", "ru": "Цена выросла до"}


def buy_button(message: ChatMessage) -> str:
    return next(t for t in message.button_texts if t.startswith("✅"))


async def confirmation(harness: Harness, language: str) -> tuple[ChatUser, ChatMessage]:
    user = harness.user(language_code=language)
    await harness.connect(user)
    await user.send(f"/buy {SERVICE} {COUNTRY}")
    return user, user.last()


def current(user: ChatUser, message: ChatMessage) -> ChatMessage:
    """The message as it is now (edited in place)."""
    return next(m for m in user.chat if m.message_id == message.message_id)


async def tap_old(user: ChatUser, old: ChatMessage) -> str:
    query = await user.press(buy_button(old), old)
    answer = user.answer(query)
    assert answer is not None
    return answer


@pytest.mark.parametrize("language", ["en", "ru"])
async def test_cancel_kills_the_confirmation(harness: Harness, language: str) -> None:
    user, old = await confirmation(harness, language)
    await user.send("/cancel")
    answer = await tap_old(user, old)
    assert STALE[language] in answer
    assert harness.emulator.activations == {}
    # The current offer replaced the dead one; it buys.
    fresh = current(user, old)
    await user.press(buy_button(fresh), fresh)
    assert len(harness.emulator.activations) == 1


@pytest.mark.parametrize("language", ["en", "ru"])
async def test_a_price_rise_is_shown_not_paid(harness: Harness, language: str) -> None:
    user, old = await confirmation(harness, language)
    offer = harness.emulator.offer(COUNTRY, SERVICE)
    assert offer is not None
    dearer = offer.cost + Decimal("0.50")
    harness.emulator.set_offer(COUNTRY, SERVICE, cost=dearer)
    answer = await tap_old(user, old)
    assert ROSE[language] in answer
    assert str(dearer) in answer
    assert harness.emulator.activations == {}
    fresh = current(user, old)
    assert str(dearer) in buy_button(fresh)
    await user.press(buy_button(fresh), fresh)
    [bought] = harness.emulator.activations.values()
    assert bought.cost == dearer


async def test_a_newer_buy_kills_the_older_confirmation(harness: Harness) -> None:
    user, old = await confirmation(harness, "en")
    await user.send("/buy wa")
    answer = await tap_old(user, old)
    assert STALE["en"] in answer
    assert harness.emulator.activations == {}


async def test_an_old_confirmation_buys_nothing(harness: Harness) -> None:
    user, old = await confirmation(harness, "en")
    harness.emulator.advance(QUOTE_TTL + 1)
    answer = await tap_old(user, old)
    assert STALE["en"] in answer
    assert harness.emulator.activations == {}


async def test_a_confirmation_for_another_account_buys_nothing(harness: Harness) -> None:
    user, old = await confirmation(harness, "en")
    await harness.resources.accounts.connect(user.id, "smshub", GOOD_KEY)
    answer = await tap_old(user, old)
    assert STALE["en"] in answer
    assert harness.emulator.activations == {}
