"""Several services on one number: the quote and the card show each service's price and the
total, each activation records its own cost, and each service's buttons name it."""

from __future__ import annotations

import pytest

from bot.texts import money
from tests.harness import PROVIDER_URL, Harness

pytestmark = pytest.mark.bot_settings(SMS_PROVIDERS=f"mine={PROVIDER_URL}")

WORDS = {
    "en": {
        "several": "➕ Several services on one number",
        "tg": "Telegram",
        "wa": "WhatsApp",
        "price": "Price:",
        "paid": "Paid:",
        "another": "Another code",
    },
    "ru": {
        "several": "➕ Несколько сервисов на один номер",
        "tg": "Телеграм",
        "wa": "Ватсап",
        "price": "Цена:",
        "paid": "Оплачено:",
        "another": "Ещё код",
    },
}


@pytest.mark.parametrize("language", ["en", "ru"])
async def test_each_service_is_priced_on_the_quote_and_the_card(
    harness: Harness, language: str
) -> None:
    words = WORDS[language]
    user = await harness.connected(language, provider="mine")
    await user.send("/buy")
    await user.press(words["several"])
    await user.press("☐ " + words["tg"])
    await user.press("☐ " + words["wa"])
    await user.press(user.last().button_starting("✅"))
    countries = user.last()
    await user.press(countries.buttons[0][0][0])
    confirm = user.last()
    assert "Set a max price" not in confirm.button_texts
    quote, buy = confirm.text, confirm.button_starting("✅")
    await user.press(buy, confirm)
    card = user.last()
    sold = {a.service: a for a in harness.emulator.activations.values()}
    tg, wa = sold["tg"], sold["wa"]
    prices = (
        f"{words['tg']} {money(tg.cost)} + {words['wa']} {money(wa.cost)} "
        f"= {money(tg.cost + wa.cost)}"
    )
    assert f"{words['price']} {prices}" in quote
    assert buy.endswith(money(tg.cost + wa.cost))
    assert f"{words['paid']} {prices}" in card.text
    for bought in (tg, wa):
        record = await harness.resources.activations.find(user.id, bought.id)
        assert record is not None
        assert record.cost == bought.cost
    # With their codes in, each service's buttons say which service they act on.
    harness.emulator.deliver_sms(tg.id, "Telegram code 11223", code="11223")
    harness.emulator.deliver_sms(wa.id, "WhatsApp code 445566", code="445566")
    await harness.poll()
    buttons = user.message(card.message_id).button_texts
    for name in (words["tg"], words["wa"]):
        assert f"{name}: {words['another']}" in buttons
    assert words["another"] not in buttons
    await user.press(f"{words['wa']}: {words['another']}", card.message_id)
    assert harness.emulator.activations[wa.id].status.name == "WAIT_RETRY"
    assert harness.emulator.activations[tg.id].status.name != "WAIT_RETRY"
