"""E-mail verification through the real bot process: Telegram and the provider on loopback."""

from __future__ import annotations

import pytest

from tests.e2e.conftest import KEY, Provider, start_with_user
from tests.faketg import ChatMessage, FakeTelegram, UserSide

pytestmark = pytest.mark.e2e


def letters(user: UserSide) -> list[ChatMessage]:
    return [m for m in user.chat if m.from_bot and m.text.startswith("✉️ A letter for")]


async def test_mail_letter_another_letter_with_a_restart(
    make_bot, fake_telegram: FakeTelegram, provider: Provider
):
    # The SMS-Activate preset sells mail; the emulator plays the provider.
    bot = make_bot(SMS_PROVIDERS=f"sms-activate={provider.url}")
    user = await start_with_user(bot, fake_telegram, "Dora", "SMS-Activate")

    await user.send_and_wait("/mail", "Which site is the e-mail address for?")
    domains = await user.send_and_wait("apple.com", "E-mail for apple.com: choose the address.")
    confirm = await user.press_and_wait(
        domains.button_starting("gmail.com"), "An address on gmail.com for apple.com"
    )
    card = await user.press_and_wait(
        confirm.button_starting("✅"), "Waiting for a letter from apple.com"
    )
    (first,) = provider.emulator.mails.values()
    assert first.email in card.text

    provider.emulator.deliver_mail(first.id, "Hi!\nYour apple.com verification code is 482913.")
    push = await user.wait_for("Code: 482913", timeout=10)
    assert push.reply_to_message_id == card.message_id
    await user.wait_for(
        lambda m: m.message_id == card.message_id and "The letter has arrived." in m.text
    )

    # A restart in the middle: the card keeps working from the state in Redis.
    assert await bot.stop() == 0
    bot = make_bot(SMS_PROVIDERS=f"sms-activate={provider.url}")
    await bot.start()

    # Another letter costs money: the card's buttons become its quote, confirmed here.
    await user.press("📨 Another letter", card.message_id)
    quoted = await user.wait_for(
        lambda m: (
            m.message_id == card.message_id
            and any(t.startswith("✅ Another letter for") for t in m.button_texts)
        ),
        timeout=30,
    )
    await user.press(quoted.button_starting("✅ Another letter for"), card.message_id)
    await user.wait_for(
        lambda m: (
            m.message_id == card.message_id
            and "Waiting for another letter from apple.com" in m.text
        ),
        timeout=10,
    )
    second = max(provider.emulator.mails.values(), key=lambda m: m.id)
    assert second.id != first.id
    assert second.email == first.email
    provider.emulator.deliver_mail(second.id, "Your new apple.com code: 909090")
    await user.wait_for("Code: 909090", timeout=10)
    await user.wait_for(lambda m: m.message_id == card.message_id and "2. 🔑 909090" in m.text)
    assert "1. 🔑 482913" in user.message(card.message_id).text
    assert [m.text.splitlines()[1] for m in letters(user)] == ["Code: 482913", "Code: 909090"], (
        user.transcript()
    )
    assert await bot.stop() == 0
    assert KEY not in bot.log
