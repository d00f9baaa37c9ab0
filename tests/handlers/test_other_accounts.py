"""/active and /rents after the user removed the provider account items were bought with
(while they were open): they are labelled with it, and the list says how to open them again."""

from __future__ import annotations

import pytest

from tests.harness import RENT_PROVIDERS, ChatUser, Harness

pytestmark = pytest.mark.bot_settings(SMS_PROVIDERS=RENT_PROVIDERS)

NOTE = {
    "en": "🔒 Bought with another provider account (SMS-Activate): connect that account's key "
    "again with /key to open them.",
    "ru": "🔒 Куплено через другой аккаунт провайдера (SMS-Activate): подключите ключ этого "
    "аккаунта снова через /key, чтобы открыть.",
}
ADD = {"en": "➕ Add an account", "ru": "➕ Добавить аккаунт"}
REMOVE = {"en": ("Remove", "Yes, remove"), "ru": ("Удалить", "Да, удалить")}
REFUSAL = {
    "en": "This number was bought with another provider account.",
    "ru": "Этот номер куплен с другим аккаунтом провайдера.",
}


async def bought_then_switched(harness: Harness, language: str) -> ChatUser:
    """A number bought and one rented with SMS-Activate, then the Sandbox connected and the
    SMS-Activate account removed."""
    user = await harness.connected(language, provider="SMS-Activate")
    await user.send("/buy tg 6")
    await user.press(user.last().button_starting("✅"))
    await user.send("/rent 24")
    await user.press(user.last().buttons[0][0][0])
    await user.press(user.last().buttons[0][0][0])
    await user.press(user.last().button_starting("✅"))
    await user.send("/key")
    await user.press(ADD[language])
    await user.press("Sandbox")
    assert "Sandbox" in user.last().text
    await user.send("/key")
    await user.press("SMS-Activate")
    remove, yes = REMOVE[language]
    await user.press(remove)
    await user.press(yes)
    return user


@pytest.mark.parametrize("language", ["en", "ru"])
async def test_active_labels_numbers_of_another_account(harness: Harness, language: str):
    user = await bought_then_switched(harness, language)
    listing = await user.send_expecting("/active", NOTE[language])
    (line,) = [line for line in listing.text.splitlines() if line.startswith("• ")]
    assert line.endswith("· 🔒 SMS-Activate"), line
    (button,) = [text for text in listing.button_texts if text.startswith("🔒 SMS-Activate · +")]
    query = await user.press(button, listing)
    assert user.answer(query) == REFUSAL[language]


@pytest.mark.parametrize("language", ["en", "ru"])
async def test_rents_labels_rents_of_another_account(harness: Harness, language: str):
    user = await bought_then_switched(harness, language)
    listing = await user.send_expecting("/rents", NOTE[language])
    assert "· 🔒 SMS-Activate" in listing.text.splitlines()[1]
    (button,) = listing.button_texts
    assert button.startswith("🔒 SMS-Activate · +"), button
    query = await user.press(button, listing)
    assert user.answer(query) == REFUSAL[language]


async def test_items_of_the_connected_account_carry_no_label(harness: Harness):
    user = await harness.connected(provider="SMS-Activate")
    await user.send("/buy tg 6")
    await user.press(user.last().button_starting("✅"))
    listing = await user.send_expecting("/active", "Your open activations:")
    assert "🔒" not in listing.text
    assert not any("🔒" in text for text in listing.button_texts)
