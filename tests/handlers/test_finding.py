"""Finding things by name: countries in commands, typed search in long lists, blank searches
(issue 16, items 13 to 15)."""

from __future__ import annotations

import pytest

from bot.texts import money
from tests.harness import GOOD_KEY, MAIL_PROVIDERS, PROVIDER_URL, RENT_PROVIDERS, ChatUser, Harness

#: What looks empty yet reaches the bot: Telegram trims ASCII spaces, not no-break or em ones.
BLANK = "\u00a0\u2003\u00a0"
RENT = pytest.mark.bot_settings(SMS_PROVIDERS=RENT_PROVIDERS)

WORDS = {
    "en": {
        "india": "india",
        "indonesia": "Indonesia",
        "indonesia_typed": "indonesia",
        "buy": "✅ Buy for",
        "prices_head": "Telegram: the cheapest countries (country number · price",
        "prices_hint": "/buy tg and the country's number or name, for example /buy tg",
        "unknown": "I do not know the country Atlantis.",
        "choose_service": "Choose a service",
        "choose_country": "Telegram: choose a country",
        "rent_services": "choose the service (price · numbers), or type its name.",
        "rent_countries": "choose the country",
        "rent_confirm": "✅",
        "telegram": "telegram",
        "russia": "russia",
    },
    "ru": {
        "india": "индия",
        "indonesia": "Индонезия",
        "indonesia_typed": "индонезия",
        "buy": "✅ Купить за",
        "prices_head": "Телеграм: самые дешёвые страны (номер страны · цена",
        "prices_hint": "/buy tg и номер или название страны, например /buy tg",
        "unknown": "Не знаю страну Atlantis.",
        "choose_service": "Выберите сервис",
        "choose_country": "Телеграм: выберите страну",
        "rent_services": "выберите сервис (цена · номеров) или напишите его название.",
        "rent_countries": "выберите страну",
        "rent_confirm": "✅",
        "telegram": "телеграм",
        "russia": "россия",
    },
}


async def connected(harness: Harness, language: str, provider: str = "HeroSMS") -> ChatUser:
    return await harness.connected(language, provider=provider)


@pytest.mark.parametrize("language", ["en", "ru"])
async def test_buy_takes_a_country_name(harness: Harness, language: str):
    words = WORDS[language]
    user = await connected(harness, language)
    await user.send(f"/buy tg {words['indonesia_typed']}")
    assert words["indonesia"] in user.last().text
    assert user.last().button_starting(words["buy"])
    await user.send("/buy tg Atlantis")
    assert words["unknown"] in user.last().text
    await user.send("/buy tg #6")  # as /prices writes it
    assert words["indonesia"] in user.last().text


def offer_rows(text: str) -> list[str]:
    """The rows of /prices: the lines between its header and the blank line before the hint."""
    lines = text.splitlines()
    return lines[1 : lines.index("")]


@pytest.mark.parametrize("language", ["en", "ru"])
async def test_prices_show_country_numbers_and_take_a_country_name(
    harness: Harness, language: str
):
    words = WORDS[language]
    user = await connected(harness, language)
    await user.send("/prices telegram")
    text = user.last().text
    assert words["prices_head"] in text
    assert words["prices_hint"] in text
    rows = offer_rows(text)
    assert rows
    for row in rows:
        number = row.split()[0]
        assert number.isdecimal()  # each row starts with the number /buy takes
    # The number a row shows buys in that row's country.
    first = rows[0]
    await user.send(f"/buy tg {first.split()[0]}")
    assert first.split("·")[0].split(maxsplit=1)[1].strip() in user.last().text
    await user.send(f"/prices tg {words['indonesia_typed']}")
    rows = offer_rows(user.last().text)
    assert len(rows) == 1
    assert rows[0].startswith("6 ")
    assert words["indonesia"] in rows[0]
    await user.send("/prices tg Atlantis")
    assert words["unknown"].rstrip(".") in user.last().text


@pytest.mark.parametrize("language", ["en", "ru"])
async def test_blank_searches_show_the_list_again(harness: Harness, language: str):
    words = WORDS[language]
    user = await connected(harness, language)
    await user.send("/buy")
    await user.send(BLANK)
    assert words["choose_service"] in user.last().text
    assert "“" not in user.last().text
    await user.send(words["telegram"])
    await user.send(BLANK)
    assert words["choose_country"] in user.last().text
    assert "“" not in user.last().text


@RENT
@pytest.mark.parametrize("language", ["en", "ru"])
async def test_rent_lists_take_typed_names(harness: Harness, language: str):
    words = WORDS[language]
    user = await connected(harness, language, provider="SMS-Activate")
    await user.send("/rent 24")
    await user.send(BLANK)
    assert words["rent_countries"] in user.last().text
    await user.send(words["russia"])
    assert words["rent_services"] in user.last().text
    await user.send(BLANK)
    assert words["rent_services"] in user.last().text
    await user.send(words["telegram"])
    confirm = user.last()
    assert confirm.button_starting(words["rent_confirm"])
    await user.press(confirm.button_starting(words["rent_confirm"]), confirm)
    assert list(harness.emulator.rents.values())[-1].service == "tg"


@RENT
async def test_rent_service_search_with_several_matches_lists_them(harness: Harness):
    user = await connected(harness, "en", provider="SMS-Activate")
    await user.send("/rent 24")
    await user.send("russia")
    await user.send("ok")  # Odnoklassniki by its code, Facebook by a part of its name
    matches = user.last()
    assert "choose the service" in matches.text
    shown = {
        matches.callback_of(row[0][0]).split(":")[5] for row in matches.buttons if "·" in row[0][0]
    }
    assert shown == {"ok", "fb"}


NEXT = {
    "en": ("What next:", "/buy: a number for one code", "/rent: a number", "/mail: an e-mail"),
    "ru": ("Что дальше:", "/buy: номер для одного кода", "/rent: номер", "/mail: адрес"),
}


@pytest.mark.parametrize("language", ["en", "ru"])
async def test_a_connected_account_is_told_what_to_do_next(harness: Harness, language: str):
    head, buy, rent, mail = NEXT[language]
    sandbox = await harness.chose_provider("Sandbox", language)  # sells everything
    for line in (head, buy, rent, mail):
        assert line in sandbox.last().text
    hero = await connected(harness, language)  # HeroSMS: neither rent nor mail
    assert head in hero.last().text
    assert buy in hero.last().text
    assert rent not in hero.last().text
    assert mail not in hero.last().text


SANDBOX_AGAIN = {
    "en": ("➕ Add an account", "Balance: 100.000.", "Balance: {balance}."),
    "ru": ("➕ Добавить аккаунт", "Баланс: 100.000.", "Баланс: {balance}."),
}


@pytest.mark.parametrize("language", ["en", "ru"])
async def test_connecting_the_sandbox_again_keeps_its_account(harness: Harness, language: str):
    replace, fresh, kept = SANDBOX_AGAIN[language]
    user = await harness.chose_provider("Sandbox", language)
    assert fresh in user.last().text
    await user.send("/buy tg 6")
    await user.press(user.last().button_starting("✅"))
    sandbox = harness.resources.sandbox
    assert sandbox is not None
    (account,) = sandbox.emulator.accounts.values()
    balance = account.balance
    assert balance < 100
    # Another provider meanwhile, then the sandbox again: the same demo account.
    await user.send("/key")
    await user.press(replace)
    await user.press("HeroSMS")
    await user.send(GOOD_KEY)
    await user.send("/key")
    await user.press(replace)
    await user.press("Sandbox")
    assert kept.format(balance=money(balance)) in user.last().text
    assert len(sandbox.emulator.accounts) == 1
    await user.send("/active")
    await user.press(user.last().buttons[0][0][0])
    assert "+" in user.last().text  # its number's card opens: not another account's


IDN = {
    "en": ("E-mail for апл.рф: choose the address.", "For апл.рф"),
    "ru": ("Почта для апл.рф: выберите адрес.", "Для апл.рф"),
}


@pytest.mark.bot_settings(SMS_PROVIDERS=MAIL_PROVIDERS)
@pytest.mark.parametrize("language", ["en", "ru"])
async def test_mail_takes_an_internationalised_site(harness: Harness, language: str):
    offers, card = IDN[language]
    user = await connected(harness, language, provider="SMS-Activate")
    await user.send("/mail апл.рф")
    assert offers in user.last().text
    sites = {call.params.get("site") for call in harness.emulator.calls}
    assert "xn--80awl.xn--p1ai" in sites  # punycode on the wire, as the protocol expects
    await user.press(user.last().buttons[0][0][0])
    await user.press(user.last().button_starting("✅"))
    assert card in user.last().text


FORWARDING = {
    "en": ("Call forwarding: off", "No numbers with call forwarding", "Without call forwarding"),
    "ru": ("Переадресация: выкл", "Нет номеров с переадресацией", "Без переадресации"),
}


@pytest.mark.bot_settings(SMS_PROVIDERS=f"mine={PROVIDER_URL}")
@pytest.mark.parametrize("language", ["en", "ru"])
async def test_no_numbers_with_forwarding_says_forwarding_is_the_cause(
    harness: Harness, language: str
):
    toggle, cause, without = FORWARDING[language]
    user = await connected(harness, language, provider="mine")
    await user.send("/buy tg 6")  # forwarding exists in Russia only
    await user.press(toggle)
    await user.press(user.last().button_starting("✅"))
    assert cause in user.last().text
    await user.press(without)
    assert user.last().button_starting(toggle)  # forwarding is off again
    await user.press(user.last().button_starting("✅"))
    assert harness.emulator.activations
