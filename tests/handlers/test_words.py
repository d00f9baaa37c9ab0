"""Words a user reads: prompts that agree with their checks, headers that match the columns,
provider names in sentences, amounts written one way (issue 16, items 17 to 19)."""

from __future__ import annotations

import pytest

from bot.provider.presets import parse_providers
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
