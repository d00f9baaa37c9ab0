"""E-mail verification through the real dispatcher, the emulator and the worker."""

from __future__ import annotations

from decimal import Decimal

import pytest

from bot.i18n import build_i18n
from bot.keyboards.callbacks import MailAction, MailCallback, MailOfferCallback
from bot.sandbox import emulator as emulator_module
from bot.sandbox.models import Mail, MailStatus
from bot.sandbox.wire import ApiError, Encoding
from bot.services.checkout import LOOK_AGAIN_AFTER
from bot.services.mail_rules import member
from bot.services.mails import normalize_site
from bot.services.settlement import NOTHING_AFTER
from bot.storage.mails import Letter, MailState
from bot.texts import money
from bot.views.mail import (
    MESSAGE_LIMIT,
    find_code,
    find_links,
    letter_parts,
    letter_push,
    plain_letter,
    visible_length,
)
from tests.faketg import ChatMessage
from tests.harness import GOOD_KEY, MAIL_PROVIDERS, ChatUser, Harness
from tests.records import mailbox_record

SITE = "apple.com"
LETTER = "Hello!\nYour verification code for apple.com is 482913.\nIf it was not you, ignore it."

pytestmark = pytest.mark.bot_settings(SMS_PROVIDERS=MAIL_PROVIDERS)


async def connected(harness: Harness, language: str = "en", name: str = "Alice") -> ChatUser:
    return await harness.connected(language, name, provider="SMS-Activate")


def mails(harness: Harness) -> list[Mail]:
    return sorted(harness.emulator.mails.values(), key=lambda m: m.id)


def calls(harness: Harness, action: str) -> int:
    return sum(1 for call in harness.emulator.calls if call.action == action)


async def to_confirmation(user: ChatUser, domain: str = "gmail.com") -> ChatMessage:
    await user.send(f"/mail {SITE}")
    await user.press(user.last().button_starting(domain + " ·"))
    return user.last()


async def buy(harness: Harness, user: ChatUser, domain: str = "gmail.com") -> tuple[Mail, int]:
    confirm = await to_confirmation(user, domain)
    await user.press(confirm.button_starting("✅"))
    card = user.last()
    assert card.message_id == confirm.message_id  # the card replaces the confirmation
    return mails(harness)[-1], card.message_id


ANOTHER = {
    "en": ("📨 Another letter", "✅ Another letter for"),
    "ru": ("📨 Ещё письмо", "✅ Ещё письмо за"),
}


async def another_letter(user: ChatUser, card_id: int, language: str = "en") -> str:
    """ "Another letter" on the card, then its quote's Buy (the card's buttons meanwhile)."""
    ask, buy = ANOTHER[language]
    await user.press(ask, card_id)
    return await user.press(user.message(card_id).button_starting(buy), card_id)


async def letter_arrives(harness: Harness, mail_id: int, text: str = LETTER) -> None:
    harness.emulator.deliver_mail(mail_id, text)
    await harness.poll()


# --- step 1: the site ---


async def test_site_domain_confirm_and_buy(harness: Harness):
    user = await connected(harness)
    await user.send_expecting("/mail", "Which site is the e-mail address for?")
    await user.send("https://www.Apple.com/account/verify?x=1")
    domains = user.last()
    assert "E-mail for apple.com: choose the address." in domains.text
    labels = domains.button_texts
    gmail = harness.emulator.world.market.mail_popular["gmail.com"]
    assert f"gmail.com · {money(gmail.cost)} · {gmail.count}" in labels
    assert "*.info · 0.030" in labels
    await user.press(domains.button_starting("gmail.com ·"))
    confirm = user.last()
    assert confirm.message_id == domains.message_id  # edited in place
    assert "An address on gmail.com for apple.com" in confirm.text
    assert (
        f"Balance: 50.000 → {money(Decimal(50) - gmail.cost)} after the purchase" in confirm.text
    )
    assert "The mailbox waits 20 minutes for a letter" in confirm.text
    await user.press(confirm.button_starting("✅ Buy for"))

    (bought,) = mails(harness)
    card = user.message(confirm.message_id)
    assert bought.email in card.text
    assert "For apple.com" in card.text
    assert (
        "20 min left. No letter by then: the mailbox closes, the money is refunded." in card.text
    )
    assert "Waiting for a letter from apple.com…" in card.text
    assert card.button_texts == ["Cancel", "🔄 Refresh"]
    assert any(e["type"] == "code" for e in card.entities)  # the address is copyable
    assert harness.emulator.account(GOOD_KEY).balance == Decimal(50) - gmail.cost
    record = await harness.resources.mails.find(user.id, bought.id)
    assert record is not None
    assert record.card_message_id == card.message_id
    assert await harness.resources.schedule.is_followed(member(record.ref))


async def test_site_domain_confirm_and_buy_in_russian(harness: Harness):
    user = await connected(harness, "ru")
    await user.send_expecting("/mail", "Для какого сайта нужен адрес")
    await user.send_expecting("apple.com", "Почта для apple.com: выберите адрес.")
    await user.press(user.last().button_starting("*.info"))
    confirm = user.last()
    assert "Адрес в зоне .info для apple.com" in confirm.text
    assert "Ящик ждёт письмо 20 минут" in confirm.text
    await user.press(confirm.button_starting("✅"))
    card = user.last()
    assert mails(harness)[0].email in card.text
    assert "Ждём письмо от apple.com…" in card.text
    assert card.button_texts == ["Отмена", "🔄 Обновить"]


async def test_site_given_with_the_command_and_typed_again(harness: Harness):
    user = await connected(harness)
    await user.send_expecting("/mail Instagram.com", "E-mail for instagram.com")
    # A typed text at the next step is another site: the user changed their mind.
    await user.send_expecting("discord.com", "E-mail for discord.com")


async def test_domains_are_paged(harness: Harness):
    user = await connected(harness)
    await user.send(f"/mail {SITE}")
    first = user.last()
    first_labels = {t for t in first.button_texts if "·" in t}
    assert "1/2" in first.button_texts
    await user.press("▶")
    second = user.last()
    assert second.message_id == first.message_id
    assert "2/2" in second.button_texts
    second_labels = {t for t in second.button_texts if "·" in t}
    assert second_labels
    assert first_labels.isdisjoint(second_labels)


@pytest.mark.parametrize(
    ("language", "typed", "expected"),
    [
        ("en", "not a site", "“not a site” is not a site address. Send just the site"),
        ("en", "apple", "“apple” is not a site address"),
        ("en", "127.0.0.1", "“127.0.0.1” is not a site address"),
        ("ru", "просто текст", "«просто текст» — не адрес сайта. Пришлите только сайт"),
    ],
)
async def test_site_is_checked_before_asking_the_provider(
    harness: Harness, language: str, typed: str, expected: str
):
    user = await connected(harness, language)
    await user.send("/mail")
    await user.send_expecting(typed, expected)
    assert calls(harness, "getDomains") == 0
    # Still asking for the site: the next text is taken as one.
    await user.send(SITE)
    assert calls(harness, "getDomains") == 1


@pytest.mark.parametrize(
    ("language", "expected"),
    [
        ("en", "That does not look like a site address, for example apple.com."),
        ("ru", "Это не похоже на адрес сайта, например apple.com."),
    ],
)
async def test_provider_refuses_the_site(
    harness: Harness, monkeypatch: pytest.MonkeyPatch, language: str, expected: str
):
    def refuse(*_args: object) -> str:
        raise ApiError("BAD_SITE", encoding=Encoding.J_MAIL)

    monkeypatch.setitem(emulator_module.ACTIONS, "getDomains", refuse)
    user = await connected(harness, language)
    await user.send_expecting(f"/mail {SITE}", expected)
    assert user.last().button_texts == ["✖ " + ("Cancel" if language == "en" else "Отмена")]


@pytest.mark.parametrize(
    ("language", "expected"),
    [
        ("en", "SMS-Activate offers no e-mail addresses for apple.com right now."),
        ("ru", "SMS-Activate сейчас не предлагает адресов для apple.com."),
    ],
)
async def test_no_offers_for_the_site(harness: Harness, language: str, expected: str):
    market = harness.emulator.world.market
    market.mail_zones.clear()
    market.mail_popular.clear()
    user = await connected(harness, language)
    await user.send_expecting(f"/mail {SITE}", expected)


@pytest.mark.parametrize(
    ("language", "expected"),
    [
        ("en", "SMS-Activate does not sell e-mail addresses for this site."),
        ("ru", "SMS-Activate не продаёт адреса для этого сайта."),
    ],
)
async def test_blocked_site_is_explained(harness: Harness, language: str, expected: str):
    user = await connected(harness, language)
    await user.send("/mail gosuslugi.ru")
    await user.press(user.last().button_starting("gmail.com ·"))
    await user.press(user.last().button_starting("✅"))
    refused = user.last()
    assert expected in refused.text
    assert not mails(harness)
    # Back to the addresses, offered again by the provider.
    await user.press(refused.button_starting("◀"))
    assert "gosuslugi.ru" in user.last().text


@pytest.mark.parametrize(
    ("language", "warning", "expected"),
    [
        (
            "en",
            "Not enough money for this purchase",
            "Not enough money on your balance at SMS-Activate",
        ),
        ("ru", "Недостаточно денег для покупки", "SMS-Activate: на балансе недостаточно средств"),
    ],
)
async def test_bad_balance_is_explained(
    harness: Harness, language: str, warning: str, expected: str
):
    user = await connected(harness, language)
    harness.emulator.account(GOOD_KEY).balance = Decimal("0.01")
    confirm = await to_confirmation(user)
    assert warning in confirm.text
    await user.press(confirm.button_starting("✅"))
    assert expected in user.last().text
    assert not mails(harness)


async def test_address_gone_between_the_list_and_the_purchase(harness: Harness):
    user = await connected(harness)
    confirm = await to_confirmation(user)
    harness.emulator.world.market.mail_popular["gmail.com"].count = 0  # sold out meanwhile
    await user.press(confirm.button_starting("✅"))
    assert "This address is no longer offered for this site. Choose another one." in (
        user.last().text
    )
    await user.press(user.last().button_starting("◀"))
    assert not any(t.startswith("gmail.com") for t in user.last().button_texts)


async def test_address_gone_before_the_confirmation(harness: Harness):
    user = await connected(harness, "ru")
    await user.send(f"/mail {SITE}")
    domains = user.last()
    harness.emulator.world.market.mail_popular["gmail.com"].count = 0
    query = await user.press(domains.button_starting("gmail.com ·"))
    assert user.answer(query) == "Этот адрес для сайта больше не продаётся. Выберите другой."
    assert not any(t.startswith("gmail.com") for t in user.last().button_texts)


async def test_flow_cancel_button(harness: Harness):
    user = await connected(harness)
    await user.send(f"/mail {SITE}")
    await user.press("✖ Cancel")
    assert "E-mail purchase cancelled. /mail starts again." in user.last().text
    stale = MailOfferCallback(index=0).pack()
    query = await user.press_data(user.last().message_id, stale)
    assert user.answer(query) == "This menu is out of date. Start again with /mail."


async def test_provider_without_mail(harness: Harness):
    user = harness.user()
    await harness.connect(user)  # HeroSMS
    await user.send_expecting("/mail apple.com", "HeroSMS does not sell e-mail addresses.")
    await user.send_expecting("/mails", "HeroSMS does not sell e-mail addresses.")
    russian = harness.user(language_code="ru")
    await harness.connect(russian)
    await russian.send("/mail")
    assert "HeroSMS не продаёт адреса почты." in russian.last().text
    assert calls(harness, "getDomains") == 0


# --- step 2: idempotent purchase ---


async def test_double_tap_buys_once(harness: Harness):
    user = await connected(harness)
    query = await user.tap_twice(await to_confirmation(user), "✅")
    assert user.answer(query) == "Already bought: here is the address."
    assert calls(harness, "buyMailActivation") == 1
    assert len(mails(harness)) == 1


async def test_lost_answer_finds_the_mailbox_in_the_history(harness: Harness):
    user = await connected(harness)
    confirm = await to_confirmation(user)
    data = confirm.callback_of(confirm.button_starting("✅"))
    harness.emulator.faults.configure(
        rate=1.0, kinds=["timeout"], when="after", actions={"buyMailActivation"}
    )
    query = await user.press(confirm.button_starting("✅"))
    assert user.answer(query) == (
        "The answer was lost on the way, but the address is yours: here it is."
    )
    assert mails(harness)[0].email in user.last().text
    assert calls(harness, "buyMailActivation") == 1
    harness.emulator.faults.configure(rate=0.0, kinds=[])
    # The confirmation stays spent: pressing it again shows the same mailbox.
    query = await user.press_data(confirm.message_id, data)
    assert user.answer(query) == "Already bought: here is the address."
    assert calls(harness, "buyMailActivation") == 1


async def test_lost_answer_with_nothing_bought(harness: Harness):
    user = await connected(harness, "ru")
    confirm = await to_confirmation(user)
    harness.emulator.faults.configure(
        rate=1.0, kinds=["timeout"], when="before", actions={"buyMailActivation"}
    )
    await user.press(confirm.button_starting("✅"))
    assert "Проверяю, прошла ли она" in user.last().text
    assert not mails(harness)
    harness.emulator.faults.clear()
    await harness.advance(LOOK_AGAIN_AFTER + 1)
    await harness.advance(NOTHING_AFTER)
    assert "ничего не куплено и ничего не списано" in user.last().text
    assert not mails(harness)


# --- step 3: the card ---


async def test_letter_is_pushed_and_the_card_follows(harness: Harness):
    user = await connected(harness)
    bought, card_id = await buy(harness, user)
    await letter_arrives(harness, bought.id)
    push = user.last()
    assert f"A letter for {bought.email} from apple.com" in push.text
    assert "Code: 482913" in push.text
    assert push.reply_to_message_id == card_id
    quote = next(e for e in push.entities if e["type"] == "expandable_blockquote")
    assert quote["length"] > 0
    assert "If it was not you, ignore it." in push.text
    card = user.message(card_id)
    assert "The letter has arrived." in card.text
    assert "1. 🔑 482913" in card.text
    assert card.button_texts == ["📨 Another letter"]
    # Pushed once, however often the worker looks.
    await harness.poll()
    await harness.advance(60)
    assert sum("A letter for" in m.text for m in user.chat) == 1


async def test_letter_in_russian(harness: Harness):
    user = await connected(harness, "ru")
    bought, card_id = await buy(harness, user)
    await letter_arrives(harness, bought.id)
    push = user.last()
    assert f"Письмо на {bought.email} от apple.com" in push.text
    assert "Код: 482913" in push.text
    card = user.message(card_id)
    assert "Письмо пришло." in card.text
    assert card.button_texts == ["📨 Ещё письмо"]


async def test_link_letter_gets_a_button(harness: Harness):
    user = await connected(harness)
    bought, _ = await buy(harness, user)
    text = "Confirm your address: https://apple.com/confirm?token=abc123. Thanks!"
    await letter_arrives(harness, bought.id, text)
    push = user.last()
    assert "Link: apple.com (the button below opens it)" in push.text
    assert push.buttons == [
        [("🔗 Open the link (apple.com)", "https://apple.com/confirm?token=abc123")]
    ]


async def test_long_letter_fits_and_full_letter_shows_the_rest(harness: Harness):
    user = await connected(harness)
    bought, _ = await buy(harness, user)
    paragraph = "Dear customer, <this> & that are the terms of our service. " * 4
    text = "Your code is 551177.\n\n" + "\n\n".join(f"{i}. {paragraph}" for i in range(100))
    assert len(text) > 20_000
    await letter_arrives(harness, bought.id, text)
    push = user.last()
    assert "Code: 551177" in push.text
    assert len(push.text) <= 4096
    assert "The letter is longer: “Full letter” shows all of it." in push.text
    assert "<this> & that" in push.text  # escaped on the way, readable on arrival
    await user.press("📄 Full letter")
    parts = [m for m in user.chat if m.text.startswith("📄 Letter from apple.com, part")]
    assert len(parts) >= 5
    assert all(len(part.text) <= 4096 for part in parts)
    assert "99. Dear customer" in parts[-1].text or "(The letter was longer" in parts[-1].text


async def test_another_letter_keeps_the_card_and_follows_the_new_id(harness: Harness):
    user = await connected(harness)
    first, card_id = await buy(harness, user)
    await letter_arrives(harness, first.id)
    old = await harness.resources.mails.find(user.id, first.id)
    assert old is not None
    old_ref = old.ref

    query = await another_letter(user, card_id)
    assert user.answer(query) == "Waiting for another letter."
    second = mails(harness)[-1]
    assert second.id != first.id
    assert second.parent_id == first.id
    card = user.message(card_id)
    assert "Waiting for another letter from apple.com…" in card.text
    assert "1. 🔑 482913" in card.text  # the earlier letter stays shown
    assert card.button_texts == ["Cancel", "🔄 Refresh"]
    moved = await harness.resources.mails.find(user.id, second.id)
    assert moved is not None
    assert moved.previous_ids == [first.id]
    assert await harness.resources.mails.get(old_ref) is None
    schedule = harness.resources.schedule
    assert await schedule.is_followed(member(moved.ref))
    assert not await schedule.is_followed(member(old_ref))

    # The old id on a second device: no second reorder.
    stale = MailCallback(action=MailAction.ANOTHER, id=first.id).pack()
    query = await user.press_data(card_id, stale)
    assert user.answer(query) == "Already asked: waiting for another letter."
    assert calls(harness, "reorderMailActivation") == 1

    await letter_arrives(harness, second.id, "Your new apple.com code: 909090")
    assert "Code: 909090" in user.last().text
    card = user.message(card_id)
    assert "1. 🔑 482913" in card.text
    assert "2. 🔑 909090" in card.text
    assert sum("A letter for" in m.text for m in user.chat) == 2


@pytest.mark.parametrize(
    ("language", "setup", "expected"),
    [
        ("en", "balance", "Not enough money on your balance at SMS-Activate"),
        ("en", "blocked", "SMS-Activate does not sell e-mail addresses for this site."),
        ("en", "unknown", "SMS-Activate no longer knows this mailbox (it may have expired)."),
        ("ru", "balance", "SMS-Activate: на балансе недостаточно средств"),
        ("ru", "blocked", "SMS-Activate не продаёт адреса для этого сайта."),
        ("ru", "unknown", "SMS-Activate больше не знает этот ящик (возможно, его срок истёк)."),
    ],
)
async def test_another_letter_refused(harness: Harness, language: str, setup: str, expected: str):
    user = await connected(harness, language)
    bought, card_id = await buy(harness, user)
    await letter_arrives(harness, bought.id)
    emulator = harness.emulator
    if setup == "balance":
        emulator.account(GOOD_KEY).balance = Decimal(0)
    elif setup == "blocked":
        emulator.config.blocked_mail_sites = frozenset({SITE})
    else:
        del emulator.world.mails[bought.id]
    query = await another_letter(user, card_id, language)
    assert expected in (user.answer(query) or "")
    label = ANOTHER[language][0]
    assert user.message(card_id).button_texts == [label]  # nothing changed
    record = await harness.resources.mails.find(user.id, bought.id)
    assert record is not None
    assert record.id == bought.id


@pytest.mark.parametrize(
    ("language", "answer", "state"),
    [
        ("en", "Cancelled, the money is refunded.", "❌ Cancelled, the money is refunded."),
        ("ru", "Отменено, деньги возвращены.", "❌ Отменено, деньги возвращены."),
    ],
)
async def test_cancel_refunds(harness: Harness, language: str, answer: str, state: str):
    user = await connected(harness, language)
    bought, card_id = await buy(harness, user)
    label = "Cancel" if language == "en" else "Отмена"
    query = await user.press(label, card_id)
    assert user.answer(query) == answer
    card = user.message(card_id)
    assert state in card.text
    assert card.button_texts == []
    assert harness.emulator.account(GOOD_KEY).balance == Decimal(50)
    assert harness.emulator.mails[bought.id].status is MailStatus.CANCELLED
    record = await harness.resources.mails.find(user.id, bought.id)
    assert record is not None
    assert not await harness.resources.schedule.is_followed(member(record.ref))


async def test_cancel_after_the_letter_came(harness: Harness):
    user = await connected(harness)
    bought, card_id = await buy(harness, user)
    harness.emulator.deliver_mail(bought.id, LETTER)  # the worker has not looked yet
    query = await user.press("Cancel", card_id)
    assert user.answer(query) == (
        "A letter has just arrived, so the address can no longer be cancelled."
    )
    # The provider would have taken the cancel and kept the money: the bot did not send it.
    assert harness.emulator.mails[bought.id].status is MailStatus.SUCCESS
    assert "The letter has arrived." in user.message(card_id).text
    await harness.poll()
    assert "Code: 482913" in user.last().text


async def test_cancel_of_a_mailbox_the_provider_forgot(harness: Harness):
    user = await connected(harness, "ru")
    bought, card_id = await buy(harness, user)
    del harness.emulator.world.mails[bought.id]
    query = await user.press("Отмена", card_id)
    assert user.answer(query) == (
        "SMS-Activate больше не знает этот ящик (возможно, его срок истёк)."
    )
    assert "SMS-Activate больше не знает этот ящик; он закрыт." in user.message(card_id).text


async def test_refresh_finds_the_letter(harness: Harness):
    user = await connected(harness)
    bought, card_id = await buy(harness, user)
    harness.emulator.deliver_mail(bought.id, LETTER)
    query = await user.press("🔄 Refresh", card_id)
    assert user.answer(query) == "Updated."
    assert "The letter has arrived." in user.message(card_id).text
    await harness.poll()
    assert sum("A letter for" in m.text for m in user.chat) == 1


@pytest.mark.parametrize(
    ("language", "expected"),
    [
        ("en", "⌛ No letter came in time: the mailbox is closed, the money refunded."),
        ("ru", "⌛ Письмо не пришло вовремя: ящик закрыт, деньги вернулись."),
    ],
)
async def test_expiry_refund_shown_on_the_card(harness: Harness, language: str, expected: str):
    user = await connected(harness, language)
    _, card_id = await buy(harness, user)
    await harness.advance(6 * 60)
    countdown = "14 min left" if language == "en" else "осталось 14 мин"
    assert countdown in user.message(card_id).text
    await harness.advance(15 * 60)
    card = user.message(card_id)
    assert expected in card.text
    assert card.button_texts == []
    assert harness.emulator.account(GOOD_KEY).balance == Decimal(50)


async def test_forged_card_buttons_touch_nothing(harness: Harness):
    owner = await connected(harness)
    bought, _ = await buy(harness, owner)
    intruder = await connected(harness, name="Mallory")
    calls_before = len(harness.emulator.calls)
    for action in MailAction:
        data = MailCallback(action=action, id=bought.id).pack()
        query = await intruder.press_data(intruder.last().message_id, data)
        assert intruder.answer(query) == "This is not one of your e-mail addresses."
    assert len(harness.emulator.calls) == calls_before
    query = await owner.press_data(owner.last().message_id, "m:zz:1")
    assert owner.answer(query) == "This button is out of date. Use the menu again."


# --- /mails ---


def bought_elsewhere(harness: Harness, count: int) -> None:
    for _ in range(count):
        reply = harness.emulator.handle(
            {
                "api_key": GOOD_KEY,
                "action": "buyMailActivation",
                "site": "discord.com",
                "mail_type": "1",
                "mail_domain": "xyz",
            }
        )
        assert '"status":"OK"' in reply.body.replace(" ", "")


async def test_mails_lists_the_history_paged(harness: Harness):
    user = await connected(harness)
    bought, _ = await buy(harness, user)
    await letter_arrives(harness, bought.id)
    bought_elsewhere(harness, 11)
    await user.send("/mails")
    first = user.last()
    assert "Your e-mail addresses, page 1 of 2:" in first.text
    assert first.text.count("⏳ waiting") == 10
    await user.press("▶")
    second = user.last()
    assert second.message_id == first.message_id
    assert "page 2 of 2" in second.text
    assert f"✅ letter received · {harness.emulator.world.stamp(bought.created_at)[:16]}" in (
        second.text
    )
    assert "482913" in second.text
    # The mailbox the bot follows opens its card again.
    await user.press(f"📧 {bought.email}")
    assert "The letter has arrived." in user.last().text
    record = await harness.resources.mails.find(user.id, bought.id)
    assert record is not None
    assert record.card_message_id == user.last().message_id


async def test_mails_in_russian_and_empty(harness: Harness):
    user = await connected(harness, "ru")
    await user.send_expecting("/mails", "Вы ещё не покупали адреса почты. /mail покупает адрес.")
    bought, card_id = await buy(harness, user)
    await user.press("Отмена", card_id)
    await user.send("/mails")
    listing = user.last()
    assert "Ваши адреса почты, страница 1 из 1:" in listing.text
    assert "❌ отменён · " in listing.text
    assert bought.email in listing.text
    record = await harness.resources.mails.find(user.id, bought.id)
    assert record is not None
    assert record.state is MailState.CANCELLED


async def test_another_letter_with_a_lost_answer(harness: Harness):
    user = await connected(harness)
    bought, card_id = await buy(harness, user)
    await letter_arrives(harness, bought.id)
    faults = harness.emulator.faults
    # Lost after the provider did it: the new id is found in the mail history.
    faults.configure(rate=1.0, kinds=["timeout"], when="after", actions={"reorderMailActivation"})
    await another_letter(user, card_id)
    assert "Waiting for another letter from apple.com…" in user.message(card_id).text
    assert len(mails(harness)) == 2
    renewed = mails(harness)[-1]
    await letter_arrives(harness, renewed.id, "Code 777888")

    # Lost before it reached the provider: nothing bought, the next tap looks first, then buys.
    faults.configure(rate=1.0, kinds=["timeout"], when="before", actions={"reorderMailActivation"})
    query = await another_letter(user, card_id)
    assert "SMS-Activate did not confirm." in (user.answer(query) or "")
    assert len(mails(harness)) == 2
    faults.configure(rate=0.0, kinds=[])
    history_before = calls(harness, "getMailHistory")
    await another_letter(user, card_id)
    assert calls(harness, "getMailHistory") == history_before + 1
    assert len(mails(harness)) == 3  # one mailbox per letter asked for, none twice
    assert "Waiting for another letter from apple.com…" in user.message(card_id).text


# --- the pure parts: site validation and the letter's text ---


@pytest.mark.parametrize(
    ("typed", "site"),
    [
        ("apple.com", "apple.com"),
        ("  https://www.Apple.com/account?x=1#top ", "apple.com"),
        ("http://accounts.google.com:443/signin", "accounts.google.com"),
        ("instagram.com.", "instagram.com"),
        ("пример.рф", "xn--e1afmkfd.xn--p1ai"),
        ("apple", None),
        ("apple com", None),
        ("-apple.com", None),
        ("apple..com", None),
        ("127.0.0.1", None),
        ("https://", None),
        ("a" * 64 + ".com", None),
    ],
)
def test_site_normalization(typed: str, site: str | None):
    assert normalize_site(typed) == site


@pytest.mark.parametrize(
    ("value", "full", "code"),
    [
        ("482913", None, "482913"),
        (None, "Your code for apple.com is 482913. Valid till 2026.", "482913"),
        (None, "482 913 is your Instagram code", "482913"),
        (None, "Ваш код подтверждения: AB12CD", "AB12CD"),
        ("https://apple.com/c?t=123456", "Open https://apple.com/c?t=123456", None),
        (None, "Welcome! © 2026 Apple Inc.", None),
    ],
)
def test_code_found_in_letters(value: str | None, full: str | None, code: str | None):
    assert find_code(value, full) == code


def test_links_from_html_letters():
    raw = (
        '<html><body><p>Hi &amp; welcome</p><a href="https://x.com/c?a=1&amp;b=2">Go</a>'
        "<style>p{}</style><br>https://x.com/plain.</body></html>"
    )
    assert find_links(None, raw) == ["https://x.com/c?a=1&b=2", "https://x.com/plain"]
    assert plain_letter(raw) == "Hi & welcome\nGo\nhttps://x.com/plain."


def test_letter_push_respects_telegram_limits():
    mailbox = mailbox_record(
        1, at=0, site="apple.com", email="a@b.c", domain="b.c", mail_type=2, expires_at=1200
    )
    # Astral characters count twice in Telegram's (UTF-16) length; markup must stay whole.
    body = ("😀 <b>&amp; " * 3000) + "code 123456"
    letter = Letter(mail_id=1, value=None, full_message=body, at=0)
    i18n = build_i18n("en")
    with i18n.context(), i18n.use_locale("en"):
        text, markup = letter_push(mailbox, letter)
        parts = letter_parts(mailbox, letter)
    assert visible_length(text) <= MESSAGE_LIMIT
    assert text.count("<blockquote expandable>") == text.count("</blockquote>") == 1
    assert "&lt;b&gt;&amp;amp;" in text
    assert markup is not None
    assert markup.inline_keyboard[-1][0].text == "📄 Full letter"
    assert all(visible_length(part) <= MESSAGE_LIMIT for part in parts)
    assert "".join(parts).count("😀") == body.count("😀")


@pytest.mark.parametrize(
    ("language", "expected"),
    [
        ("en", "You have reached the limit of simultaneous purchases at SMS-Activate."),
        ("ru", "Вы достигли лимита одновременных покупок у SMS-Activate."),
    ],
)
async def test_channels_limit_is_explained(harness: Harness, language: str, expected: str):
    user = await connected(harness, language)
    harness.emulator.account(GOOD_KEY).max_channels = 0
    confirm = await to_confirmation(user)
    await user.press(confirm.button_starting("✅"))
    assert expected in user.last().text
    assert not mails(harness)
