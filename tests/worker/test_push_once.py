"""A code is pushed at most twice, whatever Telegram answers: a sendMessage that is carried out
and then answered 502 is not repeated until Telegram recovers, and the card says so."""

from __future__ import annotations

import pytest

from tests.harness import Harness

SERVICE, COUNTRY = "tg", 6
WARNING = {
    "en": "Telegram did not confirm a code message",
    "ru": "Telegram не подтвердил сообщение с кодом",
}


@pytest.mark.parametrize("language", ["en", "ru"])
async def test_a_push_answered_502_after_sending_is_sent_at_most_twice(
    harness: Harness, language: str
) -> None:
    user = await harness.connected(language)
    await user.send(f"/buy {SERVICE} {COUNTRY}")
    await user.press(user.last().button_starting("✅"))
    card = user.last()
    [sold] = harness.emulator.activations.values()
    # Telegram delivers every sendMessage, and answers each with 502, for a long while.
    harness.server.fail_next("sendMessage", 502, "Bad Gateway", times=40, after=True)
    harness.emulator.deliver_sms(sold.id, "Telegram code: 24680", code="24680")
    for _ in range(6):
        await harness.advance(30)
    pushes = [
        m
        for m in user.chat
        if m.from_bot and "2 4 6 8 0" in m.text and m.message_id != card.message_id
    ]
    assert 1 <= len(pushes) <= 2
    shown = user.message(card.message_id).text
    assert "2 4 6 8 0" in shown  # the card itself carries the code
    assert WARNING[language] in shown
