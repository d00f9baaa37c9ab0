"""Words a user reads: prompts that agree with their checks, headers that match the columns,
provider names in sentences, amounts written one way (issue 16, items 17 to 19)."""

from __future__ import annotations

import pytest

from tests.harness import ChatUser, Harness

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
