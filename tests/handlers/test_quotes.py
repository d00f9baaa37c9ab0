"""A /buy confirmation buys only what it showed: cancelled, replaced, old, switched or dearer
confirmations buy nothing, say so in an alert, and show the current offer in their place."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from decimal import Decimal

import pytest

from bot.sandbox.market import RentOffer
from bot.storage.orders import QUOTE_TTL
from tests.faketg import ChatMessage
from tests.harness import GOOD_KEY, MAIL_PROVIDERS, RENT_PROVIDERS, ChatUser, Harness

SERVICE = "tg"
COUNTRY = 6

STALE = {"en": "no longer valid", "ru": "больше не действует"}
ROSE = {"en": "The price rose to", "ru": "Цена выросла до"}


def buy_button(message: ChatMessage) -> str:
    return next(t for t in message.button_texts if t.startswith("✅"))


async def confirmation(harness: Harness, language: str) -> tuple[ChatUser, ChatMessage]:
    user = harness.user(language_code=language)
    await harness.connect(user)
    await user.send(f"/buy {SERVICE} {COUNTRY}")
    return user, user.last()


def numbers(harness: Harness) -> int:
    return len(harness.emulator.activations)


def current(user: ChatUser, message: ChatMessage) -> ChatMessage:
    """The message as it is now (edited in place)."""
    return next(m for m in user.chat if m.message_id == message.message_id)


async def tap_old(user: ChatUser, old: ChatMessage) -> str:
    query = await user.press(buy_button(old), old)
    answer = user.answer(query)
    assert answer is not None
    return answer


async def refused_then_fresh(
    user: ChatUser, old: ChatMessage, why: str, bought: Callable[[], int]
) -> str:
    """The old confirmation buys nothing and says ``why``; the offer shown in its place buys.
    Returns the label of the button that bought."""
    assert why in await tap_old(user, old)
    assert bought() == 0
    fresh = current(user, old)
    label = buy_button(fresh)
    await user.press(label, fresh)
    assert bought() == 1
    return label


@pytest.mark.parametrize("language", ["en", "ru"])
async def test_cancel_kills_the_confirmation(harness: Harness, language: str) -> None:
    user, old = await confirmation(harness, language)
    await user.send("/cancel")
    await refused_then_fresh(user, old, STALE[language], lambda: numbers(harness))


@pytest.mark.parametrize("language", ["en", "ru"])
async def test_a_price_rise_is_shown_not_paid(harness: Harness, language: str) -> None:
    user, old = await confirmation(harness, language)
    offer = harness.emulator.offer(COUNTRY, SERVICE)
    assert offer is not None
    dearer = offer.cost + Decimal("0.50")
    harness.emulator.set_offer(COUNTRY, SERVICE, cost=dearer)
    why = ROSE[language] + " " + str(dearer)
    label = await refused_then_fresh(user, old, why, lambda: numbers(harness))
    assert str(dearer) in label
    [bought] = harness.emulator.activations.values()
    assert bought.cost == dearer


async def test_a_newer_buy_kills_the_older_confirmation(harness: Harness) -> None:
    user, old = await confirmation(harness, "en")
    await user.send("/buy wa")
    answer = await tap_old(user, old)
    assert STALE["en"] in answer
    assert harness.emulator.activations == {}


async def test_an_old_confirmation_buys_nothing(harness: Harness) -> None:
    user, old = await confirmation(harness, "en")
    harness.emulator.advance(QUOTE_TTL + 1)
    answer = await tap_old(user, old)
    assert STALE["en"] in answer
    assert harness.emulator.activations == {}


async def test_a_confirmation_pays_with_the_account_it_was_shown_for(harness: Harness) -> None:
    user, old = await confirmation(harness, "en")
    shown_for = (await harness.resources.accounts.get(user.id)).account_id
    await harness.resources.accounts.connect(user.id, "smshub", GOOD_KEY)  # the default now
    answer = await tap_old(user, old)
    assert answer == "Bought!"
    [record] = await harness.resources.activations.open_of_user(user.id)
    assert record.account_id == shown_for
    assert record.provider == "herosms"


# --- rent, extension and mailbox confirmations: the same rules ---

RENT = pytest.mark.bot_settings(SMS_PROVIDERS=RENT_PROVIDERS)
MAIL = pytest.mark.bot_settings(SMS_PROVIDERS=MAIL_PROVIDERS)


async def rent_confirmation(harness: Harness, language: str) -> tuple[ChatUser, ChatMessage]:
    user = await harness.connected(language, provider="SMS-Activate")
    await user.send("/rent 24")
    await user.press(user.last().buttons[0][0][0])
    await user.press(user.last().buttons[0][0][0])
    return user, user.last()


def dearer_rents(harness: Harness) -> None:
    market = harness.emulator.world.market
    for key, offer in market.rent_offers.items():
        market.rent_offers[key] = RentOffer(offer.cost * 3, offer.count)


@RENT
@pytest.mark.parametrize("language", ["en", "ru"])
async def test_a_dearer_rent_is_shown_not_paid(harness: Harness, language: str) -> None:
    user, old = await rent_confirmation(harness, language)
    before = buy_button(old)
    dearer_rents(harness)
    label = await refused_then_fresh(
        user, old, ROSE[language], lambda: len(harness.emulator.rents)
    )
    assert label != before


@RENT
async def test_a_new_rent_dialog_kills_the_older_confirmation(harness: Harness) -> None:
    user, old = await rent_confirmation(harness, "en")
    await user.send("/rent")
    assert STALE["en"] in await tap_old(user, old)
    assert harness.emulator.rents == {}


@RENT
@pytest.mark.parametrize("language", ["en", "ru"])
async def test_a_dearer_extension_is_shown_not_paid(harness: Harness, language: str) -> None:
    user, old = await rent_confirmation(harness, language)
    await user.press(buy_button(old), old)
    card = user.last()
    [rent] = harness.emulator.rents.values()
    ends = rent.end_at
    await user.press({"en": "Extend", "ru": "Продлить"}[language], card.message_id)
    await user.press({"en": "12 h", "ru": "12 ч"}[language])
    quote = user.last()
    before = buy_button(quote)
    dearer_rents(harness)
    answer = await tap_old(user, quote)
    assert ROSE[language] in answer
    assert rent.end_at == ends
    fresh = current(user, quote)
    assert buy_button(fresh) != before


@MAIL
@pytest.mark.parametrize("language", ["en", "ru"])
async def test_a_dearer_mailbox_is_shown_not_paid(harness: Harness, language: str) -> None:
    user = await harness.connected(language, provider="SMS-Activate")
    await user.send("/mail apple.com")
    await user.press(user.last().button_starting("gmail.com ·"))
    old = user.last()
    market = harness.emulator.world.market
    popular = market.mail_popular["gmail.com"]
    market.mail_popular["gmail.com"] = replace(popular, cost=popular.cost * 3)
    await refused_then_fresh(user, old, ROSE[language], lambda: len(harness.emulator.mails))


@MAIL
async def test_cancel_kills_a_mailbox_confirmation(harness: Harness) -> None:
    user = await harness.connected("en", provider="SMS-Activate")
    await user.send("/mail apple.com")
    await user.press(user.last().button_starting("gmail.com ·"))
    old = user.last()
    await user.send("/cancel")
    assert STALE["en"] in await tap_old(user, old)
    assert harness.emulator.mails == {}


# --- "Use this number again": a quote with its price, Buy and Cancel ---

EXTRA_WORDS = {
    "en": {"finish": "Finish", "again": "Use this number again", "cancel": "✖ Cancel"},
    "ru": {
        "finish": "Завершить",
        "again": "Использовать номер ещё раз",
        "cancel": "✖ Отмена",
    },
}


async def finished_number(harness: Harness, language: str) -> tuple[ChatUser, ChatMessage]:
    user = await harness.connected(language, provider="SMS-Activate")
    await user.send(f"/buy {SERVICE} {COUNTRY}")
    await user.press(buy_button(user.last()))
    card = user.last()
    [sold] = harness.emulator.activations.values()
    harness.emulator.deliver_sms(sold.id, "Telegram code: 12345", code="12345")
    await harness.poll()
    await user.press(EXTRA_WORDS[language]["finish"], card.message_id)
    return user, user.message(card.message_id)


@RENT
@pytest.mark.parametrize("language", ["en", "ru"])
async def test_use_again_is_quoted_cancellable_and_priced(harness: Harness, language: str) -> None:
    words = EXTRA_WORDS[language]
    user, card = await finished_number(harness, language)
    await user.press(words["again"], card.message_id)
    offer = user.last()
    price = buy_button(offer).rsplit(" ", 1)[1]
    assert price in offer.text
    assert words["cancel"] in offer.button_texts
    # Cancel: nothing bought, and the offer's Buy no longer buys.
    data = offer.callback_of(buy_button(offer))
    await user.press(words["cancel"], offer)
    assert not any(t.startswith("✅") for t in user.message(offer.message_id).button_texts)
    assert len(harness.emulator.activations) == 1
    query = await user.press_data(offer.message_id, data)
    assert STALE[language] in (user.answer(query) or "")
    assert len(harness.emulator.activations) == 1
    # A fresh offer buys once, and the new card says what it cost.
    await user.press(words["again"], card.message_id)
    await user.press(buy_button(user.last()), user.last())
    assert len(harness.emulator.activations) == 2
    assert price in user.last().text


# --- "Another letter": the card's buttons become its quote ---

LETTER_WORDS = {
    "en": {"ask": "📨 Another letter", "buy": "✅ Another letter for", "cancel": "✖ Cancel"},
    "ru": {"ask": "📨 Ещё письмо", "buy": "✅ Ещё письмо за", "cancel": "✖ Отмена"},
}
COSTS = {"en": "costs", "ru": "стоит"}


@MAIL
@pytest.mark.parametrize("language", ["en", "ru"])
async def test_another_letter_is_quoted_and_cancellable(harness: Harness, language: str) -> None:
    words = LETTER_WORDS[language]
    user = await harness.connected(language, provider="SMS-Activate")
    await user.send("/mail apple.com")
    await user.press(user.last().button_starting("gmail.com ·"))
    await user.press(buy_button(user.last()))
    card = user.last()
    [mail] = harness.emulator.mails.values()
    harness.emulator.deliver_mail(mail.id, "Your apple.com code is 482913.")
    await harness.poll()

    def reorders() -> int:
        return sum(1 for call in harness.emulator.calls if call.action == "reorderMailActivation")

    query = await user.press(words["ask"], card.message_id)
    assert COSTS[language] in (user.answer(query) or "")
    quoted = user.message(card.message_id)
    buy = quoted.button_starting(words["buy"])
    data = quoted.callback_of(buy)
    assert reorders() == 0
    await user.press(words["cancel"], card.message_id)
    assert user.message(card.message_id).button_texts == [words["ask"]]
    query = await user.press_data(card.message_id, data)
    assert STALE[language] in (user.answer(query) or "")
    assert reorders() == 0
    # The dead quote put a fresh one under the card: confirmed, one letter more, and the
    # card says what the address has cost.
    await user.press(user.message(card.message_id).button_starting(words["buy"]), card.message_id)
    assert reorders() == 1
    price = buy.rsplit(" ", 1)[1]
    total = Decimal(price) * 2
    assert str(total) in user.message(card.message_id).text


@RENT
async def test_call_verification_is_quoted_at_its_own_price(harness: Harness) -> None:
    user = await harness.connected("en", provider="SMS-Activate")
    await user.send(f"/buy {SERVICE} {COUNTRY}")
    await user.press("Call instead of SMS: off")
    confirm = user.last()
    called = harness.emulator.world.market.verification_prices[COUNTRY]
    offer = harness.emulator.offer(COUNTRY, SERVICE)
    assert offer is not None
    assert called != offer.cost
    assert buy_button(confirm).endswith(str(called))
    await user.press(buy_button(confirm), confirm)
    [bought] = harness.emulator.activations.values()
    assert bought.cost == called
    record = await harness.resources.activations.find(user.id, bought.id)
    assert record is not None
    assert record.cost == called
