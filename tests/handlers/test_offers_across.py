"""/buy and /prices across a user's accounts, on the sandbox's two demo providers (each its own
emulator, so each account's prices, stock and purchases are its own): the offers side by side,
the cheapest bought on its own account, the next account's offer after NO_NUMBERS, a silent
provider named while the other answers, and forged offer buttons that buy nothing."""

from __future__ import annotations

from decimal import Decimal

import pytest

from bot.keyboards.callbacks import BuyCountryCallback, BuyOfferCallback
from bot.provider.presets import SANDBOX2_NAME, SANDBOX_NAME
from bot.sandbox import Emulator
from tests.harness import ChatUser, Harness

LANGUAGES = pytest.mark.parametrize("language", ["en", "ru"])
SERVICE, COUNTRY = "tg", 6
#: Sandbox (connected first) is the cheaper; Sandbox B (connected last) is the default.
CHEAP, DEAR = Decimal("0.2"), Decimal("0.35")
#: Indonesia on the country list (pressed by its data: the list is paged).
CHOOSE_COUNTRY = BuyCountryCallback(country=COUNTRY).pack()

T = {
    "en": {
        "add": "➕ Add an account",
        "offers": "Offers of your accounts, cheapest first:",
        "paid_a": "Paid from: Sandbox",
        "paid_b": "Paid from: Sandbox B",
        "bought": "Bought!",
        "none_at_a": "Sandbox has no numbers for this right now.",
        "b_has": "Sandbox B has them for",
        "buy_at_b": "Buy at Sandbox B for",
        "silent": "Did not answer: Sandbox B (no answer in time).",
        "unknown": "This is not one of your provider accounts.",
        "none": "None of your accounts has numbers here right now.",
    },
    "ru": {
        "add": "➕ Добавить аккаунт",
        "offers": "Предложения ваших аккаунтов, сначала дешёвые:",
        "paid_a": "Оплата с аккаунта: Sandbox",
        "paid_b": "Оплата с аккаунта: Sandbox B",
        "bought": "Куплено!",
        "none_at_a": "У Sandbox сейчас нет таких номеров.",
        "b_has": "У Sandbox B они есть за",
        "buy_at_b": "Купить у Sandbox B за",
        "silent": "Не ответили: Sandbox B (не ответил вовремя).",
        "unknown": "Это не ваш аккаунт провайдера.",
        "none": "Сейчас ни у одного из ваших аккаунтов нет здесь номеров.",
    },
}


def emulators(harness: Harness) -> tuple[Emulator, Emulator]:
    sandboxes = harness.resources.sandboxes
    return sandboxes[SANDBOX_NAME].emulator, sandboxes[SANDBOX2_NAME].emulator


def priced(harness: Harness, count_a: int = 10, count_b: int = 10) -> tuple[Emulator, Emulator]:
    """Telegram in Indonesia: cheaper at Sandbox than at Sandbox B."""
    a, b = emulators(harness)
    a.set_offer(COUNTRY, SERVICE, cost=CHEAP, count=count_a)
    b.set_offer(COUNTRY, SERVICE, cost=DEAR, count=count_b)
    return a, b


async def two_demo_accounts(harness: Harness, language: str, name: str = "Alice") -> ChatUser:
    """A user with both demo providers connected (neither asks for a key): Sandbox, then
    Sandbox B, the default since it came last."""
    user = harness.user(language_code=language, first_name=name)
    await user.send("/start")
    await user.press("Sandbox")
    await user.send("/key")
    await user.press(T[language]["add"])
    await user.press("Sandbox B")
    book = await harness.resources.users.account_book(user.id)
    assert [a.provider for a in book.active] == [SANDBOX2_NAME, SANDBOX_NAME]
    return user


async def sandbox_key(harness: Harness, user: ChatUser) -> str:
    key = await harness.resources.users.get_sandbox_key(user.id)
    assert key is not None
    return key


def offer_buttons(user: ChatUser) -> list[tuple[str, str]]:
    return [
        (text, data) for row in user.last().buttons for text, data in row if data[:4] == "bof:"
    ]


@LANGUAGES
async def test_one_demo_key_is_an_account_at_each_demo_provider(harness: Harness, language: str):
    user = await two_demo_accounts(harness, language)
    key = await sandbox_key(harness, user)
    a, b = emulators(harness)
    assert key in a.accounts
    assert key in b.accounts
    assert len(await harness.resources.accounts.all(user.id)) == 2


@LANGUAGES
async def test_the_offers_of_both_accounts_side_by_side_cheapest_first(
    harness: Harness, language: str
):
    priced(harness)
    user = await two_demo_accounts(harness, language)
    await user.send(f"/buy {SERVICE}")
    await user.press_data(user.last().message_id, CHOOSE_COUNTRY)
    screen = user.last()
    assert T[language]["offers"] in screen.text
    first, second = screen.text.index("1. Sandbox —"), screen.text.index("2. Sandbox B —")
    assert first < second
    labels = [text for text, _ in offer_buttons(user)]
    assert labels[0].startswith("Sandbox ·")
    assert labels[1].startswith("Sandbox B ·")
    # The dearer one is one tap away too, and its confirmation names it as the payer.
    await user.press(labels[1])
    assert T[language]["paid_b"] in user.last().text


@LANGUAGES
async def test_buy_tg_6_buys_the_cheapest_on_its_own_account(harness: Harness, language: str):
    a, b = priced(harness)
    user = await two_demo_accounts(harness, language)
    await user.send(f"/buy {SERVICE} {COUNTRY}")
    assert T[language]["paid_a"] in user.last().text  # not the default: the cheaper one
    query = await user.press(user.last().button_starting("✅"))
    assert user.answer(query) == T[language]["bought"]
    key = await sandbox_key(harness, user)
    [bought] = a.activations.values()
    assert bought.key == key
    assert bought.cost == CHEAP
    assert b.activations == {}
    assert b.accounts[key].balance == Decimal("100")  # Sandbox B's money untouched
    [record] = await harness.resources.activations.open_of_user(user.id)
    assert record.provider == SANDBOX_NAME


@LANGUAGES
async def test_buy_tg_6_with_no_stock_anywhere_shows_the_offers_screen(
    harness: Harness, language: str
):
    a, b = priced(harness, count_a=0, count_b=0)
    user = await two_demo_accounts(harness, language)
    await user.send(f"/buy {SERVICE} {COUNTRY}")
    assert T[language]["none"] in user.last().text
    assert offer_buttons(user) == []
    assert a.activations == {}
    assert b.activations == {}


@LANGUAGES
async def test_no_numbers_at_one_account_offers_the_next_in_one_tap(
    harness: Harness, language: str
):
    a, b = priced(harness)
    user = await two_demo_accounts(harness, language)
    await user.send(f"/buy {SERVICE} {COUNTRY}")
    confirmation = user.last()
    a.set_offer(COUNTRY, SERVICE, count=0)  # sold out between the quote and the tap
    await user.press(confirmation.button_starting("✅"), confirmation)
    screen = user.last()
    assert T[language]["none_at_a"] in screen.text
    assert T[language]["b_has"] in screen.text
    await user.press(screen.button_starting(T[language]["buy_at_b"]))
    assert T[language]["paid_b"] in user.last().text
    query = await user.press(user.last().button_starting("✅"))
    assert user.answer(query) == T[language]["bought"]
    assert a.activations == {}
    [bought] = b.activations.values()
    assert bought.key == await sandbox_key(harness, user)
    assert bought.cost == DEAR


async def test_a_second_no_numbers_skips_both_accounts(harness: Harness):
    a, b = priced(harness)
    user = await two_demo_accounts(harness, "en")
    await user.send(f"/buy {SERVICE} {COUNTRY}")
    a.set_offer(COUNTRY, SERVICE, count=0)
    await user.press(user.last().button_starting("✅"))
    await user.press(user.last().button_starting(T["en"]["buy_at_b"]))
    b.set_offer(COUNTRY, SERVICE, count=0)
    await user.press(user.last().button_starting("✅"))
    screen = user.last()
    assert "Sandbox B has no numbers for this right now." in screen.text
    assert "None of your other accounts has them either." in screen.text
    assert offer_buttons(user) == []
    assert a.activations == {}
    assert b.activations == {}


@LANGUAGES
@pytest.mark.bot_settings(OFFER_TIMEOUT=0.2)
async def test_a_silent_provider_is_named_while_the_other_answers(harness: Harness, language: str):
    _a, b = priced(harness)
    user = await two_demo_accounts(harness, language)
    b.faults.configure(0.0, [], latency=1.0)  # every question to Sandbox B
    # The country list across both accounts: Sandbox's countries, and who did not answer.
    await user.send(f"/buy {SERVICE}")
    assert T[language]["silent"] in user.last().text
    assert CHOOSE_COUNTRY in [data for row in user.last().buttons for _, data in row]
    await user.send(f"/prices {SERVICE} {COUNTRY}")
    text = user.last().text
    assert T[language]["silent"] in text
    assert "1. Sandbox —" in text
    # /buy is not held up either: the cheapest of those that answered.
    await user.send(f"/buy {SERVICE} {COUNTRY}")
    assert T[language]["paid_a"] in user.last().text


@LANGUAGES
async def test_prices_in_one_country_lists_every_account(harness: Harness, language: str):
    priced(harness)
    user = await two_demo_accounts(harness, language)
    await user.send(f"/prices {SERVICE} {COUNTRY}")
    text = user.last().text
    assert T[language]["offers"] in text
    assert text.index("1. Sandbox —") < text.index("2. Sandbox B —")


@LANGUAGES
async def test_a_forged_offer_naming_another_users_account_buys_nothing(
    harness: Harness, language: str
):
    a, b = priced(harness)
    victim = await two_demo_accounts(harness, "en", name="Bob")
    victim_account = (await harness.resources.users.account_book(victim.id)).active[0].id
    user = await two_demo_accounts(harness, language)
    await user.send(f"/buy {SERVICE}")
    await user.press_data(user.last().message_id, CHOOSE_COUNTRY)
    screen = user.last()
    forged = BuyOfferCallback(account=victim_account, service=SERVICE, country=COUNTRY).pack()
    query = await user.press_data(screen.message_id, forged)
    assert user.answer(query) == T[language]["unknown"]
    assert user.last().text == screen.text  # nothing changed
    assert a.activations == {}
    assert b.activations == {}
