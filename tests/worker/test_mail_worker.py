"""The mail poller: every letter pushed once, through reorders, restarts, faults and races."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from fakeredis import FakeAsyncRedis

from bot.sandbox.models import Mail
from bot.services.mail_rules import member
from bot.storage.mails import Mailbox, MailState
from bot.worker import build_context
from bot.worker.mails import MailPoller
from tests.harness import MAIL_PROVIDERS, ChatUser, Harness, running_harness

pytestmark = pytest.mark.bot_settings(SMS_PROVIDERS=MAIL_PROVIDERS)

SITE = "apple.com"


async def connected(harness: Harness, language: str = "en") -> ChatUser:
    return await harness.connected(language, provider="SMS-Activate")


async def buy(harness: Harness, user: ChatUser) -> tuple[Mail, int]:
    await user.send(f"/mail {SITE}")
    await user.press(user.last().button_starting("gmail.com"))
    await user.press(user.last().button_starting("✅"))
    return max(harness.emulator.mails.values(), key=lambda m: m.id), user.last().message_id


async def record(harness: Harness, user: ChatUser, mail_id: int) -> Mailbox:
    found = await harness.resources.mails.find(user.id, mail_id)
    assert found is not None
    return found


def pushes(user: ChatUser) -> list[str]:
    return [m.text for m in user.chat if m.from_bot and m.text.startswith("✉️ A letter for")]


def card(user: ChatUser, message_id: int) -> str:
    return next(m.text for m in user.chat if m.message_id == message_id)


def check_calls(harness: Harness) -> int:
    return sum(1 for c in harness.emulator.calls if c.action == "checkMailActivation")


async def test_letter_pushed_once_however_often_it_is_seen(harness: Harness):
    user = await connected(harness)
    mail, card_id = await buy(harness, user)
    await harness.poll()
    assert pushes(user) == []
    harness.emulator.deliver_mail(mail.id, "Your code is 271828")
    for _ in range(3):
        await harness.advance(10)
    assert len(pushes(user)) == 1
    assert "Code: 271828" in pushes(user)[0]
    mailbox = await record(harness, user, mail.id)
    assert [(letter.value, letter.delivered) for letter in mailbox.letters] == [("271828", True)]
    # The same letter reported again (a webhook after the poll): recorded once, pushed once.
    service = harness.resources.mail_service
    assert await service.record_letter(mailbox.ref, "271828", "Your code is 271828") is False
    await harness.advance(10)
    assert len(pushes(user)) == 1
    assert not await harness.resources.schedule.is_followed(member(mailbox.ref))
    assert "The letter has arrived." in card(user, card_id)


async def test_a_letter_recorded_elsewhere_is_pushed_without_asking_the_provider(
    harness: Harness,
):
    user = await connected(harness)
    mail, _ = await buy(harness, user)
    await harness.poll()
    mailbox = await record(harness, user, mail.id)
    asked = check_calls(harness)
    service = harness.resources.mail_service
    assert await service.record_letter(mailbox.ref, None, "Code 314159 for apple.com") is True
    assert await service.record_letter(mailbox.ref, None, "Code 314159 for apple.com") is False
    await harness.poll()
    assert len(pushes(user)) == 1
    assert "Code: 314159" in pushes(user)[0]
    assert check_calls(harness) == asked
    await harness.advance(30)
    assert len(pushes(user)) == 1


async def test_two_pollers_at_once_push_once(harness: Harness):
    user = await connected(harness)
    mail, _ = await buy(harness, user)
    mailbox = await record(harness, user, mail.id)
    harness.emulator.deliver_mail(mail.id, "Your code is 161803")
    resources = harness.resources
    first = MailPoller(build_context(resources), resources.mail_service, resources.accounts)
    second = MailPoller(build_context(resources), resources.mail_service, resources.accounts)
    await asyncio.gather(first.poll(mailbox.ref), second.poll(mailbox.ref))
    await first.poll(mailbox.ref)
    assert len(pushes(user)) == 1


async def test_another_letter_moves_the_record_and_pushes_the_second_letter_once(
    harness: Harness,
):
    user = await connected(harness)
    mail, card_id = await buy(harness, user)
    harness.emulator.deliver_mail(mail.id, "Your code is 111111")
    await harness.poll()
    old_ref = (await record(harness, user, mail.id)).ref
    await user.press("📨 Another letter", card_id)
    await user.press(user.message(card_id).button_starting("✅ Another letter for"), card_id)
    renewed = await record(harness, user, mail.id)  # found through its earlier id
    assert renewed.id != mail.id
    assert renewed.state is MailState.WAITING
    assert renewed.previous_ids == [mail.id]
    assert renewed.card_message_id == card_id
    # A poll of the old ref (a lease taken before the move) stops quietly.
    poller = MailPoller(
        harness.worker.ctx, harness.resources.mail_service, harness.resources.accounts
    )
    assert await poller.poll(old_ref) is None

    await harness.advance(10)
    assert len(pushes(user)) == 1
    harness.emulator.deliver_mail(renewed.id, "Your code is 222222")
    await harness.advance(10)
    await harness.advance(10)
    texts = pushes(user)
    assert len(texts) == 2
    assert "Code: 222222" in texts[1]
    final = await record(harness, user, renewed.id)
    assert [(letter.mail_id, letter.delivered) for letter in final.letters] == [
        (mail.id, True),
        (renewed.id, True),
    ]
    assert "2. 🔑 222222" in card(user, card_id)


async def test_letter_that_came_while_the_bot_was_down(tmp_path: Path):
    redis = FakeAsyncRedis()
    async with running_harness(tmp_path, redis=redis, SMS_PROVIDERS=MAIL_PROVIDERS) as first:
        user = await connected(first)
        mail, card_id = await buy(first, user)
        server, emulator = first.server, first.emulator
    emulator.deliver_mail(mail.id, "Your code is 999000")
    async with running_harness(
        tmp_path, redis=redis, server=server, emulator=emulator, SMS_PROVIDERS=MAIL_PROVIDERS
    ) as second:
        again = second.wrap(user.side)
        await second.poll()
        await second.advance(10)
        assert len(pushes(again)) == 1
        assert "Code: 999000" in pushes(again)[0]
        assert "The letter has arrived." in card(again, card_id)


async def test_provider_faults_back_off_then_the_letter_comes(harness: Harness):
    user = await connected(harness)
    mail, _ = await buy(harness, user)
    mailbox = await record(harness, user, mail.id)
    harness.emulator.deliver_mail(mail.id, "Your code is 424242")
    harness.emulator.faults.configure(
        rate=1.0, kinds=["error_sql", "http_5xx"], actions={"checkMailActivation"}
    )
    await harness.poll()
    assert pushes(user) == []
    assert await harness.resources.schedule.is_followed(member(mailbox.ref))
    harness.emulator.faults.configure(rate=0.0, kinds=[])
    await harness.advance(600)
    assert len(pushes(user)) == 1


async def test_blocked_user_gets_the_letter_after_unblocking(harness: Harness):
    user = await connected(harness)
    mail, _ = await buy(harness, user)
    user.side.block_bot()
    await harness.feed()
    harness.emulator.deliver_mail(mail.id, "Your code is 123987")
    await harness.advance(10)
    assert pushes(user) == []
    mailbox = await record(harness, user, mail.id)
    assert [letter.delivered for letter in mailbox.letters] == [False]
    user.side.unblock_bot()
    await harness.feed()
    await harness.advance(301)
    assert len(pushes(user)) == 1
    await harness.advance(301)
    assert len(pushes(user)) == 1


async def test_provider_forgets_the_mailbox(harness: Harness):
    user = await connected(harness)
    mail, card_id = await buy(harness, user)
    del harness.emulator.world.mails[mail.id]
    await harness.poll()
    mailbox = await record(harness, user, mail.id)
    assert mailbox.state is MailState.GONE
    assert "SMS-Activate no longer knows this mailbox; it is closed." in card(user, card_id)
    assert not await harness.resources.schedule.is_followed(member(mailbox.ref))


@pytest.mark.parametrize(
    ("language", "expected"),
    [
        ("en", "No letter came in time: the mailbox is closed, the money refunded."),
        ("ru", "Письмо не пришло вовремя: ящик закрыт, деньги вернулись."),
    ],
)
async def test_a_mailbox_forgotten_after_its_lifetime_expired(
    harness: Harness, language: str, expected: str
):
    """Providers forget a mailbox once it ran out (and refund it): that reads as the expiry."""
    user = await connected(harness, language)
    mail, card_id = await buy(harness, user)
    mailbox = await record(harness, user, mail.id)
    harness.emulator.advance(mailbox.expires_at - harness.emulator.clock.now())
    del harness.emulator.world.mails[mail.id]
    await harness.poll()
    mailbox = await record(harness, user, mail.id)
    assert mailbox.state is MailState.EXPIRED
    shown = card(user, card_id)
    assert expected in shown
    assert "❔" not in shown


async def test_gives_up_on_a_provider_that_never_closes(harness: Harness):
    user = await connected(harness)
    mail, card_id = await buy(harness, user)
    harness.emulator.mails[mail.id].expires_at += 10 * 24 * 3600  # it keeps saying WAIT_LINK
    await harness.advance(20 * 60 + 5)
    assert (await record(harness, user, mail.id)).state is MailState.WAITING
    await harness.advance(11 * 60)
    mailbox = await record(harness, user, mail.id)
    assert mailbox.state is MailState.EXPIRED
    assert "No letter came in time" in card(user, card_id)
    assert not await harness.resources.schedule.is_followed(member(mailbox.ref))
