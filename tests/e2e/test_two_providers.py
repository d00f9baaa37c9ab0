"""The real ``python -m bot`` with two emulators on two loopback ports as two providers: what
works today with both configured (issue #18's end-to-end test grows from here)."""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal

import pytest

from bot.keyboards.callbacks import BuyCountryCallback
from bot.sandbox import Emulator
from bot.sandbox.emulator import CallRecord
from tests.e2e.conftest import KEY, KEY_B, TwoProviders
from tests.e2e.processes import BotProcess
from tests.faketg import FakeTelegram

pytestmark = pytest.mark.e2e

COUNTRY = 6  # Indonesia


async def test_a_key_of_the_second_provider_goes_to_that_provider(
    make_two_provider_bot: Callable[..., BotProcess],
    two_providers: TwoProviders,
    fake_telegram: FakeTelegram,
) -> None:
    bot = make_two_provider_bot()
    await bot.start()
    try:
        user = fake_telegram.user(first_name="Ada")
        greeting = await user.send_and_wait("/start", "Hi, Ada!", timeout=30)
        assert greeting.button_texts == ["Alpha SMS", "Beta SMS"]
        await user.press_and_wait("Beta SMS", "Send your Beta SMS API key")
        connected = await user.send_and_wait(KEY_B, "Connected to Beta SMS")
        assert "Balance: 35.00" in connected.text
        await user.send_and_wait("/balance", "Balance on Beta SMS: 35.00")
    finally:
        code = await bot.stop()
    assert code == 0, bot.log
    assert "Traceback" not in bot.log, bot.log
    assert KEY_B not in bot.log
    # The key and every call went to the second provider; the first one was never asked.
    assert {call.action for call in two_providers.second.emulator.calls} >= {"getBalance"}
    assert two_providers.first.emulator.calls == []


async def test_one_user_two_keys_buys_the_cheaper_offer_and_each_item_keeps_its_account(
    make_two_provider_bot: Callable[..., BotProcess],
    two_providers: TwoProviders,
    fake_telegram: FakeTelegram,
) -> None:
    """Issue #18's end-to-end test: one user, two keys, /buy shows both offers, buys the
    cheaper one, the code is pushed, and a cancel on the other account's older item goes to
    that account's provider."""
    alpha, beta = two_providers.first.emulator, two_providers.second.emulator
    alpha.set_offer(COUNTRY, "tg", cost=Decimal("0.2"), count=10)
    beta.set_offer(COUNTRY, "tg", cost=Decimal("0.35"), count=10)
    bot = make_two_provider_bot()
    await bot.start()
    try:
        user = fake_telegram.user(first_name="Ada")
        await user.send_and_wait("/start", "Hi, Ada!", timeout=30)
        await user.press_and_wait("Beta SMS", "Send your Beta SMS API key")
        await user.send_and_wait(KEY_B, "Connected to Beta SMS")
        # An older number with Beta, the only account then.
        confirm = await user.send_and_wait("/buy tg 6", "after the purchase")
        assert "Paid from" not in confirm.text
        old_card = await user.press_and_wait(confirm.button_starting("✅"), "Waiting for the SMS")
        (old_id,) = list(beta.activations)

        # The second key: Alpha SMS, the default from now on.
        await user.send_and_wait("/key", "Your provider accounts:")
        await user.press_and_wait("➕ Add an account", "Choose your provider")
        await user.press_and_wait("Alpha SMS", "Send your Alpha SMS API key")
        await user.send_and_wait(KEY, "Alpha SMS")

        countries = await user.send_and_wait("/buy tg", "choose a country")
        await user.press_data(countries.message_id, BuyCountryCallback(country=COUNTRY).pack())
        screen = await user.wait_for("Offers of your accounts, cheapest first:")
        assert screen.text.index("1. Alpha SMS — 0.200") < screen.text.index("2. Beta SMS — 0.350")
        await user.press(screen.button_starting("Alpha SMS"), screen)
        confirm = await user.wait_for("Paid from: Alpha SMS")
        card = await user.press_and_wait(confirm.button_starting("✅"), "Waiting for the SMS")
        (new_id,) = list(alpha.activations)
        assert alpha.activations[new_id].key == KEY
        assert list(beta.activations) == [old_id]  # nothing more bought at Beta

        alpha.deliver_sms(new_id, "Your Telegram code: 31337", code="31337")
        push = await user.wait_for("Code for Telegram", timeout=15)
        assert "3 1 3 3 7" in push.text
        await user.wait_for(
            lambda m: m.message_id == card.message_id and "Code received" in m.text
        )

        # Cancel the older Beta number (Alpha is the default now): Beta refunds it.
        beta.clock.advance(121)
        balance = beta.account(KEY_B).balance
        query = await user.press("Cancel", old_card.message_id)
        answer = await user.wait_for_answer(query, timeout=10)
        assert answer.text == "Cancelled, the money is refunded.", answer
        assert beta.account(KEY_B).balance > balance

        def cancels(emulator: Emulator) -> list[CallRecord]:
            return [
                c
                for c in emulator.calls
                if c.action == "setStatus" and c.params.get("id") == str(old_id)
            ]

        assert cancels(beta)
        assert cancels(alpha) == []
    finally:
        code = await bot.stop()
    assert code == 0, bot.log
    assert "Traceback" not in bot.log, bot.log
    assert KEY not in bot.log
    assert KEY_B not in bot.log
