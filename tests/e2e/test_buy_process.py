"""Buying through the real bot process: Telegram and the provider are fakes on loopback."""

from __future__ import annotations

import pytest

from tests.e2e.conftest import KEY, Provider, start_with_user
from tests.faketg import FakeTelegram, UserSide

pytestmark = pytest.mark.e2e


async def buy_number(user: UserSide, provider: Provider) -> tuple[int, int]:
    await user.send_and_wait("/buy", "Choose a service")
    countries = await user.press_and_wait("Telegram", "choose a country")
    confirm = await user.press_and_wait(countries.buttons[0][0][0], "after the purchase")
    buy = confirm.button_starting("✅")
    card = await user.press_and_wait(buy, "Waiting for the SMS")
    (activation_id,) = list(provider.emulator.activations)
    return activation_id, card.message_id


async def test_buy_code_another_code_finish_with_a_restart(
    make_bot, fake_telegram: FakeTelegram, provider: Provider
):
    bot = make_bot()
    user = await start_with_user(bot, fake_telegram, "Bob")
    activation_id, card_id = await buy_number(user, provider)

    provider.emulator.deliver_sms(activation_id, "Your Telegram code: 31337", code="31337")
    push = await user.wait_for("Code for Telegram", timeout=10)
    assert "3 1 3 3 7" in push.text
    await user.wait_for(lambda m: m.message_id == card_id and "Code received" in m.text)

    # A restart in the middle: the card keeps working from the state in Redis.
    assert await bot.stop() == 0
    bot = make_bot()
    await bot.start()

    await user.press("Another code", card_id)
    # The new process may still be starting: the first answer can take a while.
    await user.wait_for(
        lambda m: m.message_id == card_id and "Waiting for another code" in m.text, timeout=30
    )
    provider.emulator.deliver_sms(activation_id, "Your Telegram code: 42424", code="42424")
    await user.wait_for("4 2 4 2 4", timeout=10)
    await user.wait_for(lambda m: m.message_id == card_id and "Code received" in m.text)
    await user.press("Finish", card_id)
    await user.wait_for(lambda m: m.message_id == card_id and "Finished." in m.text)

    pushes = [m for m in user.chat if "Code for Telegram" in m.text]
    assert len(pushes) == 2, user.transcript()
    assert await bot.stop() == 0
    assert KEY not in bot.log


async def test_cancel_denied_early_then_refunded(
    make_bot, fake_telegram: FakeTelegram, provider: Provider
):
    bot = make_bot()
    user = await start_with_user(bot, fake_telegram, "Carol")
    balance = provider.emulator.account(KEY).balance
    _activation_id, card_id = await buy_number(user, provider)
    assert provider.emulator.account(KEY).balance < balance

    query = await user.press("Cancel", card_id)
    answer = await user.wait_for_answer(query)
    assert "Cancel is possible 2 minutes after purchase" in (answer.text or "")

    provider.emulator.clock.advance(121)
    query = await user.press("Cancel", card_id)
    answer = await user.wait_for_answer(query)
    assert answer.text == "Cancelled, the money is refunded.", answer
    await user.wait_for(
        lambda m: m.message_id == card_id and "Cancelled, the money is refunded." in m.text
    )
    assert provider.emulator.account(KEY).balance == balance
    assert await bot.stop() == 0


async def test_a_purchase_behind_lost_answers_ends_on_a_card(
    make_bot, fake_telegram: FakeTelegram, provider: Provider
):
    """The provider sells the number but its answer is lost, and the active list fails too:
    the tap can only say "checking"; within a minute the card appears and the code is pushed."""
    bot = make_bot(PROVIDER_TIMEOUT="4")
    user = await start_with_user(bot, fake_telegram, "Erin")
    await user.send_and_wait("/buy", "Choose a service")
    countries = await user.press_and_wait("Telegram", "choose a country")
    confirm = await user.press_and_wait(countries.buttons[0][0][0], "after the purchase")
    provider.emulator.faults.configure(
        rate=1.0,
        kinds=["timeout"],
        when="after",
        actions={"getNumber", "getNumberV2", "getActiveActivations"},
    )
    await user.press_and_wait(
        confirm.button_starting("✅"), "I am checking whether it went through", timeout=40
    )
    provider.emulator.faults.clear()
    (activation_id,) = list(provider.emulator.activations)
    card = await user.wait_for("Waiting for the SMS", timeout=60)
    assert card.message_id != confirm.message_id  # a new card, under the "checking" note
    provider.emulator.deliver_sms(activation_id, "Your Telegram code: 31337", code="31337")
    await user.wait_for("3 1 3 3 7", timeout=15)
    assert list(provider.emulator.activations) == [activation_id]  # bought once
    assert await bot.stop() == 0
