"""Adding a service to a forwarding number: a confirmation that names the service and the
number, says the price is not published, shows the balance, and has Cancel. Confirmed, the
service is bought once and its card shows what the balance lost; cancelled, stale or replaced,
nothing is bought and the user is told."""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from bot.keyboards.callbacks import AdditionalCallback
from bot.storage.orders import QUOTE_TTL
from bot.texts import money
from tests.faketg import ChatMessage
from tests.harness import GOOD_KEY, PROVIDER_URL, ChatUser, Harness

pytestmark = pytest.mark.bot_settings(SMS_PROVIDERS=f"mine={PROVIDER_URL}")


@dataclass(frozen=True)
class Words:
    forward: str
    add: str
    question: str  # with {phone}
    unpublished: str
    balance: str  # with {balance}
    confirm: str
    cancel: str
    nothing: str
    stale: str


WORDS = {
    "en": Words(
        "Call forwarding: off",
        "Add a service",
        "Add Avito to +{phone}?",
        "does not publish the price",
        "Balance: {balance}",
        "✅ Add Avito",
        "✖ Cancel",
        "Nothing was bought.",
        "no longer valid",
    ),
    "ru": Words(
        "Переадресация: выкл",
        "Подключить сервис",
        "Подключить Авито к номеру +{phone}?",
        "не сообщает цену",
        "Баланс: {balance}",
        "✅ Подключить Авито",
        "✖ Отмена",
        "Ничего не куплено.",
        "больше не действует",
    ),
}
AVITO = {"en": "Avito", "ru": "Авито"}


@pytest.fixture(params=["en", "ru"])
def language(request: pytest.FixtureRequest) -> str:
    return str(request.param)


def added(harness: Harness) -> int:
    return sum(1 for call in harness.emulator.calls if call.action == "getAdditionalService")


@dataclass(frozen=True)
class Offered:
    """A forwarding number with its first code, and the confirmation to add Avito to it."""

    user: ChatUser
    confirm: ChatMessage
    phone: str
    words: Words
    language: str


@pytest.fixture
async def offered(harness: Harness, language: str) -> Offered:
    words = WORDS[language]
    user = await harness.connected(language, provider="mine")
    await user.send("/buy ot 0")
    await user.press(words.forward)
    await user.press(user.last().button_starting("✅"))
    card = user.last()
    parent = max(harness.emulator.activations)
    harness.emulator.deliver_sms(parent, "Your code 5151", code="5151")
    await harness.poll()
    await user.press(words.add, card.message_id)
    offer = user.last()
    # The list shows the first services; Avito is one the emulator can add (the button a
    # longer list would show).
    await user.press_data(offer.message_id, AdditionalCallback(id=parent, service="av").pack())
    phone = harness.emulator.activations[parent].phone
    return Offered(user, user.message(offer.message_id), phone, words, language)


async def test_confirmed_it_is_bought_once_and_the_card_shows_the_cost(
    harness: Harness, offered: Offered
) -> None:
    user, confirm, words = offered.user, offered.confirm, offered.words
    balance = harness.emulator.account(GOOD_KEY).balance
    assert words.question.format(phone=offered.phone) in confirm.text
    assert words.unpublished in confirm.text
    assert words.balance.format(balance=money(balance)) in confirm.text
    assert confirm.button_texts == [words.confirm, words.cancel]
    assert added(harness) == 0
    data = confirm.callback_of(words.confirm)

    await user.press(words.confirm, confirm)

    assert added(harness) == 1
    paid = balance - harness.emulator.account(GOOD_KEY).balance
    assert paid == harness.emulator.world.config.additional_service_price
    card = user.message(confirm.message_id)
    assert f"{AVITO[offered.language]} · " in card.text
    assert money(paid) in card.text
    [child] = [a for a in harness.emulator.activations.values() if a.service == "av"]
    record = await harness.resources.activations.find(user.id, child.id)
    assert record is not None
    assert record.cost == paid
    # The same confirmation again: the card of what it bought, nothing more.
    query = await user.press_data(confirm.message_id, data)
    assert user.answer(query) in ("Already bought: here it is.", "Уже куплено: вот номер.")
    assert added(harness) == 1


async def test_cancel_buys_nothing_and_the_old_confirmation_stays_dead(
    harness: Harness, offered: Offered
) -> None:
    user, confirm, words = offered.user, offered.confirm, offered.words
    data = confirm.callback_of(words.confirm)
    balance = harness.emulator.account(GOOD_KEY).balance
    await user.press(words.cancel, confirm)
    assert user.message(confirm.message_id).text == words.nothing
    query = await user.press_data(confirm.message_id, data)
    assert words.stale in (user.answer(query) or "")
    assert added(harness) == 0
    assert harness.emulator.account(GOOD_KEY).balance == balance


@pytest.mark.parametrize("kill", ["/cancel", "time"])
async def test_a_stale_confirmation_buys_nothing_and_says_so(
    harness: Harness, offered: Offered, kill: str
) -> None:
    user, confirm, words = offered.user, offered.confirm, offered.words
    if kill == "time":
        harness.emulator.advance(QUOTE_TTL + 1)
    else:
        await user.send(kill)
    query = await user.press(words.confirm, confirm)
    assert words.stale in (user.answer(query) or "")
    assert added(harness) == 0
    # In its place, a fresh confirmation: it buys.
    fresh = user.message(confirm.message_id)
    assert words.unpublished in fresh.text
    await user.press(words.confirm, fresh)
    assert added(harness) == 1
