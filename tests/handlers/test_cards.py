"""Cards (activation, rent, mailbox): a countdown that stays true, every copy kept in step, and
an old card redrawn in the user's current language on the next tap."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from bot.storage.records import CARD_COPIES
from tests.faketg import ChatMessage
from tests.harness import MAIL_PROVIDERS, RENT_PROVIDERS, START, ChatUser, Harness

SERVICE, COUNTRY = "tg", 6  # Telegram, Indonesia: a 20-minute activation
#: The emulator's activations and mailboxes end 20 minutes after START (14:33:20 UTC): the
#: cards show it to the minute, cut rather than rounded up.
ENDS = datetime.fromtimestamp(START + 20 * 60, UTC).strftime("%H:%M UTC")
RENT = pytest.mark.bot_settings(SMS_PROVIDERS=RENT_PROVIDERS)
MAIL = pytest.mark.bot_settings(SMS_PROVIDERS=MAIL_PROVIDERS)

WORDS = {
    "en": {
        "until": f"Until {ENDS} · ",
        "left": "{} min left",
        "last": "less than a minute left",
        "code": "Code received",
        "finish": "Finish",
        "finished": "Finished.",
        "again": "Buy again",
        "refresh": "🔄 Refresh",
        "cancel": "Cancel",
        "rent_on": "Every SMS to this number comes here.",
        "rent_over": "The rent is over.",
        "mail_wait": "Waiting for a letter from apple.com…",
        "cancelled": "Cancelled, the money is refunded.",
    },
    "ru": {
        "until": f"До {ENDS} · ",
        "left": "осталось {} мин",
        "last": "осталось меньше минуты",
        "code": "Код получен",
        "finish": "Завершить",
        "finished": "Завершено.",
        "again": "Купить ещё раз",
        "refresh": "🔄 Обновить",
        "cancel": "Отмена",
        "rent_on": "Все SMS на этот номер приходят сюда.",
        "rent_over": "Аренда закончилась.",
        "mail_wait": "Ждём письмо от apple.com…",
        "cancelled": "Отменено, деньги возвращены.",
    },
}


async def buy(harness: Harness, user: ChatUser) -> ChatMessage:
    """A number bought with /buy; its card."""
    await user.send(f"/buy {SERVICE} {COUNTRY}")
    await user.press(user.last().button_starting("✅"))
    return user.last()


async def rent(user: ChatUser) -> ChatMessage:
    """A number rented for a day (the first country, the first service); its card."""
    await user.send("/rent 24")
    await user.press(user.last().buttons[0][0][0])
    await user.press(user.last().buttons[0][0][0])
    await user.press(user.last().button_starting("✅"))
    return user.last()


async def mailbox(user: ChatUser) -> ChatMessage:
    """An address bought with /mail; its card."""
    await user.send("/mail apple.com")
    await user.press(user.last().button_starting("gmail.com ·"))
    await user.press(user.last().button_starting("✅"))
    return user.last()


async def bought_in(harness: Harness, language: str) -> tuple[dict[str, str], ChatUser, int]:
    """The words of ``language``, a user speaking it, and the card of the number they bought."""
    user = await harness.connected(language)
    return WORDS[language], user, (await buy(harness, user)).message_id


def activation_id(harness: Harness) -> int:
    return list(harness.emulator.activations.values())[-1].id


async def reopen(user: ChatUser, command: str, label: str) -> ChatMessage:
    """The card again from a list (/active, /rents, /mails): a second copy."""
    await user.send(command)
    await user.press(user.last().button_starting(label))
    return user.last()


async def switch_language(user: ChatUser, name: str) -> None:
    await user.send("/language")
    await user.press(name)


# --- 5. the countdown ---


@pytest.mark.parametrize("language", ["en", "ru"])
async def test_the_card_shows_its_end_time_and_a_tap_refreshes_the_minutes(
    harness: Harness, language: str
):
    words, user, card = await bought_in(harness, language)
    assert words["until"] + words["left"].format(20) in countdown_line(user, card)
    # Between milestones the worker leaves the card alone: its end time is still true.
    await harness.advance(90)
    assert words["until"] + words["left"].format(20) in countdown_line(user, card)
    # Any tap redraws it as of now, even one that changes nothing (Cancel is refused so early).
    await user.press(words["cancel"], card)
    assert words["until"] + words["left"].format(19) in countdown_line(user, card)
    await harness.advance(60)
    await user.press(words["refresh"], card)
    assert words["until"] + words["left"].format(18) in countdown_line(user, card)


def countdown_line(user: ChatUser, card: int) -> str:
    return next(line for line in user.message(card).text.split("\n") if "⏳" in line)


@pytest.mark.parametrize("language", ["en", "ru"])
async def test_the_last_minutes_are_counted_within_a_minute(harness: Harness, language: str):
    words, user, card = await bought_in(harness, language)
    # With a code in, the worker polls about once a minute; it still wakes for each milestone.
    harness.emulator.deliver_sms(activation_id(harness), "Telegram code: 12345", code="12345")
    await harness.poll()
    await harness.advance(5 * 60 + 1)
    assert words["left"].format(15) in countdown_line(user, card)
    await harness.advance(5 * 60)
    assert words["left"].format(10) in countdown_line(user, card)
    # The last five minutes, minute by minute: never more than a minute off.
    await harness.advance(5 * 60)
    for left in (5, 4, 3, 2):
        assert words["until"] + words["left"].format(left) in countdown_line(user, card)
        await harness.advance(50)
        assert words["left"].format(left) in countdown_line(user, card)
        await harness.advance(10)
    assert words["until"] + words["last"] in countdown_line(user, card)


@RENT
async def test_a_rents_last_minutes_are_counted_minute_by_minute(harness: Harness):
    user = await harness.connected("ru", provider="SMS-Activate")
    card = (await rent(user)).message_id
    await harness.advance(24 * 3600 - 4 * 60 - 30)
    assert WORDS["ru"]["left"].format(5) in countdown_line(user, card)
    await harness.advance(60)
    assert WORDS["ru"]["left"].format(4) in countdown_line(user, card)


# --- 6. every copy in step ---


@pytest.mark.parametrize("language", ["en", "ru"])
async def test_a_card_reopened_from_active_and_the_original_stay_in_step(
    harness: Harness, language: str
):
    words, user, original = await bought_in(harness, language)
    copy = (await reopen(user, "/active", "+")).message_id
    assert copy != original
    # The worker's change (a code came) reaches both.
    harness.emulator.deliver_sms(activation_id(harness), "Telegram code: 12345", code="12345")
    await harness.poll()
    for card in (original, copy):
        assert words["code"] in user.message(card).text
        assert words["finish"] in user.message(card).button_texts
    # Finishing on the copy finishes the original too: neither offers Finish any more.
    await user.press(words["finish"], copy)
    for card in (original, copy):
        shown = user.message(card)
        assert words["finished"] in shown.text
        assert words["finish"] not in shown.button_texts
        assert words["again"] in shown.button_texts


async def test_a_deleted_copy_is_forgotten_and_copies_are_bounded(harness: Harness):
    user = await harness.connected()
    original = await buy(harness, user)
    copies = [await reopen(user, "/active", "+") for _ in range(CARD_COPIES + 1)]
    record = await harness.resources.activations.find(user.id, activation_id(harness))
    assert record is not None
    # The newest copies are kept; the oldest one is no longer edited.
    assert record.cards == [card.message_id for card in copies[-CARD_COPIES:]]
    assert record.card_message_id == copies[-1].message_id
    # The user deletes one copy: the next redraw forgets it, silently, and edits the others.
    gone = copies[-2]
    user.side.chat_state.messages[gone.message_id].deleted = True
    harness.emulator.deliver_sms(activation_id(harness), "Telegram code: 12345", code="12345")
    await harness.poll()
    record = await harness.resources.activations.find(user.id, activation_id(harness))
    assert record is not None
    assert gone.message_id not in record.cards
    assert len(record.cards) == CARD_COPIES - 1
    for card in copies[-CARD_COPIES:]:
        if card is not gone:
            assert "Code received" in user.message(card.message_id).text
    assert "Waiting for the SMS" in user.message(original.message_id).text
    # The original, tapped, is redrawn and followed again.
    await user.press("🔄 Refresh", original.message_id)
    assert "Code received" in user.message(original.message_id).text
    record = await harness.resources.activations.find(user.id, activation_id(harness))
    assert record is not None
    assert original.message_id in record.cards


#: Per kind: how it is bought, the list that reopens it and its items' label, what its card
#: says while open, the button that ends it, and what the card says then.
KINDS = {
    "rent": (rent, "/rents", "", "rent_on", "finish", "rent_over"),
    "mail": (mailbox, "/mails", "📧", "mail_wait", "cancel", "cancelled"),
}


@MAIL
@pytest.mark.parametrize("kind", ["rent", "mail"])
@pytest.mark.parametrize("language", ["en", "ru"])
async def test_rent_and_mailbox_cards_reopened_from_their_lists_stay_in_step(
    harness: Harness, kind: str, language: str
):
    words = WORDS[language]
    get, command, label, open_text, end, ended = KINDS[kind]
    user = await harness.connected(language, provider="SMS-Activate")
    original = await get(user)
    copy = await reopen(user, command, label)
    assert words[open_text] in copy.text
    harness.emulator.advance(121)  # past the first minutes, when cancelling may be refused
    await user.press(words[end], copy.message_id)
    for card in (original, copy):
        shown = user.message(card.message_id)
        assert words[ended] in shown.text
        assert words[end] not in shown.button_texts


# --- 20. an old card in the new language ---


async def test_an_old_activation_card_is_redrawn_in_the_new_language(harness: Harness):
    user = await harness.connected("en")
    original = await buy(harness, user)
    copy = await reopen(user, "/active", "+")
    await switch_language(user, "Русский")
    # Untouched, the cards keep their language; the first tap redraws them (both copies).
    assert "Waiting for the SMS" in user.message(original.message_id).text
    await user.press("Cancel", original.message_id)  # refused (too early), still redrawn
    for card in (original, copy):
        shown = user.message(card.message_id)
        assert "Ждём SMS…" in shown.text
        assert "Отмена" in shown.button_texts
    await switch_language(user, "English")
    await user.press("🔄 Обновить", copy.message_id)
    assert "Waiting for the SMS…" in user.message(original.message_id).text


@RENT
async def test_an_old_rent_card_is_redrawn_in_the_new_language(harness: Harness):
    user = await harness.connected("ru", provider="SMS-Activate")
    card = await rent(user)
    assert "Все SMS на этот номер приходят сюда." in card.text
    await switch_language(user, "English")
    await user.press("Продлить", card.message_id)  # the extension dialog is another message
    shown = user.message(card.message_id)
    assert "Every SMS to this number comes here." in shown.text
    assert "Extend" in shown.button_texts


@MAIL
async def test_an_old_mailbox_card_is_redrawn_in_the_new_language(harness: Harness):
    user = await harness.connected("en", provider="SMS-Activate")
    card = await mailbox(user)
    assert WORDS["en"]["until"] + WORDS["en"]["left"].format(20) in card.text
    await switch_language(user, "Русский")
    await user.press("🔄 Refresh", card.message_id)
    shown = user.message(card.message_id)
    assert WORDS["ru"]["mail_wait"] in shown.text
    assert WORDS["ru"]["until"] + WORDS["ru"]["left"].format(20) in shown.text
