"""An old menu of a dialog is not hijacked by the current one: its steps' buttons say it is out
of date and change nothing, in either menu (/buy, /rent, /mail, a rent's extension)."""

from __future__ import annotations

import pytest

from tests.faketg import ChatMessage
from tests.harness import MAIL_PROVIDERS, RENT_PROVIDERS, ChatUser, Harness

OUT_OF_DATE = {
    "en": "This menu is out of date. Start again with {command}.",
    "ru": "Это меню устарело. Начните заново: {command}.",
}
BALANCE = {"en": "Balance: 50.000 →", "ru": "Баланс: 50.000 →"}
EXTEND_OUT_OF_DATE = {
    "en": "This menu is out of date. Press Extend on the rent's card again.",
    "ru": "Это меню устарело. Нажмите «Продлить» на карточке аренды ещё раз.",
}


def data_starting(message: ChatMessage, prefix: str) -> str:
    """The callback data of the first button of ``message`` whose data starts with ``prefix``."""
    return next(data for row in message.buttons for _, data in row if data.startswith(prefix))


async def refused(user: ChatUser, old: ChatMessage, data: str, alert: str) -> None:
    """A tap on ``old`` is answered with ``alert`` and changes no message."""
    before = [(m.message_id, m.text, m.buttons) for m in user.messages]
    query = await user.press_data(old.message_id, data)
    assert user.answer(query) == alert
    assert [(m.message_id, m.text, m.buttons) for m in user.messages] == before


@pytest.mark.parametrize("language", ["en", "ru"])
async def test_an_earlier_country_list_is_not_turned_into_the_later_one(
    harness: Harness, language: str
):
    user = await harness.connected(language)
    await user.send("/buy tg")
    telegram = user.last()
    await user.send("/buy wa")
    whatsapp = user.last()
    assert whatsapp.message_id != telegram.message_id
    stale = OUT_OF_DATE[language].format(command="/buy")
    for prefix in ("bso:", "bcp:", "bc:", "bsp:"):  # sort, page, a country, back to services
        await refused(user, telegram, data_starting(telegram, prefix), stale)
    # The current menu goes on as before; the old one stays as it was.
    old_text = telegram.text
    await user.press_data(whatsapp.message_id, data_starting(whatsapp, "bc:"))
    assert BALANCE[language] in user.message(whatsapp.message_id).text
    assert user.message(telegram.message_id).text == old_text


async def test_typed_input_moves_the_dialog_to_its_reply(harness: Harness):
    user = await harness.connected()
    await user.send("/buy")
    services = user.last()
    await user.send("telegram")
    countries = user.last()
    assert countries.message_id != services.message_id
    stale = OUT_OF_DATE["en"].format(command="/buy")
    await refused(user, services, data_starting(services, "bs:"), stale)
    await user.press_data(countries.message_id, data_starting(countries, "bc:"))
    assert "Balance: 50.000 →" in user.message(countries.message_id).text


async def test_a_menu_of_an_ended_dialog_acts_on_its_own(harness: Harness):
    """With no dialog under way, an old service list starts one from its own message."""
    user = await harness.connected()
    await user.send("/buy")
    services = user.last()
    await user.send("/cancel")
    await user.press("Telegram", services)
    assert "Telegram: choose a country" in user.message(services.message_id).text


async def started_twice(
    harness: Harness, language: str, first: str, second: str
) -> tuple[ChatUser, ChatMessage, ChatMessage]:
    """An SMS-Activate user who sent ``first``, then ``second``: both menus."""
    user = await harness.connected(language, provider="SMS-Activate")
    await user.send(first)
    old = user.last()
    await user.send(second)
    return user, old, user.last()


@pytest.mark.bot_settings(SMS_PROVIDERS=RENT_PROVIDERS)
@pytest.mark.parametrize("language", ["en", "ru"])
async def test_an_earlier_rent_menu_is_out_of_date(harness: Harness, language: str):
    user, first, second = await started_twice(harness, language, "/rent 24", "/rent 4")
    stale = OUT_OF_DATE[language].format(command="/rent")
    await refused(user, first, data_starting(first, "rb:c:"), stale)  # a country
    await refused(user, first, data_starting(first, "rb:bd"), stale)  # back to the durations
    countries = second.text
    await user.press_data(second.message_id, data_starting(second, "rb:c:"))
    assert user.message(second.message_id).text != countries


@pytest.mark.bot_settings(SMS_PROVIDERS=RENT_PROVIDERS)
@pytest.mark.parametrize("language", ["en", "ru"])
async def test_an_earlier_extension_menu_is_out_of_date(harness: Harness, language: str):
    user = await harness.connected(language, provider="SMS-Activate")
    await user.send("/rent 24")
    await user.press(user.last().buttons[0][0][0])
    await user.press(user.last().buttons[0][0][0])
    await user.press(user.last().button_starting("✅"))
    card = user.last()
    extend = data_starting(card, "r:ex:")
    await user.press_data(card.message_id, extend)
    first = user.last()
    await user.press_data(card.message_id, extend)
    second = user.last()
    assert second.message_id != first.message_id
    await refused(user, first, data_starting(first, "rx:h:"), EXTEND_OUT_OF_DATE[language])


@pytest.mark.bot_settings(SMS_PROVIDERS=MAIL_PROVIDERS)
@pytest.mark.parametrize("language", ["en", "ru"])
async def test_an_earlier_mail_menu_is_out_of_date(harness: Harness, language: str):
    user, first, second = await started_twice(
        harness, language, "/mail apple.com", "/mail google.com"
    )
    stale = OUT_OF_DATE[language].format(command="/mail")
    await refused(user, first, data_starting(first, "mo:"), stale)  # an address
    await user.press_data(second.message_id, data_starting(second, "mo:"))
    assert "google.com" in user.message(second.message_id).text
