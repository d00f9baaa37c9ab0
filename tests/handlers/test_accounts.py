"""Several provider accounts in one chat: /key lists them, each item keeps its own account,
removing one with open items asks first and the worker keeps following them, and buttons
naming another user's account change nothing."""

from __future__ import annotations

import asyncio
import time
from decimal import Decimal
from pathlib import Path

import httpx
import pytest

from bot.errors import UnknownAccount
from bot.keyboards.callbacks import (
    AccountAction,
    AccountCallback,
    ActAction,
    ActCallback,
    BuyAction,
    BuyCallback,
)
from bot.services import account_items
from bot.storage import keys
from tests.harness import GOOD_KEY, MAIL_PROVIDERS, ChatUser, Harness, running_harness

SECOND_KEY = "ZzSecondKey0123456789ab"
#: "Other accounts' offers" under a confirmation that /buy chose among several accounts.
OTHER_OFFERS = BuyCallback(action=BuyAction.OFFERS).pack()

T = {
    "en": {
        "add": "➕ Add an account",
        "list": "Your provider accounts:",
        "remove": "Remove",
        "yes": "Yes, remove",
        "rename": "Rename",
        "default": "Make default",
        "asks": "The account HeroSMS has 1 open item.",
        "kept": "The account HeroSMS is removed. I keep following its 1 open item until it "
        "closes.",
        "gone": "The account SMSHub is removed and its key forgotten.",
        "refused": "This number was bought with another provider account.",
        "unknown": "This is not one of your provider accounts.",
        "renamed": "Renamed.",
        "cancelled": "Cancelled, the money is refunded.",
        "balances": "Your balances:",
        "unavailable": "balance not available right now",
        "total": "Total: 70.000 USD",
        "now_default": "It is your default account now",
    },
    "ru": {
        "add": "➕ Добавить аккаунт",
        "list": "Ваши аккаунты провайдеров:",
        "remove": "Удалить",
        "yes": "Да, удалить",
        "rename": "Переименовать",
        "default": "Сделать основным",
        "asks": "У аккаунта HeroSMS 1 открытый заказ.",
        "kept": "Аккаунт HeroSMS удалён. Я продолжаю следить за его 1 открытым заказом, пока он "
        "не закроется.",
        "gone": "Аккаунт SMSHub удалён, его ключ забыт.",
        "refused": "Этот номер куплен с другим аккаунтом провайдера.",
        "unknown": "Это не ваш аккаунт провайдера.",
        "renamed": "Переименовано.",
        "cancelled": "Отменено, деньги возвращены.",
        "balances": "Ваши балансы:",
        "unavailable": "баланс сейчас недоступен",
        "total": "Всего: 70.000 USD",
        "now_default": "Теперь это ваш основной аккаунт",
    },
}
LANGUAGES = pytest.mark.parametrize("language", ["en", "ru"])


async def add_second(harness: Harness, user: ChatUser, language: str) -> None:
    """/key → add → SMSHub → the second key (which becomes the default)."""
    harness.emulator.add_account(SECOND_KEY, balance=Decimal("20"))
    await user.send_expecting("/key", T[language]["list"])
    await user.press(T[language]["add"])
    await user.press("SMSHub")
    sent = await user.send(SECOND_KEY)
    assert user.deleted(sent)
    assert T[language]["now_default"] in user.last().text


async def add_spare(harness: Harness, user: ChatUser, language: str, provider: str) -> None:
    """A second key of ``provider`` added (the default now) and named "Spare"."""
    harness.emulator.add_account(SECOND_KEY, balance=Decimal("20"))
    await user.send("/key")
    await user.press(T[language]["add"])
    await user.press(provider)
    await user.send(SECOND_KEY)
    await user.send("/key")
    await user.press(user.last().button_starting(f"⭐ {provider}"))
    await user.press(T[language]["rename"])
    await user.send("Spare")


async def buy(user: ChatUser) -> int:
    """A number bought with the default account (chosen among the offers when /buy proposed
    another one's); returns its card's message id."""
    await user.send("/buy tg 6")
    confirmation = user.last()
    if any(data == OTHER_OFFERS for row in confirmation.buttons for _, data in row):
        book = await user.harness.resources.users.account_book(user.id)
        assert book.default_account is not None
        await user.press_data(confirmation.message_id, OTHER_OFFERS)
        offers = user.last()
        mine = f"bof:{book.default_account.id}:"
        data = next(d for row in offers.buttons for _, d in row if d.startswith(mine))
        await user.press_data(offers.message_id, data)
    await user.press(user.last().button_starting("✅"))
    return user.last().message_id


def press_cancel(user: ChatUser, card: int) -> str:
    (data,) = [d for row in user.message(card).buttons for _, d in row if d.startswith("a:ca:")]
    return data


async def account_ids(harness: Harness, user: ChatUser) -> list[str]:
    book = await harness.resources.users.account_book(user.id)
    return [account.id for account in book.accounts]


@LANGUAGES
async def test_a_second_account_is_listed_with_balances_and_the_default_mark(
    harness: Harness, language: str
):
    user = await harness.connected(language)
    await add_second(harness, user, language)
    listing = await user.send_expecting("/key", T[language]["list"])
    assert "⭐ SMSHub: 20.000" in listing.text
    assert "• HeroSMS: 50.000" in listing.text
    assert listing.button_texts[:2] == ["⭐ SMSHub", "HeroSMS"]
    assert len(await account_ids(harness, user)) == 2
    # Make HeroSMS the default again, then name it.
    await user.press("HeroSMS", listing)
    await user.press(T[language]["default"])
    assert "⭐ HeroSMS: 50.000" in user.last().text
    await user.press("⭐ HeroSMS")
    await user.press(T[language]["rename"])
    await user.send("Main")
    renamed = user.last()
    assert T[language]["renamed"] in renamed.text
    assert "⭐ Main (HeroSMS): 50.000" in renamed.text
    # /balance: each account, and the total.
    balances = await user.send_expecting("/balance", T[language]["balances"], T[language]["total"])
    assert "• SMSHub: 20.000" in balances.text


@LANGUAGES
async def test_a_failing_account_does_not_hide_the_others(harness: Harness, language: str):
    user = await harness.connected(language)
    await add_second(harness, user, language)
    del harness.emulator.accounts[SECOND_KEY]  # SMSHub now refuses the key
    balances = await user.send_expecting("/balance", T[language]["balances"])
    assert f"⭐ SMSHub: {T[language]['unavailable']}" in balances.text
    assert "• HeroSMS: 50.000" in balances.text


@LANGUAGES
async def test_an_item_of_a_non_default_account_uses_its_own_key(harness: Harness, language: str):
    user = await harness.connected(language)
    card = await buy(user)  # with HeroSMS
    await add_second(harness, user, language)  # SMSHub is the default now
    await harness.advance(121)
    before = len(harness.emulator.calls)
    await user.press(press_cancel(user, card), card)
    assert T[language]["cancelled"] in user.message(card).text
    cancels = [call for call in harness.emulator.calls[before:] if call.action == "setStatus"]
    assert cancels
    assert all(call.params["api_key"] == GOOD_KEY[:2] + "***" for call in cancels)
    assert harness.emulator.account(GOOD_KEY).balance == Decimal("50")
    # /active lists the other account's numbers with their account's label.
    await buy(user)  # with SMSHub
    listing = await user.send("/active")
    assert any(text.startswith("SMSHub · +") for text in user.last().button_texts), listing


@LANGUAGES
async def test_removing_an_account_with_open_items_asks_and_keeps_following(
    harness: Harness, language: str
):
    user = await harness.connected(language)
    card = await buy(user)  # with HeroSMS
    await add_second(harness, user, language)
    await user.send("/key")
    await user.press("HeroSMS")
    await user.press(T[language]["remove"])
    assert T[language]["asks"] in user.last().text
    await user.press(T[language]["yes"])
    assert T[language]["kept"] in user.last().text
    assert "HeroSMS" not in user.last().button_texts
    # Its button refuses now; the worker still follows the number with the removed key.
    query = await user.press(press_cancel(user, card), card)
    assert user.answer(query) == T[language]["refused"]
    (activation,) = harness.emulator.activations.values()
    harness.emulator.deliver_sms(activation.id, "Telegram code: 12345", code="12345")
    await harness.poll()
    assert "1 2 3 4 5" in user.last().text
    assert len(await account_ids(harness, user)) == 2  # kept while the number is open
    await harness.advance(25 * 60)  # the number's time runs out: nothing is open any more
    assert len(await account_ids(harness, user)) == 1  # forgotten, key and all


@LANGUAGES
async def test_removing_an_account_with_nothing_open_forgets_it(harness: Harness, language: str):
    user = await harness.connected(language)
    await add_second(harness, user, language)
    await user.send("/key")
    await user.press("⭐ SMSHub")
    await user.press(T[language]["remove"])
    await user.press(T[language]["yes"])
    assert T[language]["gone"] in user.last().text
    assert "⭐ HeroSMS: 50.000" in user.last().text
    assert len(await account_ids(harness, user)) == 1


@LANGUAGES
async def test_forged_account_ids_change_nothing(harness: Harness, language: str):
    owner = await harness.connected(language)
    await add_second(harness, owner, language)
    (first, second) = await account_ids(harness, owner)
    intruder = await harness.connected(language, name="Mallory")
    await intruder.send("/key")
    before = await harness.resources.users.account_book(owner.id)
    own = await harness.resources.users.account_book(intruder.id)
    calls = len(harness.emulator.calls)
    for action in AccountAction:
        for account in (first, second, "deadbeef", "", "x" * 40):
            data = AccountCallback(action=action, account=account).pack()
            query = await intruder.press_data(intruder.last().message_id, data)
            if action is not AccountAction.LIST:
                assert intruder.answer(query) == T[language]["unknown"], (action, account)
    assert await harness.resources.users.account_book(owner.id) == before
    assert await harness.resources.users.account_book(intruder.id) == own
    assert len(harness.emulator.calls) - calls <= len(AccountAction) * 5  # balances of /key only
    assert all(call.params.get("api_key") != "Zz***" for call in harness.emulator.calls[calls:])
    # The owner's item, named by the intruder, is still not theirs.
    card = await buy(owner)
    activation_id = int(press_cancel(owner, card).rsplit(":", 1)[1])
    data = ActCallback(action=ActAction.CANCEL, id=activation_id).pack()
    query = await intruder.press_data(intruder.last().message_id, data)
    assert intruder.answer(query) != T[language]["cancelled"]


HISTORY = {
    "en": ("Your activations, page 1 of 1:", "No answer from: Spare."),
    "ru": ("Ваши активации, страница 1 из 1:", "Не ответили: Spare."),
}


@LANGUAGES
async def test_history_merges_every_account_with_a_label(harness: Harness, language: str):
    head, silent = HISTORY[language]
    user = await harness.connected(language)
    await buy(user)  # with the first HeroSMS key
    await add_spare(harness, user, language, "HeroSMS")
    await buy(user)  # with the second key, the default now
    listing = await user.send_expecting("/history", head)
    lines = [line for line in listing.text.splitlines() if "+" in line]
    assert len(lines) == 2
    assert lines[0].endswith("· Spare")
    assert lines[1].endswith("· HeroSMS")
    # An account that does not answer is named; the other's entries still show.
    del harness.emulator.accounts[SECOND_KEY]
    listing = await user.send_expecting("/history", head, silent)
    assert [line for line in listing.text.splitlines() if "+" in line] == [lines[1]]


async def test_a_refused_key_pauses_only_its_own_account(harness: Harness):
    user = await harness.connected()
    await buy(user)  # with the first key
    await add_second(harness, user, "en")
    await buy(user)  # with SMSHub, the default now
    first, second = await account_ids(harness, user)
    del harness.emulator.accounts[GOOD_KEY]  # the first key is revoked at the provider
    await harness.advance(10)
    assert any("no longer accepts your API key" in text for text in user.texts())
    users = harness.resources.users
    assert await users.is_paused(user.id, first)
    assert not await users.is_paused(user.id, second)
    # The other account's number is still followed.
    newest = next(a for a in harness.emulator.activations.values() if a.key == SECOND_KEY)
    harness.emulator.deliver_sms(newest.id, "Telegram code: 24680", code="24680")
    await harness.advance(10)
    assert "2 4 6 8 0" in user.last().text


MAILS = {
    "en": "Your e-mail addresses, page 1 of 1:",
    "ru": "Ваши адреса почты, страница 1 из 1:",
}


def mail_bought_elsewhere(harness: Harness, key: str, site: str) -> None:
    reply = harness.emulator.handle(
        {
            "api_key": key,
            "action": "buyMailActivation",
            "site": site,
            "mail_type": "1",
            "mail_domain": "xyz",
        }
    )
    assert reply.status == 200


@LANGUAGES
@pytest.mark.bot_settings(SMS_PROVIDERS=MAIL_PROVIDERS)
async def test_mails_merge_every_account_with_a_label(harness: Harness, language: str):
    user = await harness.connected(language, provider="SMS-Activate")
    await add_spare(harness, user, language, "SMS-Activate")
    mail_bought_elsewhere(harness, GOOD_KEY, "discord.com")
    harness.emulator.clock.advance(60)
    mail_bought_elsewhere(harness, SECOND_KEY, "apple.com")
    listing = await user.send_expecting("/mails", MAILS[language])
    lines = [line for line in listing.text.splitlines() if "@" in line]
    assert len(lines) == 2
    assert "apple.com" in lines[0]
    assert lines[0].endswith("· Spare")
    assert "discord.com" in lines[1]
    assert lines[1].endswith("· SMS-Activate")


async def test_the_updates_glance_serves_every_account_without_another_read(harness: Harness):
    user = await harness.connected()
    await add_second(harness, user, "en")
    glance = await harness.resources.users.glance(user.id)
    # Gone from Redis after the glance: whatever is found below came from the glance.
    await harness.resources.redis.delete(keys.user(user.id))
    accounts = harness.resources.accounts
    assert (await accounts.get(user.id, glance)).provider == "smshub"
    assert [a.provider for a in await accounts.all(user.id, glance)] == ["smshub", "herosms"]
    second = glance.book.active[1].id
    assert (await accounts.by_id(user.id, second, glance)).provider == "herosms"
    with pytest.raises(UnknownAccount):
        await accounts.by_id(user.id, second)  # without it: read now, and gone


class HungForKey(httpx.AsyncBaseTransport):
    """The provider answers every key but one, whose requests hang until cancelled."""

    def __init__(self, inner: httpx.AsyncBaseTransport, key: str) -> None:
        self.inner = inner
        self.key = key

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        if request.url.params.get("api_key") == self.key:
            await asyncio.Event().wait()
        return await self.inner.handle_async_request(request)


@LANGUAGES
async def test_a_hung_account_does_not_hold_up_the_others(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, language: str
):
    monkeypatch.setattr(account_items, "BALANCE_TIMEOUT", 0.3)
    async with running_harness(
        tmp_path, wrap_transport=lambda inner: HungForKey(inner, SECOND_KEY)
    ) as harness:
        user = await harness.connected(language)
        # The second key is connected while its provider still answers.
        harness.emulator.add_account(SECOND_KEY, balance=Decimal("20"))
        await harness.resources.accounts.users.add_account(user.id, "smshub", SECOND_KEY)
        started = time.monotonic()
        balances = await user.send_expecting("/balance", T[language]["balances"])
        assert time.monotonic() - started < 5
        assert f"⭐ SMSHub: {T[language]['unavailable']}" in balances.text
        assert "• HeroSMS: 50.000" in balances.text
        listing = await user.send_expecting("/key", T[language]["list"])
        assert "• HeroSMS: 50.000" in listing.text
