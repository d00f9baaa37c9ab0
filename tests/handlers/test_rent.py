"""Renting numbers through the real dispatcher, the emulator and the worker, in both languages."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pytest

from bot.keyboards.callbacks import (
    RentBuyAction,
    RentBuyCallback,
    RentCallback,
    RentCardAction,
    RentExtendAction,
    RentExtendCallback,
)
from bot.sandbox.models import Rent as EmulatedRent
from bot.sandbox.models import RentStatus
from bot.storage.rents import RentState
from tests.harness import GOOD_KEY, RENT_PROVIDERS, ChatUser, Harness, running_harness

pytestmark = pytest.mark.bot_settings(SMS_PROVIDERS=RENT_PROVIDERS)


async def connected(harness: Harness, language: str = "en", name: str = "Alice") -> ChatUser:
    return await harness.connected(language, name, provider="SMS-Activate")


def rented(harness: Harness) -> EmulatedRent:
    rents = list(harness.emulator.rents.values())
    assert rents, "nothing was rented"
    return rents[-1]


async def rent_direct(user: ChatUser, hours: int = 24, service: str = "Whole number") -> None:
    """/rent <hours>, the first country, the service, confirm."""
    await user.send(f"/rent {hours}")
    await user.press(user.last().buttons[0][0][0])
    await user.press(user.last().button_starting(service))
    await user.press(user.last().button_starting("✅"))


DURATIONS = {
    "en": ["4 h", "12 h", "1 day", "2 days", "3 days", "7 days", "14 days", "30 days"],
    "ru": ["4 ч", "12 ч", "1 день", "2 дня", "3 дня", "7 дней", "14 дней", "30 дней"],
}

LABELS = {
    "en": {
        "ask": "Rent a number: for how long?",
        "country": "1 day: choose the country",
        "service": "choose the service (price · numbers)",
        "whole": "Whole number",
        "duration": "Duration: 1 day",
        "balance": "Balance: 50.000 →",
        "rent": "✅ Rent for",
        "card_wait": "No SMS yet.",
        "card_left": "23 h 59 min left",
        "rented": "Rented!",
    },
    "ru": {
        "ask": "Аренда номера: на какой срок?",
        "country": "1 день: выберите страну",
        "service": "выберите сервис (цена · номеров)",
        "whole": "Весь номер",
        "duration": "Срок: 1 день",
        "balance": "Баланс: 50.000 →",
        "rent": "✅ Арендовать за",
        "card_wait": "SMS пока нет.",
        "card_left": "осталось 23 ч 59 мин",
        "rented": "Арендовано!",
    },
}


@pytest.mark.parametrize("language", ["en", "ru"])
async def test_duration_country_service_confirm_card(harness: Harness, language: str):
    words = LABELS[language]
    user = await connected(harness, language)
    await user.send("/rent")
    menu = user.last()
    assert words["ask"] in menu.text
    assert menu.button_texts[:8] == DURATIONS[language]
    await user.press(DURATIONS[language][2])
    countries = user.last()
    assert countries.message_id == menu.message_id  # edited in place
    assert words["country"] in countries.text
    await user.press(countries.buttons[0][0][0])
    services = user.last()
    assert words["service"] in services.text
    assert services.button_texts[0].startswith(words["whole"] + " · ")
    await user.press(services.button_texts[0])
    confirm = user.last()
    assert words["duration"] in confirm.text
    assert words["balance"] in confirm.text
    price = Decimal(confirm.button_starting(words["rent"]).split()[-1])
    query = await user.press(confirm.button_starting(words["rent"]))
    assert user.answer(query) == words["rented"]
    card = user.last()
    rent = rented(harness)
    assert card.message_id == menu.message_id
    assert f"+{rent.phone}" in card.text
    assert words["card_wait"] in card.text
    await harness.advance(60)
    assert words["card_left"] in user.message(card.message_id).text
    assert rent.service == "full"
    assert rent.cost == price
    assert harness.emulator.account(GOOD_KEY).balance == Decimal("50") - price


async def test_only_durations_the_provider_accepts(harness: Harness):
    harness.emulator.config.rent_durations = (24, 72, 168)
    user = await connected(harness)
    await user.send("/rent")
    assert user.last().button_texts == ["1 day", "3 days", "7 days", "✖ Cancel"]
    # A stale or forged duration button is refused without going on.
    stale = RentBuyCallback(action=RentBuyAction.DURATION, hours=4).pack()
    query = await user.press_data(user.last().message_id, stale)
    assert user.answer(query) == "This duration is not offered."


TYPED = {
    "en": {
        "nan": "That is not a number of hours. Send a whole number from 2 to 1344",
        "range": "A rent lasts 2 to 1344 hours",
        "refused": "SMS-Activate does not rent for 10 h. Choose one of the durations.",
        "ok": "2 days: choose the country",
    },
    "ru": {
        "nan": "Это не число часов. Отправьте целое число от 2 до 1344",
        "range": "Аренда длится от 2 до 1344 часов",
        "refused": "SMS-Activate не сдаёт номера на 10 ч. Выберите один из сроков.",
        "ok": "2 дня: выберите страну",
    },
}


@pytest.mark.parametrize("language", ["en", "ru"])
async def test_typed_hours(harness: Harness, language: str):
    words = TYPED[language]
    user = await connected(harness, language)
    await user.send("/rent")
    await user.send_expecting("a day please", words["nan"])
    await user.send_expecting("5000", words["range"])
    await user.send_expecting("1", words["range"])
    await user.send_expecting("10", words["refused"])
    await user.send_expecting("48", words["ok"])


async def test_rent_command_shortcut_and_bad_arguments(harness: Harness):
    user = await connected(harness)
    await user.send_expecting("/rent 72", "3 days: choose the country")
    await user.send_expecting("/rent week", "That is not a number of hours")
    await user.send("/rent 10")
    assert "does not rent for 10 h" in user.texts()[-2]
    assert "Rent a number: for how long?" in user.last().text


async def test_typed_country_and_operator_choice(harness: Harness):
    user = await connected(harness)
    await user.send("/rent 24")
    await user.send("russ")
    services = user.last()
    assert "Russia · 1 day: choose the service" in services.text
    await user.send_expecting("zzz", "No rent service here matches “zzz”")
    await user.press(services.button_starting("Telegram"), services)
    assert "Operator: any" in user.message(services.message_id).text
    await user.press("Operator: any", services)
    choice = user.message(services.message_id).button_texts[1]
    await user.press(choice, services)
    confirm = user.message(services.message_id)
    assert f"Operator: {choice}" in confirm.text
    await user.press(confirm.button_starting("✅"), services)
    assert rented(harness).operator == choice
    assert rented(harness).service == "tg"


async def test_typed_country_that_matches_nothing(harness: Harness):
    user = await connected(harness)
    await user.send("/rent 24")
    await user.send_expecting("Atlantis", "No rent country matches “Atlantis”")


RENT_ERRORS = {
    "en": {
        "no_balance": "Not enough money on your balance at SMS-Activate",
        "no_numbers": "No numbers are available for this choice right now",
    },
    "ru": {
        "no_balance": "SMS-Activate: на балансе недостаточно средств",
        "no_numbers": "Сейчас нет номеров для этого выбора",
    },
}


@pytest.mark.parametrize("language", ["en", "ru"])
@pytest.mark.parametrize("setup", ["no_balance", "no_numbers"])
async def test_rent_refused(harness: Harness, language: str, setup: str):
    user = await connected(harness, language)
    await user.send("/rent 24")
    await user.press(user.last().buttons[0][0][0])
    await user.press(user.last().button_texts[0])
    if setup == "no_balance":
        harness.emulator.account(GOOD_KEY).balance = Decimal("0.01")
    else:
        for offer in harness.emulator.world.market.rent_offers.values():
            offer.count = 0
    await user.press(user.last().button_starting("✅"))
    assert RENT_ERRORS[language][setup] in user.last().text
    assert not harness.emulator.rents
    # The same confirmation may be tried again once the cause is gone.
    harness.emulator.add_account(GOOD_KEY, balance=Decimal("50"))
    for offer in harness.emulator.world.market.rent_offers.values():
        offer.count = 10
    await user.press(user.last().button_texts[0])  # back to the services
    await user.press(user.last().button_texts[0])
    await user.press(user.last().button_starting("✅"))
    assert len(harness.emulator.rents) == 1


async def test_double_tap_rents_once(harness: Harness):
    user = await connected(harness)
    await user.send("/rent 24")
    await user.press(user.last().buttons[0][0][0])
    await user.press(user.last().button_texts[0])
    query = await user.tap_twice(user.last(), "✅")
    assert user.answer(query) == "Already bought: here it is."
    assert len([c for c in harness.emulator.calls if c.action == "getRentNumber"]) == 1


async def test_lost_answer_is_found_in_the_rent_list(harness: Harness):
    user = await connected(harness)
    await user.send("/rent 24")
    await user.press(user.last().buttons[0][0][0])
    await user.press(user.last().button_texts[0])
    harness.emulator.faults.configure(
        rate=1.0, kinds=["timeout"], when="after", actions={"getRentNumber"}
    )
    query = await user.press(user.last().button_starting("✅"))
    assert "the number is yours" in (user.answer(query) or "")
    assert f"+{rented(harness).phone}" in user.last().text
    assert len([c for c in harness.emulator.calls if c.action == "getRentNumber"]) == 1


@pytest.mark.parametrize("language", ["en", "ru"])
async def test_lost_answer_with_nothing_rented(harness: Harness, language: str):
    user = await connected(harness, language)
    await user.send("/rent 24")
    await user.press(user.last().buttons[0][0][0])
    await user.press(user.last().button_texts[0])
    confirm = user.last()
    harness.emulator.faults.configure(
        rate=1.0, kinds=["timeout"], when="before", actions={"getRentNumber"}
    )
    rent_button = confirm.button_starting("✅")
    data = confirm.callback_of(rent_button)
    await user.press(rent_button)
    expected = {
        "en": "I am checking whether it went through",
        "ru": "Проверяю, прошла ли она",
    }[language]
    assert expected in user.last().text
    assert not harness.emulator.rents
    # The ambiguous confirmation is never carried out again.
    harness.emulator.faults.clear()
    await user.press_data(confirm.message_id, data)
    assert not harness.emulator.rents


@pytest.mark.parametrize("language", ["en", "ru"])
async def test_provider_without_rent(tmp_path: Path, language: str):
    async with running_harness(tmp_path) as harness:
        user = harness.user(language_code=language)
        await harness.connect(user)
        await user.send("/rent")
        expected = {
            "en": "HeroSMS does not rent numbers. /buy works with it.",
            "ru": "HeroSMS не сдаёт номера в аренду. /buy с ним работает.",
        }[language]
        assert user.last().text == expected
        assert not [c for c in harness.emulator.calls if "Rent" in c.action]


FLOW_CANCEL = {
    "en": (
        "✖ Cancel",
        "Nothing was rented. /rent starts again.",
        "This menu is out of date. Start again with /rent.",
        "This confirmation is out of date. Start again with /rent.",
    ),
    "ru": (
        "✖ Отмена",
        "Ничего не арендовано. /rent — начать заново.",
        "Это меню устарело. Начните заново: /rent.",
        "Это подтверждение устарело. Начните заново: /rent.",
    ),
}


@pytest.mark.parametrize("language", ["en", "ru"])
async def test_cancelling_the_flow_and_stale_buttons(harness: Harness, language: str):
    cancel, cancelled, stale_menu, stale_confirm = FLOW_CANCEL[language]
    user = await connected(harness, language)
    await user.send("/rent")
    await user.press(cancel)
    assert user.last().text == cancelled
    stale = RentBuyCallback(action=RentBuyAction.COUNTRY, country=0).pack()
    query = await user.press_data(user.last().message_id, stale)
    assert user.answer(query) == stale_menu
    stale = RentBuyCallback(action=RentBuyAction.CONFIRM, token="no-such-token").pack()
    query = await user.press_data(user.last().message_id, stale)
    assert user.answer(query) == stale_confirm
    assert not harness.emulator.rents


# --- the card ---


CARD = {
    "en": {
        "push": "SMS to +{phone} from SPORTMASTER, 2026-09-21",
        "count": "SMS received: 2",
        "finished": "Finished.",
        "over": "The rent is over.",
        "cancelled": "Cancelled, the money is refunded.",
        "cant": "It can no longer be cancelled: the cancel window has passed.",
    },
    "ru": {
        "push": "SMS на +{phone} от SPORTMASTER, 2026-09-21",
        "count": "Получено SMS: 2",
        "finished": "Завершено.",
        "over": "Аренда закончилась.",
        "cancelled": "Отменено, деньги возвращены.",
        "cant": "Отменить уже нельзя: время для отмены прошло.",
    },
}


@pytest.mark.parametrize("language", ["en", "ru"])
async def test_sms_pushed_once_each_in_order_then_finish(harness: Harness, language: str):
    words = CARD[language]
    user = await connected(harness, language)
    await rent_direct(user, service=LABELS[language]["whole"])
    card = user.last()
    rent = rented(harness)
    harness.emulator.deliver_rent_sms(rent.id, "Your code 2792. Do not share", "SPORTMASTER")
    harness.emulator.advance(30)
    harness.emulator.deliver_rent_sms(rent.id, "Код 55-10 нет; код: 118822", "Bank")
    await harness.poll()
    pushes = [m for m in user.chat if m.reply_to_message_id == card.message_id]
    assert len(pushes) == 2
    assert words["push"].format(phone=rent.phone) in pushes[0].text
    assert "<code>2792</code>" in pushes[0].html
    assert "<code>118822</code>" in pushes[1].html
    await harness.poll()
    await harness.advance(60)
    assert len([m for m in user.chat if m.reply_to_message_id == card.message_id]) == 2
    shown = user.message(card.message_id)
    assert words["count"] in shown.text
    assert shown.text.index("SPORTMASTER") < shown.text.index("Bank")

    query = await user.press(shown.button_starting({"en": "Finish", "ru": "Завершить"}[language]))
    assert user.answer(query) == words["finished"]
    shown = user.message(card.message_id)
    assert words["over"] in shown.text
    assert rent.status is RentStatus.FINISHED
    record = await harness.resources.rents.find(user.id, rent.id)
    assert record is not None
    assert record.state is RentState.FINISHED
    await harness.poll()
    assert not await harness.resources.schedule.is_followed(f"rent:{record.ref}")


async def test_telegram_codes_are_spaced_in_a_rented_numbers_sms(harness: Harness):
    """Telegram voids a login code posted in a chat, links that carry it included."""
    user = await connected(harness)
    await rent_direct(user)
    card = user.last()
    rent = rented(harness)
    text = "Telegram code: 24680. Or log in at t.me/login/24680"
    harness.emulator.deliver_rent_sms(rent.id, text, "Telegram")
    await harness.poll()
    push = next(m for m in user.chat if m.reply_to_message_id == card.message_id)
    assert "24680" not in push.text
    assert "<code>2 4 6 8 0</code>" in push.html
    assert "t.me/login/2 4 6 8 0" in push.text
    assert "24680" not in user.message(card.message_id).text


@pytest.mark.parametrize("language", ["en", "ru"])
async def test_cancel_inside_the_window_refunds(harness: Harness, language: str):
    user = await connected(harness, language)
    await rent_direct(user, service=LABELS[language]["whole"])
    card = user.last()
    cancel = {"en": "Cancel", "ru": "Отмена"}[language]
    query = await user.press(cancel, card.message_id)
    assert user.answer(query) == CARD[language]["cancelled"]
    assert harness.emulator.account(GOOD_KEY).balance == Decimal("50")
    assert cancel not in user.message(card.message_id).button_texts


@pytest.mark.parametrize("language", ["en", "ru"])
async def test_cant_cancel_is_explained(harness: Harness, language: str):
    user = await connected(harness, language)
    await rent_direct(user, service=LABELS[language]["whole"])
    card = user.last()
    rent = rented(harness)
    # The card was drawn inside the window; the provider decides when it is pressed.
    harness.emulator.clock.advance(21 * 60)
    data = RentCallback(action=RentCardAction.CANCEL, id=rent.id).pack()
    query = await user.press_data(card.message_id, data)
    assert user.answer(query) == CARD[language]["cant"]
    assert rent.status is RentStatus.ACTIVE
    cancel = {"en": "Cancel", "ru": "Отмена"}[language]
    assert cancel not in user.message(card.message_id).button_texts


async def test_refresh_and_already_closed(harness: Harness):
    user = await connected(harness)
    await rent_direct(user)
    card = user.last()
    rent = rented(harness)
    harness.emulator.deliver_rent_sms(rent.id, "code 4321", "Info")
    query = await user.press("🔄 Refresh", card.message_id)
    assert user.answer(query) == "Updated."
    assert "code 4321" in user.message(card.message_id).text
    # Finished at the provider's site: the card's Finish meets ALREADY_FINISH.
    harness.emulator.handle(
        {"api_key": GOOD_KEY, "action": "setRentStatus", "id": str(rent.id), "status": "1"}
    )
    query = await user.press("Finish", card.message_id)
    assert user.answer(query) == "This is already closed."
    assert "The rent is over." in user.message(card.message_id).text
    await harness.poll()
    assert len([m for m in user.chat if "code 4321" in m.text]) == 2  # the card and one push


# --- extending ---


EXTEND = {
    "en": {
        "ask": "Extend +{phone}: for how long?",
        "quote": "Extend +{phone} by 12 h.",
        "new_end": "New end: 2026-09-23 02:13 UTC",
        "done": "Extended: +{phone} is yours until 2026-09-23 02:13 UTC.",
        "answer": "Extended.",
        "max": "That is longer than allowed: at most 1320 hours.",
        "max_button": "Extend by 55 d",
    },
    "ru": {
        "ask": "Продлить +{phone}: на какой срок?",
        "quote": "Продлить +{phone} на 12 ч.",
        "new_end": "Новое окончание: 2026-09-23 02:13 UTC",
        "done": "Продлено: +{phone} ваш до 2026-09-23 02:13 UTC.",
        "answer": "Продлено.",
        "max": "Это дольше допустимого: максимум 1320 часов.",
        "max_button": "Продлить на 55 дн.",
    },
}


@pytest.mark.parametrize("language", ["en", "ru"])
async def test_extend_moves_the_end_time(harness: Harness, language: str):
    words = EXTEND[language]
    user = await connected(harness, language)
    await rent_direct(user, hours=24, service=LABELS[language]["whole"])
    card = user.last()
    rent = rented(harness)
    ends = rent.end_at
    await user.press({"en": "Extend", "ru": "Продлить"}[language], card.message_id)
    menu = user.last()
    assert words["ask"].format(phone=rent.phone) in menu.text
    await user.press({"en": "12 h", "ru": "12 ч"}[language])
    quote = user.last()
    assert quote.message_id == menu.message_id
    assert words["quote"].format(phone=rent.phone) in quote.text
    assert words["new_end"] in quote.text
    confirm = quote.button_starting("✅")
    data = quote.callback_of(confirm)
    query = await user.press(confirm)
    assert user.answer(query) == words["answer"]
    assert words["done"].format(phone=rent.phone) in user.last().text
    assert rent.end_at == ends + 12 * 3600
    assert "2026-09-23 02:13 UTC" in user.message(card.message_id).text
    # The same confirmation again extends nothing more.
    query = await user.press_data(quote.message_id, data)
    assert rent.end_at == ends + 12 * 3600
    assert len([c for c in harness.emulator.calls if c.action == "continueRentNumber"]) == 1


@pytest.mark.parametrize("language", ["en", "ru"])
async def test_extend_beyond_the_maximum_offers_it(harness: Harness, language: str):
    words = EXTEND[language]
    user = await connected(harness, language)
    await rent_direct(user, hours=24, service=LABELS[language]["whole"])
    card = user.last()
    await user.press({"en": "Extend", "ru": "Продлить"}[language], card.message_id)
    await user.send_expecting("1344", words["max"])
    await user.press(words["max_button"])
    assert user.last().button_starting("✅")
    await user.send_expecting("2x", TYPED[language]["nan"])


async def test_extend_without_a_price_action_uses_the_list_price(tmp_path: Path):
    # A provider whose getContinueRentPriceNumber is not offered: the price list is the guide.
    from bot.provider.presets import PRESETS, Feature, ProviderPreset

    preset = PRESETS["sms-activate"]
    trimmed = ProviderPreset(
        name=preset.name,
        title=preset.title,
        url=preset.url,
        features=preset.features - {Feature.RENT_PRICE},
    )
    PRESETS["sms-activate"] = trimmed
    try:
        async with running_harness(tmp_path, SMS_PROVIDERS=RENT_PROVIDERS) as harness:
            user = await connected(harness)
            await rent_direct(user, hours=24)
            await user.press("Extend", user.last().message_id)
            await user.press("1 day")
            assert "Price: about" in user.last().text
            assert not [
                c for c in harness.emulator.calls if c.action == "getContinueRentPriceNumber"
            ]
            await user.press(user.last().button_starting("✅"))
            assert "Extended: +" in user.last().text
    finally:
        PRESETS["sms-activate"] = preset


@pytest.mark.parametrize("language", ["en", "ru"])
async def test_cancelled_rent_cannot_be_extended(harness: Harness, language: str):
    user = await connected(harness, language)
    await rent_direct(user, service=LABELS[language]["whole"])
    card = user.last()
    await user.press({"en": "Cancel", "ru": "Отмена"}[language], card.message_id)
    assert len(user.message(card.message_id).button_texts) == 0
    data = RentCallback(action=RentCardAction.EXTEND, id=rented(harness).id).pack()
    query = await user.press_data(card.message_id, data)
    assert (
        user.answer(query)
        == {
            "en": "This rent cannot be extended: it was cancelled or taken back.",
            "ru": "Эту аренду нельзя продлить: она отменена или номер отозван.",
        }[language]
    )


async def test_extension_dialog_cancel_and_other_duration(harness: Harness):
    user = await connected(harness)
    await rent_direct(user)
    await user.press("Extend", user.last().message_id)
    await user.press("4 h")
    await user.press("◀ Other duration")
    assert "for how long?" in user.last().text
    await user.press("✖ Cancel")
    assert user.last().text == "Nothing was extended."
    assert not [c for c in harness.emulator.calls if c.action == "continueRentNumber"]


# --- security ---


@pytest.mark.parametrize("language", ["en", "ru"])
async def test_forged_buttons_touch_nothing(harness: Harness, language: str):
    owner = await connected(harness)
    await rent_direct(owner)
    rent = rented(harness)
    intruder = await connected(harness, language, name="Mallory")
    await intruder.send("/help")
    calls_before = len(harness.emulator.calls)
    forged = [
        RentCallback(action=action, id=rent.id).pack()
        for action in (
            RentCardAction.FINISH,
            RentCardAction.CANCEL,
            RentCardAction.EXTEND,
            RentCardAction.REFRESH,
            RentCardAction.SHOW,
        )
    ]
    forged += [
        RentExtendCallback(action=RentExtendAction.HOURS, id=rent.id, hours=12).pack(),
        RentExtendCallback(action=RentExtendAction.CONFIRM, id=rent.id, token="x").pack(),
    ]
    for data in forged:
        query = await intruder.press_data(intruder.last().message_id, data)
        assert (
            intruder.answer(query)
            == {
                "en": "This is not one of your numbers.",
                "ru": "Это не ваш номер.",
            }[language]
        )
    assert len(harness.emulator.calls) == calls_before
    assert rent.status is RentStatus.ACTIVE
    query = await owner.press_data(owner.last().message_id, "r:zz:1")
    assert owner.answer(query) == "This button is out of date. Use the menu again."


# --- the list ---


@pytest.mark.parametrize("language", ["en", "ru"])
async def test_rents_lists_the_bots_and_the_providers_rents(harness: Harness, language: str):
    user = await connected(harness, language)
    await user.send("/rents")
    assert (
        user.last().text
        == {
            "en": "You have no rents. /rent a number?",
            "ru": "У вас нет аренд. Арендовать номер: /rent",
        }[language]
    )
    await rent_direct(user, service=LABELS[language]["whole"])
    mine = rented(harness)
    # A number rented on the provider's site with the same key, with an SMS already read there.
    reply = harness.emulator.handle(
        {"api_key": GOOD_KEY, "action": "getRentNumber", "service": "vk", "country": "0"}
    )
    assert '"status":"success"' in reply.body.replace(" ", "")
    outside = rented(harness)
    harness.emulator.deliver_rent_sms(outside.id, "old news 1111", "VK")
    await user.send("/rents")
    listing = user.last()
    assert {"en": "Your rents:", "ru": "Ваши аренды:"}[language] in listing.text
    assert f"+{mine.phone}" in listing.text
    assert f"+{outside.phone}" in listing.text
    assert len(listing.button_texts) == 2
    await user.press(next(t for t in listing.button_texts if outside.phone in t))
    card = user.last()
    assert {"en": "Rented outside the bot.", "ru": "Арендован не через бота."}[
        language
    ] in card.text
    assert "old news 1111" in card.text
    await harness.poll()
    assert not [m for m in user.chat if "old news" in m.text and m.message_id != card.message_id]
