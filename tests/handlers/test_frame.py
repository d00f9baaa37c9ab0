"""The bot's frame through the real dispatcher: onboarding, keys, balance, language, guards."""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal

import pytest

from bot.sandbox import Emulator
from bot.storage import keys
from tests.harness import GOOD_KEY, MAIL_PROVIDERS, RENT_PROVIDERS, Harness


async def test_start_offers_providers(harness: Harness):
    user = harness.user()
    await user.send("/start")
    reply = user.last()
    assert "Hi, Alice!" in reply.text
    assert reply.button_texts == ["HeroSMS", "SMSHub", "Sandbox", "Sandbox B"]


async def test_start_in_russian(harness: Harness):
    user = harness.user(language_code="ru")
    await user.send_expecting("/start", "Привет, Alice!", "Для начала выберите провайдера")


async def test_key_flow_stores_encrypted_and_deletes_message(harness: Harness):
    user = await harness.chose_provider()
    assert "Send your HeroSMS API key" in user.last().text
    key_message = await user.send(GOOD_KEY)
    assert user.deleted(key_message)
    assert "Connected to HeroSMS. Balance: 50.000." in user.last().text
    credentials = await harness.resources.users.get_credentials(user.id)
    assert credentials is not None
    assert credentials.api_key.get_secret_value() == GOOD_KEY
    raw = await harness.resources.redis.hgetall(keys.user(user.id))
    assert GOOD_KEY not in repr(raw)


async def test_wrong_key_stores_nothing(harness: Harness):
    user = await harness.chose_provider()
    key_message = await user.send("WrongKey0123456789")
    assert user.deleted(key_message)
    assert "HeroSMS did not accept this key. Nothing was stored" in user.last().text
    assert await harness.resources.users.get_credentials(user.id) is None
    # Still waiting for a key: the right one now works.
    await user.send_expecting(GOOD_KEY, "Connected to HeroSMS")


async def test_wrong_key_in_russian(harness: Harness):
    user = await harness.chose_provider(language="ru")
    await user.send_expecting("WrongKey0123456789", "HeroSMS не принял этот ключ")


async def test_provider_down_stores_nothing(harness: Harness):
    user = await harness.chose_provider()
    harness.emulator.faults.configure(rate=1.0, kinds=["http_5xx"])
    await user.send(GOOD_KEY)
    text = user.last().text
    assert "HeroSMS is not answering properly right now" in text
    assert "The key was not stored" in text
    assert await harness.resources.users.get_credentials(user.id) is None


async def test_key_command_with_inline_key(harness: Harness):
    user = await harness.chose_provider()
    await user.send("/cancel")
    # The provider was not stored yet: /key KEY asks for it and still deletes the key.
    sent = await user.send(f"/key {GOOD_KEY}")
    assert user.deleted(sent)
    assert "Choose the provider first" in user.texts()[-2]
    await user.press("HeroSMS")
    sent = await user.send(f"/key {GOOD_KEY}")
    assert user.deleted(sent)
    assert "Connected to HeroSMS" in user.last().text


async def test_key_that_does_not_look_like_a_key(harness: Harness):
    user = await harness.chose_provider()
    sent = await user.send("my key is secret")
    assert user.deleted(sent)
    assert "does not look like an API key" in user.last().text


async def test_remove_key(harness: Harness):
    user = await harness.connected()
    await user.send_expecting("/key", "Your provider accounts:", "⭐ HeroSMS: 50.000")
    await user.press("⭐ HeroSMS")
    await user.press("Remove")
    await user.press("Yes, remove")
    assert "The account HeroSMS is removed and its key forgotten." in user.last().text
    assert await harness.resources.users.get_credentials(user.id) is None


async def test_balance_needs_a_key(harness: Harness):
    user = harness.user()
    await user.send_expecting("/balance", "Connect your provider account first")
    await user.press("Connect an account")
    assert "Choose your provider:" in user.last().text
    await user.press("HeroSMS")
    await user.send(GOOD_KEY)
    await user.send_expecting("/balance", "Balance on HeroSMS: 50.00")


@pytest.mark.parametrize(
    "command",
    [
        "/buy",
        pytest.param(
            "/mail apple.com", marks=pytest.mark.bot_settings(SMS_PROVIDERS=MAIL_PROVIDERS)
        ),
        pytest.param("/rent", marks=pytest.mark.bot_settings(SMS_PROVIDERS=RENT_PROVIDERS)),
        pytest.param("/rents", marks=pytest.mark.bot_settings(SMS_PROVIDERS=RENT_PROVIDERS)),
    ],
)
async def test_commands_need_a_key(harness: Harness, command: str):
    user = harness.user()
    await user.send_expecting(command, "Connect your provider account first")


@pytest.mark.parametrize(
    ("command", "english", "russian"),
    [
        ("/key", "Choose your provider:", "Выберите провайдера:"),
        ("/language", "Choose your language:", "Выберите язык:"),
        ("/cancel", "Nothing to cancel.", "Отменять нечего."),
        ("/balance", "Connect your provider account first", "Сначала подключите аккаунт"),
        ("/help", "What I can do", "Что я умею"),
        ("/start", "To begin, choose your provider", "Для начала выберите провайдера"),
    ],
)
async def test_every_command_in_both_languages(
    harness: Harness, command: str, english: str, russian: str
):
    for language, expected in (("en", english), ("ru", russian)):
        user = harness.user(language_code=language)
        await user.send(command)
        assert expected in user.last().text, (language, user.last().text)


async def test_key_menu_in_russian(harness: Harness):
    user = harness.user(language_code="ru")
    await harness.connect(user)
    await user.send_expecting("/key", "Ваши аккаунты провайдеров:", "⭐ HeroSMS: 50.000")
    await user.press("⭐ HeroSMS")
    await user.press("Удалить")
    await user.press("Да, удалить")
    assert "Аккаунт HeroSMS удалён, его ключ забыт." in user.last().text


def _cashback(emulator: Emulator) -> None:
    emulator.account(GOOD_KEY).cashback = Decimal("1.25")


def _revoke(emulator: Emulator) -> None:
    emulator.revoke_key(GOOD_KEY)


def _time_out(emulator: Emulator) -> None:
    emulator.faults.configure(rate=1.0, kinds=["timeout"])


@pytest.mark.parametrize(
    ("language", "prepare", "expected"),
    [
        ("en", _cashback, ["Balance on HeroSMS: 50.00", "Cashback: 1.25"]),
        ("ru", None, ["Баланс в HeroSMS: 50.00"]),
        ("en", _revoke, ["HeroSMS did not accept your API key"]),
        ("en", _time_out, ["HeroSMS did not answer in time"]),
    ],
    ids=["cashback", "russian", "key-revoked", "provider-times-out"],
)
async def test_balance(
    harness: Harness,
    language: str,
    prepare: Callable[[Emulator], None] | None,
    expected: list[str],
):
    user = harness.user(language_code=language)
    await harness.connect(user)
    if prepare is not None:
        prepare(harness.emulator)
    await user.send("/balance")
    for text in expected:
        assert text in user.last().text


async def test_sandbox_connects_without_a_key(harness: Harness):
    user = await harness.chose_provider("Sandbox")
    assert "Connected to Sandbox. Balance: 100.000." in user.last().text
    await user.send_expecting("/balance", "Balance on Sandbox: 100.00")


async def test_language_kept_after_cancel(harness: Harness):
    user = harness.user()
    await user.send("/language")
    await user.press("Русский")
    assert "по-русски" in user.last().text
    await user.send("/start")
    await user.press("HeroSMS")
    await user.send("/cancel")
    assert user.last().text == "Отменено."
    await user.send_expecting("/help", "Что я умею")
    assert await harness.resources.users.get_locale(user.id) == "ru"


async def test_cancel_without_dialog(harness: Harness):
    user = harness.user()
    await user.send("/cancel")
    assert user.last().text == "Nothing to cancel."


@pytest.mark.parametrize(("language", "expected"), [("en", "What I can do"), ("ru", "Что я умею")])
async def test_help(harness: Harness, language: str, expected: str):
    user = harness.user(language_code=language)
    await user.send_expecting("/help", expected, "/balance")


async def test_commands_menu_per_language(harness: Harness):
    english = harness.server.commands() or []
    assert [c["command"] for c in english][:2] == ["buy", "active"]
    russian = harness.server.commands(language_code="ru") or []
    assert russian[0]["description"] == "Купить номер для сервиса"


async def test_unknown_command_and_text(harness: Harness):
    user = harness.user()
    await user.send_expecting("/nonsense", "I do not know this command")
    await user.send_expecting("hello", "I did not understand")


async def test_forged_button_gets_an_answer(harness: Harness):
    user = harness.user()
    await user.send("/start")
    query = await user.press_data(user.last().message_id, "prov:doesnotexist")
    assert user.answer(query) == "This provider is not offered."
    query = await user.press_data(user.last().message_id, "garbage-data")
    assert user.answer(query) == "This button is out of date. Use the menu again."
    query = await user.press_data(user.last().message_id, "lang:xx")
    assert user.answer(query) == "This language is not available."


async def test_group_chat_is_refused(harness: Harness):
    group = harness.group()
    await group.send("/start")
    await harness.feed()
    assert "I work in private chats only" in group.last_bot_message().text


async def test_group_chatter_is_left_alone(harness: Harness):
    """With privacy mode off (or as an admin) the bot sees every group message; it answers only
    those addressed to it."""
    harness.server.group_privacy = False
    group = harness.group()
    username = (await harness.bot.me()).username
    for chatter in ("hi everyone", "lunch?", "/start@other_bot", "see @someone_else"):
        await group.send(chatter)
    await harness.feed()
    assert group.bot_messages == []
    addressed = ("/start", f"/help@{username}", f"@{username} hello")
    for number, text in enumerate(addressed, start=1):
        await group.send(text)
        await harness.feed()
        assert len(group.bot_messages) == number
    reply_to = group.bot_messages[-1]
    await group.send("thanks", reply_to=reply_to)
    await harness.feed()
    assert len(group.bot_messages) == len(addressed) + 1
    assert "I work in private chats only" in group.last_bot_message().text


async def test_flood_gets_one_polite_answer(tmp_path):
    from tests.harness import running_harness

    async with running_harness(tmp_path, THROTTLE_RATE=3, THROTTLE_WINDOW=60) as harness:
        user = harness.user()
        for _ in range(10):
            await user.send("/help")
        texts = user.texts()
        assert texts.count("Slow down a little, please: too many messages at once.") == 1
        assert sum("What I can do" in text for text in texts) == 3
