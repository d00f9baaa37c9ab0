"""The real ``python -m bot`` with two emulators on two loopback ports as two providers: what
works today with both configured (issue #18's end-to-end test grows from here)."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from tests.e2e.conftest import KEY_B, TwoProviders
from tests.e2e.processes import BotProcess
from tests.faketg import FakeTelegram

pytestmark = pytest.mark.e2e


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
