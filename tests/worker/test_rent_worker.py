"""Following rents on the emulator's clock: SMS pushed once, the cancel window, extensions
(also re-ordering a finished rent under a new id), the end-of-rent reminder, webhooks."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pytest

from bot.keyboards.callbacks import RentCallback, RentCardAction
from bot.sandbox.models import Rent as EmulatedRent
from bot.sandbox.models import RentStatus
from bot.services.rent_rules import CANCEL_WINDOW, member
from bot.storage.rents import Rent, RentState
from bot.worker.rents import next_poll
from tests.handlers.test_rent import connected, rent_direct, rented
from tests.harness import GOOD_KEY, RENT_PROVIDERS, ChatUser, Harness, running_harness
from tests.records import rent_record

pytestmark = pytest.mark.bot_settings(SMS_PROVIDERS=RENT_PROVIDERS)

HOUR = 3600


async def new_rent(harness: Harness, hours: int) -> tuple[ChatUser, int, EmulatedRent]:
    """A connected user who has just rented a number: the user, their card's id, the rent."""
    user = await connected(harness)
    await rent_direct(user, hours=hours)
    return user, user.last().message_id, rented(harness)


def pushes(user: ChatUser, card_id: int) -> list[str]:
    return [m.text for m in user.chat if m.reply_to_message_id == card_id and "SMS to" in m.text]


def reminders(user: ChatUser) -> list[str]:
    return [m.text for m in user.chat if m.from_bot and "Extend it to keep the number" in m.text]


async def record_of(harness: Harness, user: ChatUser, rent_id: int) -> Rent:
    record = await harness.resources.rents.find(user.id, rent_id)
    assert record is not None
    return record


async def test_sms_arriving_over_time_are_pushed_once_each_in_order(harness: Harness):
    user, card_id, rent = await new_rent(harness, hours=4)
    for minute, sender in ((3, "Bank"), (50, "SPORTMASTER"), (170, "79180230628")):
        harness.emulator.advance(minute * 60 - (harness.emulator.clock.now() - rent.created_at))
        harness.emulator.deliver_rent_sms(rent.id, f"{sender} code {1000 + minute}", sender)
        await harness.poll()
        await harness.poll()
    texts = pushes(user, card_id)
    assert len(texts) == 3
    assert [t.split(" from ")[1].split(",")[0] for t in texts] == [
        "Bank",
        "SPORTMASTER",
        "79180230628",
    ]
    assert "2026-09-21 14:16 UTC" in texts[0]  # when the provider says it came, in UTC
    assert "SMS received: 3" in user.message(card_id).text


async def test_more_sms_than_one_page_are_all_pushed(harness: Harness):
    # The 2025 API pages getRentStatus by default (10 per page, newest first).
    harness.emulator.config.json_style = "modern"
    user, card_id, rent = await new_rent(harness, hours=4)
    for index in range(12):
        harness.emulator.advance(5)
        harness.emulator.deliver_rent_sms(rent.id, f"message number {index}", f"S{index}")
    await harness.poll()
    texts = pushes(user, card_id)
    assert [t.split("\n")[1] for t in texts] == [f"message number {i}" for i in range(12)]
    pages = [c.params.get("page") for c in harness.emulator.calls if c.action == "getRentStatus"]
    assert "2" in pages
    harness.emulator.deliver_rent_sms(rent.id, "message number 12", "S12")
    await harness.advance(30)
    assert len(pushes(user, card_id)) == 13


async def test_cancel_button_only_inside_the_window(harness: Harness):
    user = await connected(harness)
    await rent_direct(user, hours=4)
    card_id = user.last().message_id
    assert "Cancel" in user.message(card_id).button_texts
    assert "Cancel with a refund until 2026-09-21 14:33 UTC." in user.message(card_id).text
    await harness.advance(19 * 60)
    assert "Cancel" in user.message(card_id).button_texts
    await harness.advance(61)
    card = user.message(card_id)
    assert "Cancel" not in card.button_texts
    assert "Cancel with a refund" not in card.text
    assert card.button_texts[:2] == ["Finish", "Extend"]
    rent = rented(harness)
    query = await user.press_data(
        card_id, RentCallback(action=RentCardAction.CANCEL, id=rent.id).pack()
    )
    assert user.answer(query) == "It can no longer be cancelled: the cancel window has passed."
    assert rent.status is RentStatus.ACTIVE


async def test_reminder_once_per_end_time_and_again_after_extension(harness: Harness):
    user, card_id, rent = await new_rent(harness, hours=4)
    await harness.advance(3 * HOUR - 60)
    assert reminders(user) == []
    await harness.advance(61)
    assert len(reminders(user)) == 1
    assert "ends at 2026-09-21 18:13 UTC (1 h 0 min left)" in reminders(user)[0]
    await harness.advance(600)
    await harness.advance(600)
    assert len(reminders(user)) == 1

    reminder = next(m for m in user.chat if m.text == reminders(user)[0])
    assert reminder.reply_to_message_id == card_id
    await user.press("Extend", reminder)
    await user.press("12 h")
    await user.press(user.last().button_starting("✅"))
    assert rent.end_at == rent.created_at + 16 * HOUR
    assert "Until 2026-09-22 06:13 UTC" in user.message(card_id).text
    await harness.advance(11 * HOUR)
    assert len(reminders(user)) == 1
    await harness.advance(50 * 60)
    assert len(reminders(user)) == 2
    assert "ends at 2026-09-22 06:13 UTC" in reminders(user)[1]


async def test_no_reminder_when_switched_off(tmp_path: Path):
    async with running_harness(tmp_path, SMS_PROVIDERS=RENT_PROVIDERS, RENT_REMINDER=0) as harness:
        user = await connected(harness)
        await rent_direct(user, hours=4)
        for _ in range(5):
            await harness.advance(HOUR - 10)
        assert reminders(user) == []


async def test_finished_rent_extended_is_reordered_and_the_card_follows(harness: Harness):
    user, card_id, old = await new_rent(harness, hours=4)
    await harness.advance(4 * HOUR + 5)
    card = user.message(card_id)
    assert "The rent is over." in card.text
    assert card.button_texts == ["Extend"]
    record = await record_of(harness, user, old.id)
    assert record.state is RentState.FINISHED
    assert not await harness.resources.schedule.is_followed(member(record.ref))

    await user.press("Extend", card_id)
    assert "The rent is over: extending rents the same number again" in user.last().text
    await user.press("1 day")
    assert "this rents the same number again, from now" in user.last().text
    query = await user.press(user.last().button_starting("✅"))
    assert user.answer(query) == "Rented again: the card follows the new order."
    new = rented(harness)
    assert new.id != old.id
    assert new.phone == old.phone
    assert new.previous_id == old.id

    # The record, its index entry and the schedule moved to the new id; the card stayed.
    assert await harness.resources.rents.get(record.ref) is None
    moved = await record_of(harness, user, new.id)
    assert moved.card_message_id == card_id
    assert moved.previous_ids == [old.id]
    assert moved.state is RentState.ACTIVE
    assert await harness.resources.schedule.is_followed(member(moved.ref))
    assert not await harness.resources.schedule.is_followed(member(record.ref))
    card = user.message(card_id)
    assert "Every SMS to this number comes here." in card.text
    assert any(f":{new.id}" in data for row in card.buttons for _, data in row)
    # Buttons sent before the move still reach the rent.
    assert (await record_of(harness, user, old.id)).id == new.id

    harness.emulator.deliver_rent_sms(new.id, "after the renewal 7777", "Info")
    await harness.poll()
    assert any("after the renewal 7777" in text for text in pushes(user, card_id))
    await user.press("Finish", card_id)
    assert new.status is RentStatus.FINISHED


async def test_lost_answer_to_a_renewal_is_found_in_the_rent_list(harness: Harness):
    user, card_id, old = await new_rent(harness, hours=4)
    await harness.advance(4 * HOUR + 5)
    await user.press("Extend", card_id)
    await user.press("4 h")
    harness.emulator.faults.configure(
        rate=1.0, kinds=["timeout"], when="after", actions={"continueRentNumber"}
    )
    query = await user.press(user.last().button_starting("✅"))
    assert user.answer(query) == "Rented again: the card follows the new order."
    new = rented(harness)
    assert new.id != old.id
    assert (await record_of(harness, user, new.id)).previous_ids == [old.id]
    assert len([c for c in harness.emulator.calls if c.action == "continueRentNumber"]) == 1


async def test_lost_answer_to_an_extension_is_never_repeated(harness: Harness):
    user = await connected(harness)
    await rent_direct(user, hours=4)
    rent = rented(harness)
    await user.press("Extend", user.last().message_id)
    await user.press("4 h")
    quote = user.last()
    confirm = quote.button_starting("✅")
    data = quote.callback_of(confirm)
    harness.emulator.faults.configure(
        rate=1.0, kinds=["timeout"], when="after", actions={"continueRentNumber"}
    )
    await user.press(confirm)
    assert "SMS-Activate did not confirm the extension" in user.last().text
    assert rent.end_at == rent.created_at + 8 * HOUR  # it did happen at the provider
    harness.emulator.faults.clear()
    await user.press_data(quote.message_id, data)
    assert rent.end_at == rent.created_at + 8 * HOUR
    assert len([c for c in harness.emulator.calls if c.action == "continueRentNumber"]) == 1


async def test_revoked_rent_is_shown_refunded(harness: Harness):
    user, card_id, rent = await new_rent(harness, hours=4)
    harness.emulator.revoke_rent(rent.id)
    await harness.poll()
    card = user.message(card_id)
    assert "The provider took the number back; the money is refunded." in card.text
    assert card.button_texts == []
    assert harness.emulator.account(GOOD_KEY).balance == Decimal("50")


async def test_countdown_on_the_card_follows_the_clock(harness: Harness):
    user = await connected(harness)
    await rent_direct(user, hours=72)
    card_id = user.last().message_id
    assert "3 d 0 h left" in user.message(card_id).text
    await harness.advance(7 * HOUR)
    assert "2 d 17 h left" in user.message(card_id).text


def test_next_poll_lands_on_the_moments_that_matter():
    start = 1_000_000.0
    rent = rent_record(1, at=start, ends_at=start + 4 * HOUR)
    assert next_poll(rent, start + CANCEL_WINDOW - 1, 60, HOUR) == start + CANCEL_WINDOW + 1
    assert next_poll(rent, start + 3 * HOUR - 5, 60, HOUR) == start + 3 * HOUR
    assert next_poll(rent, start + 4 * HOUR - 5, 60, HOUR) == start + 4 * HOUR + 2
    late = next_poll(rent, start + 5 * HOUR, 5, HOUR)
    assert late is not None
    assert late >= start + 5 * HOUR + 30
    rent.state = RentState.FINISHED
    assert next_poll(rent, start, 5, HOUR) is None


async def test_reminder_in_the_users_language(harness: Harness):
    user = await connected(harness, "ru")
    await rent_direct(user, hours=4, service="Весь номер")
    await harness.advance(3 * HOUR + 1)
    reminder = next(m for m in user.chat if "Продлите её, чтобы сохранить номер" in m.text)
    assert "заканчивается 2026-09-21 18:13 UTC (осталось 1 ч 0 мин)" in reminder.text
    assert reminder.button_texts == ["Продлить"]


async def test_the_providers_time_zone_is_learned(harness: Harness):
    # The provider writes its dates in its own zone (here UTC+3) without saying so.
    harness.emulator.config.utc_offset_hours = 3
    user, card_id, rent = await new_rent(harness, hours=24)
    record = await record_of(harness, user, rent.id)
    assert record.utc_offset == 3 * HOUR
    assert record.ends_at == rent.end_at
    assert "Until 2026-09-22 14:13 UTC" in user.message(card_id).text
    harness.emulator.advance(120)
    harness.emulator.deliver_rent_sms(rent.id, "code 6060", "Bank")
    await harness.advance(20)
    assert "from Bank, 2026-09-21 14:15 UTC" in pushes(user, card_id)[0]
