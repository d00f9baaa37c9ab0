"""Renting through the real bot process: Telegram and the provider are fakes on loopback."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime

import pytest

from tests.e2e.conftest import KEY, Provider, start_with_user
from tests.faketg import ChatMessage, FakeTelegram, UserSide

pytestmark = pytest.mark.e2e

SENDERS = ("Bank", "SPORTMASTER", "79180230628")


def card_shows(card_id: int, text: str):
    def match(message: ChatMessage) -> bool:
        return message.message_id == card_id and text in message.text

    return match


def pushed(card_id: int, text: str):
    """The push itself, not the card (which lists the same SMS)."""

    def match(message: ChatMessage) -> bool:
        return message.reply_to_message_id == card_id and text in message.text

    return match


def sms_pushes(user: UserSide, card_id: int) -> list[ChatMessage]:
    return [m for m in user.chat if m.reply_to_message_id == card_id and "SMS to" in m.text]


async def test_rent_three_sms_extend_finish(
    make_bot, fake_telegram: FakeTelegram, provider: Provider
):
    bot = make_bot(SMS_PROVIDERS=f"sms-activate={provider.url}")
    user = await start_with_user(bot, fake_telegram, "Dana", "SMS-Activate")

    await user.send_and_wait("/rent", "Rent a number: for how long?")
    countries = await user.press_and_wait("1 day", "choose the country")
    services = await user.press_and_wait(countries.buttons[0][0][0], "choose the service")
    confirm = await user.press_and_wait(services.buttons[0][0][0], "after the purchase")
    card = await user.press_and_wait(confirm.button_starting("✅"), "No SMS yet.")
    (rent_id,) = list(provider.emulator.rents)
    rent = provider.emulator.rents[rent_id]
    balance = provider.emulator.account(KEY).balance

    # Three SMS, each after the previous one was pushed.
    for index, sender in enumerate(SENDERS):
        provider.emulator.deliver_rent_sms(rent_id, f"Your code {4100 + index}", sender)
        push = await user.wait_for(pushed(card.message_id, f"Your code {4100 + index}"), 10)
        assert f"from {sender}" in push.text
        await asyncio.sleep(0.4)
    await user.wait_for(card_shows(card.message_id, "SMS received: 3"), any_time=True)
    await asyncio.sleep(1.5)  # a few more polls: nothing is pushed twice
    assert [m.text.split("\n")[1] for m in sms_pushes(user, card.message_id)] == [
        "Your code 4100",
        "Your code 4101",
        "Your code 4102",
    ], user.transcript()

    ends = rent.end_at
    await user.press("Extend", card.message_id)
    await user.wait_for("for how long?")
    quote = await user.press_and_wait("12 h", "New end:")
    await user.press_and_wait(quote.button_starting("✅"), "Extended: +")
    assert rent.end_at == ends + 12 * 3600
    assert provider.emulator.account(KEY).balance < balance
    until = datetime.fromtimestamp(rent.end_at, UTC).strftime("%Y-%m-%d %H:%M UTC")
    await user.wait_for(card_shows(card.message_id, f"Until {until}"), any_time=True)

    await user.press("Finish", card.message_id)
    await user.wait_for(card_shows(card.message_id, "The rent is over."))
    assert rent.status.value == "finished"
    assert len(sms_pushes(user, card.message_id)) == 3
    assert await bot.stop() == 0
    assert KEY not in bot.log
