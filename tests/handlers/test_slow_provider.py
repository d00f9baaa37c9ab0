"""A slow provider: the bot shows signs of life instead of seconds of silence.

The emulator answers after ``LATENCY`` seconds (real time) and the bot's threshold is set far
below it: a tap is answered while the provider is still thinking, the chat shows "typing",
and what the handler has to say after that comes as a message.
"""

from __future__ import annotations

import pytest

from tests.harness import GOOD_KEY, ChatUser, Harness

pytestmark = pytest.mark.bot_settings(SLOW_REPLY_AFTER=0.05)

LATENCY = 0.4
BALANCE_ACTIONS = ("getBalance", "getBalanceAndCashBack")

BUYING = {"en": "⏳ Buying…", "ru": "⏳ Покупаю…"}
WAITING = {"en": "⏳ Waiting for HeroSMS…", "ru": "⏳ Жду ответа HeroSMS…"}
CANCEL = {"en": "Cancel", "ru": "Отмена"}
EARLY_CANCEL = {
    "en": "Cancel is possible 2 minutes after purchase",
    "ru": "Отменить можно через 2 минуты после покупки",
}


def slow(harness: Harness, *actions: str) -> None:
    harness.emulator.faults.configure(0.0, [], latency=LATENCY, actions=actions)


def balance_calls(harness: Harness) -> int:
    return sum(1 for call in harness.emulator.calls if call.action in BALANCE_ACTIONS)


async def test_a_key_is_checked_with_one_call_while_the_chat_shows_typing(harness: Harness):
    user = await harness.chose_provider()
    slow(harness, *BALANCE_ACTIONS)
    before = balance_calls(harness)
    await user.send_expecting(GOOD_KEY, "Connected to HeroSMS. Balance: 50.000.")
    assert balance_calls(harness) - before == 1
    assert "typing" in user.side.chat_actions


@pytest.mark.bot_settings(SLOW_REPLY_AFTER=5)
async def test_a_fast_provider_shows_no_typing(harness: Harness):
    user = await harness.connected()
    await user.send("/buy tg 6")
    query = await user.press(user.last().button_starting("✅"))
    assert user.answer(query) == "Bought!"
    assert user.side.chat_actions == []


async def bought(harness: Harness, language: str) -> tuple[ChatUser, str, int]:
    """A slow purchase: the user, the answer to the Buy tap and the confirmation's id."""
    user = await harness.connected(language)
    await user.send("/buy tg 6")
    confirmation = user.last()
    slow(harness, "getNumber", "getNumberV2", "setStatus")
    query = await user.press(confirmation.button_starting("✅"), confirmation)
    return user, user.answer(query) or "", confirmation.message_id


@pytest.mark.parametrize("language", ["en", "ru"])
async def test_a_slow_purchase_is_answered_at_once(harness: Harness, language: str):
    user, answer, confirmation = await bought(harness, language)
    assert answer == BUYING[language]
    assert "typing" in user.side.chat_actions
    card = user.message(confirmation)
    assert "📱 +" in card.text  # the card took the confirmation's place, as without delay


@pytest.mark.parametrize("language", ["en", "ru"])
async def test_an_alert_after_the_early_answer_comes_as_a_message(harness: Harness, language: str):
    user, _answer, card = await bought(harness, language)
    messages = len(user.messages)
    # Too early: the provider refuses, slowly.
    query = await user.press(CANCEL[language], card)
    assert user.answer(query) == WAITING[language]
    assert len(user.messages) == messages + 1
    assert EARLY_CANCEL[language] in user.last().text


async def test_a_provider_failure_after_the_early_answer_comes_as_a_message(harness: Harness):
    user, _answer, card = await bought(harness, "en")
    harness.emulator.faults.configure(
        1.0, ["error_sql"], latency=LATENCY, actions=["getStatus", "getStatusV2", "setStatus"]
    )
    messages = len(user.messages)
    query = await user.press("Cancel", card)
    assert user.answer(query) == WAITING["en"]
    assert len(user.messages) == messages + 1
    assert "HeroSMS" in user.last().text
