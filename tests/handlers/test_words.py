"""Words a user reads: prompts that agree with their checks, headers that match the columns,
provider names in sentences, amounts written one way (issue 16, items 17 to 19)."""

from __future__ import annotations

import re
from decimal import Decimal

import pytest

from bot.provider.presets import parse_providers
from bot.texts import money
from tests.faketg import ChatMessage
from tests.harness import GOOD_KEY, OTHER_URL, PROVIDER_URL, ChatUser, Harness

SORTED_BY_RATE = {
    "en": ("Success rate", "(price · numbers · success rate)", "(price · numbers)"),
    "ru": ("Успешность", "(цена · номеров · успешность)", "(цена · номеров)"),
}

PREFIXES = {
    "en": {
        "button": "Exclude prefixes",
        "rule": "the country code 62 and 3 to 6 more digits, for example 62918,62900111",
        "wrong": "Those are not prefixes of this country.",
        "done": "Excluded prefixes: 62812, 62900111",
    },
    "ru": {
        "button": "Исключить префиксы",
        "rule": "код страны 62 и ещё от 3 до 6 цифр, например 62918,62900111",
        "wrong": "Это не префиксы номеров этой страны.",
        "done": "Исключённые префиксы: 62812, 62900111",
    },
}


async def connected(harness: Harness, language: str) -> ChatUser:
    return await harness.connected(language)


@pytest.mark.parametrize("language", ["en", "ru"])
async def test_country_header_names_the_columns_of_each_sort(harness: Harness, language: str):
    button, with_rate, plain = SORTED_BY_RATE[language]
    user = await connected(harness, language)
    await user.send("/buy tg")
    assert plain in user.last().text
    await user.press(button)
    assert with_rate in user.last().text
    assert user.last().buttons[0][0][0].endswith("%")  # the column the header names


@pytest.mark.parametrize("language", ["en", "ru"])
async def test_prefix_prompt_and_its_error_state_the_rule_that_is_checked(
    harness: Harness, language: str
):
    words = PREFIXES[language]
    user = await connected(harness, language)
    await user.send("/buy tg 6")  # Indonesia: +62
    await user.press(words["button"])
    assert words["rule"] in user.last().text
    # Too short after the country code, too long, another country's code: each refused with
    # the very rule the prompt stated.
    for wrong in ("6281", "621234567", "7918123"):
        await user.send(wrong)
        assert words["wrong"] in user.last().text
        assert words["rule"] in user.last().text
    await user.send("62812, +62900111")
    assert words["done"] in user.last().text


TITLED = pytest.mark.bot_settings(
    SMS_PROVIDERS=f"mine:My SMS={PROVIDER_URL},OwnSMS={OTHER_URL},herosms:Hero={OTHER_URL}"
)
KEY_PROMPT = {
    "en": "Send your {title} API key",
    "ru": "Отправьте ваш API-ключ {title}",
}


@TITLED
@pytest.mark.parametrize("language", ["en", "ru"])
@pytest.mark.parametrize(
    ("button", "title"),
    [("My SMS", "My SMS"), ("OwnSMS", "OwnSMS"), ("Hero", "Hero")],
)
async def test_a_provider_is_named_by_its_title(
    harness: Harness, language: str, button: str, title: str
):
    """``name:Title=url`` gives the title; a name without one is shown as written (not the
    lower-case name the settings key by); a preset's title can be replaced too."""
    user = harness.user(language_code=language)
    await user.send("/start")
    await user.press(button)
    assert KEY_PROMPT[language].format(title=title) in user.last().text
    await user.send(GOOD_KEY)
    assert title in user.last().text
    assert "mine" not in user.last().text
    assert "ownsms" not in user.last().text


def test_titles_are_checked_and_old_specs_still_read():
    assert [p.title for p in parse_providers(f"mine={PROVIDER_URL},smshub")] == ["mine", "SMSHub"]
    assert parse_providers("smshub:Hub")[0].url == parse_providers("smshub")[0].url
    with pytest.raises(ValueError, match="at most 32"):
        parse_providers(f"mine:{'x' * 33}={PROVIDER_URL}")


#: A decimal number that is not a percentage (success rates are written as the provider
#: gives them).
_AMOUNT = re.compile(r"(?<![\d.])\d+\.\d+(?![\d.%])")


def amounts(message: ChatMessage) -> list[str]:
    labels = " ".join(message.button_texts)
    return _AMOUNT.findall(f"{message.text} {labels}")


@pytest.mark.parametrize("language", ["en", "ru"])
async def test_amounts_are_written_one_way_on_every_screen(harness: Harness, language: str):
    """The sandbox prices some services in thousandths (0.082) and others in cents (0.14):
    side by side, and in the balance before and after, each has three decimals."""
    user = await harness.chose_provider("Sandbox", language)
    screens = [user.last()]
    await user.send("/prices tg")
    screens.append(user.last())
    await user.send("/buy tg")
    screens.append(user.last())
    await user.press(user.last().buttons[0][0][0])
    screens.append(user.last())
    await user.press(user.last().button_starting("✅"))
    screens.append(user.last())
    await user.send("/balance")
    screens.append(user.last())
    shown = [amount for screen in screens for amount in amounts(screen)]
    assert len(shown) > 10
    assert {len(amount.split(".")[1]) for amount in shown} == {3}, shown


def test_the_one_money_format():
    written = [money(Decimal(v)) for v in ("0.082", "0.14", "93.95", "93.905", "100", "0.0001")]
    assert written == ["0.082", "0.140", "93.950", "93.905", "100.000", "0.0001"]
    assert money(None) == "—"
