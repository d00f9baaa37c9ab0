"""Buying numbers through the real dispatcher, the emulator and the worker."""

from __future__ import annotations

from decimal import Decimal
from typing import Literal

import pytest

from bot.keyboards.callbacks import ActAction, ActCallback, BuyConfirmCallback
from bot.sandbox.models import Activation
from bot.services.checkout import LOOK_AGAIN_AFTER
from bot.services.settlement import NOTHING_AFTER
from bot.storage.activations import State
from bot.texts import money
from tests.harness import GOOD_KEY, PROVIDER_URL, ChatUser, Harness

#: A generic provider ("mine", the emulator here) offers every feature: calls, several
#: services on one number, call forwarding.
GENERIC = pytest.mark.bot_settings(SMS_PROVIDERS=f"mine={PROVIDER_URL}")
SERVICE = "tg"
COUNTRY = 6  # Indonesia


async def connected(harness: Harness, language: str = "en") -> ChatUser:
    return await harness.connected(language)


def bought(harness: Harness) -> Activation:
    key_activations = list(harness.emulator.activations.values())
    assert key_activations, "nothing was bought"
    return key_activations[-1]


async def confirm_buy_button(user: ChatUser) -> str:
    """/buy with the service and country: the buy button of the confirmation it shows."""
    await user.send(f"/buy {SERVICE} {COUNTRY}")
    return user.last().button_starting("✅")


def purchases(harness: Harness) -> int:
    """How many times the provider was asked for a number."""
    return sum(1 for call in harness.emulator.calls if call.action.startswith("getNumber"))


async def buy_through_a_timeout(
    harness: Harness, when: Literal["before", "after"]
) -> tuple[ChatUser, str]:
    """A purchase whose answer times out ``when`` ("before"/"after") the provider acts on it;
    returns the user and the answer to their tap."""
    user = await connected(harness)
    buy_button = await confirm_buy_button(user)
    harness.emulator.faults.configure(
        rate=1.0, kinds=["timeout"], when=when, actions={"getNumber", "getNumberV2"}
    )
    query = await user.press(buy_button)
    return user, user.answer(query) or ""


async def buy_direct(harness: Harness, user: ChatUser) -> int:
    await user.press(await confirm_buy_button(user))
    activation = bought(harness)
    return activation.id


async def test_services_then_countries_then_confirm(harness: Harness):
    user = await connected(harness)
    await user.send("/buy")
    services = user.last()
    assert "Choose a service" in services.text
    assert services.button_texts[:2] == ["Telegram", "WhatsApp"]
    await user.press("Telegram")
    countries = user.last()
    assert countries.message_id == services.message_id  # edited in place
    assert "Telegram: choose a country" in countries.text
    first = countries.buttons[0][0][0]
    assert "·" in first  # flag, name, price, count
    await user.press(first)
    confirm = user.last()
    assert "Balance: 50.000 →" in confirm.text
    assert any(t.startswith("✅ Buy for") for t in confirm.button_texts)


def first_numbers(message) -> list[int]:
    """Stock counts shown on the country buttons of a page."""
    counts = []
    for row in message.buttons:
        label = row[0][0]
        if label.count("·") >= 2:
            counts.append(int(label.split("·")[2].strip().split()[0]))
    return counts


def first_prices(message) -> list[Decimal]:
    prices = []
    for row in message.buttons:
        label = row[0][0]
        if label.count("·") >= 2:
            prices.append(Decimal(label.split("·")[1].strip()))
    return prices


async def test_country_sorting_and_paging(harness: Harness):
    user = await connected(harness)
    await user.send("/buy tg")
    prices = first_prices(user.last())
    assert prices == sorted(prices)
    assert "✓ Price" in user.last().button_texts
    await user.press("Most numbers")
    assert "✓ Most numbers" in user.last().button_texts
    counts = first_numbers(user.last())
    assert counts == sorted(counts, reverse=True)
    assert "1/" in " ".join(user.last().button_texts)
    await user.press("▶")
    assert "2/" in " ".join(user.last().button_texts)
    assert max(first_numbers(user.last())) <= min(counts)


async def test_typed_service_search_in_russian(harness: Harness):
    user = await connected(harness, "ru")
    await user.send("/buy")
    await user.send_expecting("Телеграм", "Телеграм: выберите страну")


async def test_typed_search_with_nothing_found(harness: Harness):
    user = await connected(harness)
    await user.send("/buy")
    await user.send_expecting("zzzzqqq", "Nothing found for “zzzzqqq”")


async def test_typed_country_search(harness: Harness):
    user = await connected(harness)
    await user.send("/buy tg")
    await user.send_expecting("indonesia", "Indonesia")
    assert any(t.startswith("✅ Buy for") for t in user.last().button_texts)


async def test_power_user_shortcut_and_bad_arguments(harness: Harness):
    user = await connected(harness)
    await user.send_expecting("/buy tg 6", "Telegram", "Indonesia")
    await user.send_expecting("/buy tg six", "I do not know the country six.")
    await user.send_expecting("/buy tg 9999", "I do not know the country 9999.")
    await user.send_expecting("/buy nosuchservice 6", "I do not know the service")


async def test_full_activation_flow(harness: Harness):
    user = await connected(harness)
    activation_id = await buy_direct(harness, user)
    card = user.last()
    assert "Waiting for the SMS" in card.text
    assert f"+{harness.emulator.activations[activation_id].phone}" in card.text
    assert "Cancel" in card.button_texts
    assert harness.emulator.account(GOOD_KEY).balance < Decimal("50")

    harness.emulator.deliver_sms(activation_id, "Telegram code: 12345", code="12345")
    await harness.poll()
    push = user.last()
    assert "1 2 3 4 5" in push.text
    assert "Telegram cancels its own login codes" in push.text
    card = user.message(card.message_id)
    assert "Code received" in card.text
    assert card.button_texts[:2] == ["Finish", "Another code"]

    await user.press("Another code", card.message_id)
    card = user.message(card.message_id)
    assert "Waiting for another code" in card.text
    harness.emulator.deliver_sms(activation_id, "Telegram code: 67890", code="67890")
    await harness.poll()
    assert "6 7 8 9 0" in user.last().text
    # Each code was pushed once.
    pushes = [m.text for m in user.chat if "Code for Telegram" in m.text]
    assert len(pushes) == 2
    await harness.poll()
    assert len([m.text for m in user.chat if "Code for Telegram" in m.text]) == 2

    await user.press("Finish", card.message_id)
    card = user.message(card.message_id)
    assert "Finished." in card.text
    assert "Buy again" in card.button_texts
    record = await harness.resources.activations.find(user.id, activation_id)
    assert record is not None
    assert record.state is State.FINISHED
    assert not await harness.resources.schedule.is_followed(f"act:{record.ref}")


async def test_cancel_denied_then_refunded(harness: Harness):
    user = await connected(harness)
    activation_id = await buy_direct(harness, user)
    card = user.last()
    query = await user.press("Cancel", card.message_id)
    answer = user.answer(query)
    assert answer is not None
    assert "wait 120 s" in answer
    await harness.advance(121)
    balance_before = harness.emulator.account(GOOD_KEY).balance
    await user.press("Cancel", card.message_id)
    card = user.message(card.message_id)
    assert "Cancelled, the money is refunded." in card.text
    assert harness.emulator.account(GOOD_KEY).balance > balance_before
    assert harness.emulator.activations[activation_id].status is not None


async def test_expiry_refund_shown_on_the_card(harness: Harness):
    user = await connected(harness)
    await buy_direct(harness, user)
    card = user.last()
    await harness.advance(20 * 60 + 5)
    card = user.message(card.message_id)
    assert "Expired without a code, the money is refunded." in card.text
    assert harness.emulator.account(GOOD_KEY).balance == Decimal("50")


async def test_buy_again_repeats_the_options(harness: Harness):
    user = await connected(harness)
    await buy_direct(harness, user)
    card = user.last()
    await harness.advance(121)
    await user.press("Cancel", card.message_id)
    await user.press("Buy again", card.message_id)
    confirm = user.last()
    assert "Indonesia" in confirm.text
    assert any(t.startswith("✅ Buy for") for t in confirm.button_texts)


async def test_double_tap_buys_once(harness: Harness):
    user = await connected(harness)
    await user.send(f"/buy {SERVICE} {COUNTRY}")
    # The same confirmation again (a second device, a repeated callback): no second number.
    query = await user.tap_twice(user.last(), "✅")
    assert user.answer(query) == "Already bought: here it is."
    assert purchases(harness) == 1


async def test_ambiguous_purchase_is_found_in_the_active_list(harness: Harness):
    user, answer = await buy_through_a_timeout(harness, "after")
    assert "the number is yours" in answer
    assert "Waiting for the SMS" in user.last().text
    assert purchases(harness) == 1


async def test_ambiguous_purchase_with_nothing_bought(harness: Harness):
    user, _ = await buy_through_a_timeout(harness, "before")
    assert "I am checking whether it went through" in user.last().text
    assert not harness.emulator.activations
    harness.emulator.faults.clear()
    # The worker looks again; a minute after the tap it says so plainly.
    await harness.advance(LOOK_AGAIN_AFTER + 1)
    assert "nothing was charged" not in user.last().text
    await harness.advance(NOTHING_AFTER)
    assert "nothing was bought and nothing was charged" in user.last().text
    assert not harness.emulator.activations


@pytest.mark.parametrize("language", ["en", "ru"])
async def test_a_number_sold_behind_lost_answers_ends_on_a_card(harness: Harness, language: str):
    """The purchase's answer is lost and the active list fails too: the tap can only say
    "checking"; the worker finds the number, shows its card and pushes its code."""
    user = await connected(harness, language)
    buy_button = await confirm_buy_button(user)
    harness.emulator.faults.configure(
        rate=1.0,
        kinds=["timeout"],
        when="after",
        actions={"getNumber", "getNumberV2", "getActiveActivations"},
    )
    await user.press(buy_button)
    checking = {"en": "I am checking whether", "ru": "Проверяю, прошла ли"}[language]
    assert checking in user.last().text
    harness.emulator.faults.clear()
    [sold] = harness.emulator.activations.values()
    await harness.advance(LOOK_AGAIN_AFTER + 1)
    card = user.last()
    assert sold.phone[-4:] in card.text
    harness.emulator.deliver_sms(sold.id, "Telegram code: 51234")
    await harness.advance(5)
    assert "5 1 2 3 4" in user.last().text  # the code, pushed (spaced: see the push)
    assert len(harness.emulator.activations) == 1


@pytest.mark.parametrize(
    ("setup", "expected"),
    [
        ("no_balance", "Not enough money on your balance at HeroSMS"),
        ("no_numbers", "No numbers are available for this choice right now"),
    ],
)
async def test_purchase_errors(harness: Harness, setup: str, expected: str):
    user = await connected(harness)
    buy_button = await confirm_buy_button(user)
    if setup == "no_balance":
        harness.emulator.account(GOOD_KEY).balance = Decimal("0")
    else:
        harness.emulator.set_offer(COUNTRY, SERVICE, count=0)
    await user.press(buy_button)
    assert expected in user.last().text
    assert "Countries" in " ".join(user.last().button_texts)


async def test_wrong_max_price_offers_the_minimum(harness: Harness):
    user = await connected(harness)
    await user.send(f"/buy {SERVICE} {COUNTRY}")
    await user.press("Set a max price")
    await user.send_expecting("0.0001", "You pay at most 0.0001")
    buy_button = user.last().button_starting("✅")
    await user.press(buy_button)
    assert "below the lowest price" in user.last().text
    minimum = user.last().button_starting("Set max price to")
    await user.press(minimum)
    assert "You pay at most" in user.last().text
    buy_button = user.last().button_starting("✅")
    await user.press(buy_button)
    assert "Waiting for the SMS" in user.last().text


async def test_max_price_and_prefix_input_validation(harness: Harness):
    user = await connected(harness)
    await user.send(f"/buy {SERVICE} {COUNTRY}")
    await user.press("Set a max price")
    await user.send_expecting("cheap please", "That is not a price")
    await user.press("◀ Back")
    await user.press("Exclude prefixes")
    await user.send_expecting("62abc", "Those are not prefixes of this country")
    await user.send_expecting("62812, 62813", "Excluded prefixes: 62812, 62813")


async def test_operator_choice(harness: Harness):
    user = await connected(harness)
    await user.send("/buy tg 0")
    operator_button = user.last().button_starting("Operator:")
    await user.press(operator_button)
    choice = user.last().button_texts[1]
    await user.press(choice)
    assert f"Operator: {choice}" in user.last().text


async def test_forged_card_buttons_touch_nothing(harness: Harness):
    owner = await connected(harness)
    activation_id = await buy_direct(harness, owner)
    intruder = harness.user(first_name="Mallory")
    await harness.connect(intruder)
    await intruder.send("/help")
    calls_before = len(harness.emulator.calls)
    for action in (ActAction.CANCEL, ActAction.FINISH, ActAction.ANOTHER, ActAction.REFRESH):
        data = ActCallback(action=action, id=activation_id).pack()
        query = await intruder.press_data(intruder.last().message_id, data)
        assert intruder.answer(query) == "This is not one of your numbers."
    assert len(harness.emulator.calls) == calls_before
    query = await owner.press_data(owner.last().message_id, "a:zz:1")
    assert owner.answer(query) == "This button is out of date. Use the menu again."
    stale = BuyConfirmCallback(token="nonexistent-token").pack()
    query = await owner.press_data(owner.last().message_id, stale)
    assert "out of date" in (owner.answer(query) or "")


async def test_active_lists_activations_bought_elsewhere(harness: Harness):
    user = await connected(harness)
    await buy_direct(harness, user)
    # A number bought on the provider's site with the same key.
    reply = harness.emulator.handle(
        {"api_key": GOOD_KEY, "action": "getNumber", "service": "wa", "country": "6"}
    )
    assert reply.body.startswith("ACCESS_NUMBER")
    await user.send("/active")
    listing = user.last()
    assert "Your open activations" in listing.text
    assert len(listing.button_texts) == 2
    await user.press(listing.button_texts[-1])
    assert "Waiting for the SMS" in user.last().text


@pytest.mark.parametrize(
    ("language", "words"),
    [
        ("en", ("Telegram", "📩 code received", "⏳ waiting")),
        ("ru", ("Телеграм", "📩 код получен", "⏳ ожидание")),
    ],
)
async def test_codes_spaced_and_history_explained(
    harness: Harness, language: str, words: tuple[str, str, str]
):
    """/active and /history space Telegram codes as the push does; /history names the service,
    shows what an open activation cost (the provider says 0 until it ends) and its marks."""
    name, received, waiting = words
    user = await connected(harness, language)
    first = await buy_direct(harness, user)
    await buy_direct(harness, user)
    harness.emulator.deliver_sms(first, "Telegram code: 65327", code="65327")
    await harness.poll()
    await user.send("/active")
    assert "6 5 3 2 7" in user.last().text
    assert "65327" not in user.last().text
    await user.send("/history")
    history = user.last().text
    assert "6 5 3 2 7" in history
    assert "65327" not in history
    assert name in history
    assert " · 0.000 · " not in history
    paid = harness.emulator.activations[first].cost
    assert f" · {money(paid)} · " in history
    assert received in history
    assert waiting in history


async def test_active_and_history_turn_pages(harness: Harness):
    user = await connected(harness)
    for _ in range(11):  # one more than a page of each
        await buy_direct(harness, user)
    for command, page_two in (("/active", "+"), ("/history", "Your activations, page 2 of 2")):
        await user.send(command)
        listing = user.last()
        first_page = listing.text
        await user.press("▶", listing)
        turned = user.message(listing.message_id)
        assert turned.text != first_page
        assert page_two in turned.text
        await user.press("◀", listing)
        assert user.message(listing.message_id).text == first_page


async def test_history_and_prices(harness: Harness):
    user = await connected(harness)
    await buy_direct(harness, user)
    await user.send_expecting("/history", "Your activations, page 1")
    await user.send_expecting("/prices telegram", "Telegram: the cheapest countries")
    await user.send_expecting("/prices", "Which service?")


async def test_card_survives_a_restart(tmp_path):
    """State lives in Redis: a new dispatcher and worker keep driving the same card."""
    from fakeredis import FakeAsyncRedis

    from tests.harness import running_harness

    redis = FakeAsyncRedis()
    async with running_harness(tmp_path, redis=redis) as first:
        user = first.user()
        await first.connect(user)
        activation_id = await buy_direct(first, user)
        card_id = user.last().message_id
        server, emulator = first.server, first.emulator
    async with running_harness(tmp_path, redis=redis, server=server, emulator=emulator) as second:
        user = second.wrap(user.side)
        emulator.deliver_sms(activation_id, "Telegram code: 55555", code="55555")
        await second.poll()
        assert "5 5 5 5 5" in user.last().text
        await user.press("Finish", card_id)
        card = user.message(card_id)
        assert "Finished." in card.text


async def test_the_whole_flow_in_russian(harness: Harness):
    user = await connected(harness, "ru")
    await user.send_expecting("/buy", "Выберите сервис")
    await user.press("Телеграм")
    assert "Телеграм: выберите страну" in user.last().text
    assert "✓ Цена" in user.last().button_texts
    await user.press(user.last().buttons[0][0][0])
    confirm = user.last()
    assert "Баланс: 50.000 →" in confirm.text
    buy_button = confirm.button_starting("✅ Купить за")
    await user.press(buy_button)
    card = user.last()
    assert "Ждём SMS…" in card.text
    query = await user.press("Отмена", card.message_id)
    assert user.answer(query) == "Отменить можно через 2 минуты после покупки: подождите 120 с."
    activation_id = max(harness.emulator.activations)
    harness.emulator.deliver_sms(activation_id, "Telegram code: 13579", code="13579")
    await harness.poll()
    assert "Код для Телеграм" in user.last().text
    assert "Telegram аннулирует свои коды входа" in user.last().text
    await user.press("Ещё код", card.message_id)
    card = user.message(card.message_id)
    assert "Ждём ещё один код…" in card.text
    await user.press("Завершить", card.message_id)
    card = user.message(card.message_id)
    assert "Завершено." in card.text
    assert "Купить ещё раз" in card.button_texts


async def test_purchase_errors_in_russian(harness: Harness):
    user = await connected(harness, "ru")
    buy_button = await confirm_buy_button(user)
    harness.emulator.account(GOOD_KEY).balance = Decimal("0")
    await user.press(buy_button)
    assert "HeroSMS: на балансе недостаточно средств" in user.last().text
    await user.send_expecting("/buy tg six", "Не знаю страну six.")
    await user.send(f"/buy {SERVICE} {COUNTRY}")
    await user.press("Задать макс. цену")
    await user.send_expecting("дёшево", "Это не цена")


@GENERIC
async def test_call_verification_shows_the_caller(harness: Harness):
    """A generic provider offers every feature, call verification among them."""

    user = await harness.connected(provider="mine")
    await user.send(f"/buy {SERVICE} {COUNTRY}")
    await user.press("Call instead of SMS: off")
    assert "The code comes as an incoming call." in user.last().text
    buy_button = user.last().button_starting("✅")
    await user.press(buy_button)
    card = user.last()
    assert "wait for the ring" in card.text
    activation_id = max(harness.emulator.activations)
    assert harness.emulator.activations[activation_id].verification
    harness.emulator.deliver_call(activation_id, "79161234567")
    await harness.poll()
    card = user.message(card.message_id)
    assert "Call from +79161234567" in card.text
    assert "4 5 6 7" in user.last().text  # the code: the caller's last digits


@GENERIC
@pytest.mark.parametrize(
    ("language", "labels"),
    [
        ("en", ["Continue with 1 service", "Continue with 2 services"]),
        ("ru", ["Продолжить с 1 сервисом", "Продолжить с 2 сервисами"]),
    ],
)
async def test_counted_words_agree_with_the_count(
    harness: Harness, language: str, labels: list[str]
):
    user = await harness.connected(language, provider="mine")
    await user.send("/buy")
    await user.press(user.last().button_starting("➕"))
    for label in labels:
        await user.press(user.last().button_starting("☐"))  # the first service not picked yet
        assert f"✅ {label}" in user.last().button_texts


@GENERIC
async def test_several_services_on_one_number(harness: Harness):

    user = await harness.connected(provider="mine")
    await user.send("/buy")
    await user.press("➕ Several services on one number")
    await user.press("☐ Telegram")
    query = await user.press("✅ Continue with 1 service")
    assert user.answer(query) == "Pick at least two services."
    await user.press("☐ WhatsApp")
    assert "☑ Telegram" in user.last().button_texts
    await user.press("✅ Continue with 2 services")
    countries = user.last()
    assert "Telegram, WhatsApp: choose a country" in countries.text
    await user.press(countries.buttons[0][0][0])
    confirm = user.last()
    assert "Telegram, WhatsApp" in confirm.text
    assert "Set a max price" not in confirm.button_texts
    buy_button = confirm.button_starting("✅")
    await user.press(buy_button)
    card = user.last()
    assert "• Telegram: waiting for the SMS…" in card.text
    assert "• WhatsApp: waiting for the SMS…" in card.text
    bought = sorted(harness.emulator.activations.values(), key=lambda a: a.id)
    assert len(bought) == 2
    assert bought[0].phone == bought[1].phone
    tg = next(a for a in bought if a.service == "tg")
    wa = next(a for a in bought if a.service == "wa")
    harness.emulator.deliver_sms(tg.id, "Telegram code 11223", code="11223")
    harness.emulator.deliver_sms(wa.id, "WhatsApp code 445-566", code="445-566")
    await harness.poll()
    card = user.message(card.message_id)
    assert "• Telegram: code received — 1 1 2 2 3" in card.text
    assert "• WhatsApp: code received — 445-566" in card.text
    await user.press("Telegram: Finish", card.message_id)
    await user.press("WhatsApp: Finish", card.message_id)
    card = user.message(card.message_id)
    assert "• Telegram: ✅ finished" in card.text
    assert "• WhatsApp: ✅ finished" in card.text
    assert "Buy again" in card.button_texts


@GENERIC
async def test_call_forwarding_and_an_additional_service(harness: Harness):
    from bot.keyboards.callbacks import AdditionalCallback

    user = await harness.connected(provider="mine")
    await user.send("/buy ot 0")
    await user.press("Call forwarding: off")
    assert "With call forwarding" in user.last().text
    buy_button = user.last().button_starting("✅")
    await user.press(buy_button)
    card = user.last()
    parent_id = max(harness.emulator.activations)
    assert harness.emulator.activations[parent_id].forward
    harness.emulator.deliver_sms(parent_id, "Your code 5151", code="5151")
    await harness.poll()
    await user.press("Add a service", card.message_id)
    offer = user.last()
    assert "Which service should also use" in offer.text
    await user.press("Telegram", offer.message_id)
    assert "Add Telegram to" in user.message(offer.message_id).text
    await user.press("✅ Add Telegram", offer.message_id)
    assert "cannot add this service" in (user.side.callback_answers.popitem()[1].text or "")
    data = AdditionalCallback(id=parent_id, service="av").pack()
    await user.press_data(offer.message_id, data)
    query = await user.press(user.message(offer.message_id).button_starting("✅"), offer)
    assert user.answer(query) == "Bought!"
    added = max(harness.emulator.activations)
    assert added != parent_id
    assert (
        harness.emulator.activations[added].phone == harness.emulator.activations[parent_id].phone
    )
    assert "Waiting for the SMS" in user.message(offer.message_id).text
    # Another user cannot add services to this number.
    intruder = harness.user(first_name="Mallory")
    await intruder.send("/help")
    calls = len(harness.emulator.calls)
    query = await intruder.press_data(intruder.last().message_id, data)
    assert intruder.answer(query) == "This is not one of your numbers."
    assert len(harness.emulator.calls) == calls
