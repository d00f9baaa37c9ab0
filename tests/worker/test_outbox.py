"""The outbox sends pushes and card edits beside the polls: a chat's wait holds no poll and no
other chat, pushes go before card edits, and a push is recorded only once Telegram took it,
given back (and its item polled again) when it could not be sent, and dropped when its claim
ran out and another deliverer may have it."""

from __future__ import annotations

import asyncio
from typing import Any

from fakeredis import FakeAsyncRedis

from bot.storage.claims import Claims
from bot.worker.notifier import DeliveryFailed, Sent
from bot.worker.outbox import CLAIM_SECONDS, HeldClaim, Outbox, Push
from tests.harness import Harness


class Steady:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


class ChatNotifier:
    """Sends wait while their chat is held; records what went out, in order."""

    def __init__(self) -> None:
        self.held: dict[int, asyncio.Event] = {}
        self.log: list[tuple[str, int, str]] = []
        self.answer: Sent | Exception = Sent(1)
        self.edit_waits: list[float] = []  # what edit_ready_in answers next, in turn

    def hold(self, chat_id: int) -> asyncio.Event:
        return self.held.setdefault(chat_id, asyncio.Event())

    async def send(self, chat_id: int, text: str, **_: Any) -> Sent:
        if chat_id in self.held:
            await self.held[chat_id].wait()
        if isinstance(self.answer, Exception):
            raise self.answer
        self.log.append(("send", chat_id, text))
        return self.answer

    def edit_ready_in(self, chat_id: int) -> float:
        return self.edit_waits.pop(0) if self.edit_waits else 0.0

    async def edit(self, chat_id: int, message_id: int, text: str, markup: Any) -> bool:
        if chat_id in self.held:
            await self.held[chat_id].wait()
        self.log.append(("edit", chat_id, text))
        return True


class Outcome:
    def __init__(self) -> None:
        self.sent: list[tuple[str, Sent]] = []
        self.failed: list[str] = []

    def push(self, text: str, claim: HeldClaim) -> Push:
        async def sent(answer: Sent) -> None:
            self.sent.append((text, answer))

        async def failed() -> None:
            self.failed.append(text)

        return Push(text, claim, sent=sent, failed=failed)


async def settle() -> None:
    for _ in range(10):
        await asyncio.sleep(0)


async def make(steady: Steady | None = None) -> tuple[Outbox, ChatNotifier, FakeAsyncRedis]:
    redis = FakeAsyncRedis()
    notifier = ChatNotifier()
    return Outbox(notifier, Claims(redis), steady or Steady()), notifier, redis  # type: ignore[arg-type]


async def test_a_held_chat_holds_no_other_and_its_pushes_go_before_its_card_edits() -> None:
    outbox, notifier, _ = await make()
    outcome = Outcome()
    release = notifier.hold(1)
    first = await outbox.claim("claim:a")
    assert first is not None
    outbox.push(1, outcome.push("code A", first))  # waits for chat 1's slot
    outbox.submit(1, 10, "card", None)
    other = await outbox.claim("claim:b")
    assert other is not None
    outbox.push(2, outcome.push("code B", other))
    await settle()
    assert notifier.log == [("send", 2, "code B")]  # chat 1's wait held nothing else
    later = await outbox.claim("claim:c")
    assert later is not None
    outbox.push(1, outcome.push("code C", later))
    release.set()
    await outbox.drain()
    # The card edit asked for before code C waits behind it.
    assert notifier.log[1:] == [("send", 1, "code A"), ("send", 1, "code C"), ("edit", 1, "card")]
    assert [text for text, _ in outcome.sent] == ["code B", "code A", "code C"]


async def test_a_claim_is_taken_once_until_given_back() -> None:
    outbox, notifier, redis = await make()
    claim = await outbox.claim("claim:a")
    assert claim is not None
    assert await outbox.claim("claim:a") is None  # another deliverer has it
    notifier.answer = DeliveryFailed("Bad Request: chat not found")
    outcome = Outcome()
    outbox.push(1, outcome.push("code", claim))
    await outbox.drain()
    assert outcome.failed == ["code"]
    assert outcome.sent == []
    assert await redis.get("claim:a") is None  # given back: the next poll may push it
    assert await outbox.claim("claim:a") is not None


async def test_a_push_to_a_user_who_blocked_the_bot_waits_for_them() -> None:
    outbox, notifier, redis = await make()
    notifier.answer = Sent(None)  # the user blocked the bot
    outcome = Outcome()
    claim = await outbox.claim("claim:a")
    assert claim is not None
    outbox.push(1, outcome.push("code", claim))
    await outbox.drain()
    assert outcome.sent == []
    assert outcome.failed == []
    assert await redis.get("claim:a") is None


async def test_a_push_that_outwaited_its_claim_is_left_to_whoever_holds_it_now() -> None:
    steady = Steady()
    outbox, notifier, redis = await make(steady)
    release = notifier.hold(1)
    outcome = Outcome()
    first = await outbox.claim("claim:first")
    claim = await outbox.claim("claim:a")
    kept = await outbox.claim("claim:b")
    assert first is not None
    assert claim is not None
    assert kept is not None
    outbox.push(1, outcome.push("first", first))  # waits for the chat's slot
    outbox.push(1, outcome.push("lapsed", claim))
    outbox.push(1, outcome.push("kept", kept))
    await settle()
    steady.now += CLAIM_SECONDS  # the two behind it waited as long as a claim lasts...
    await redis.set("claim:a", "another-deliverer")  # ...and the first one's was taken over
    release.set()
    await outbox.drain()
    assert [text for text, _ in outcome.sent] == ["first", "kept"]
    assert await redis.get("claim:a") == b"another-deliverer"  # not dropped
    assert await redis.ttl("claim:b") > CLAIM_SECONDS - 5  # still held, renewed


async def test_a_code_telegram_refused_is_pushed_once_it_accepts(harness: Harness) -> None:
    user = await harness.connected()
    await user.send("/buy tg 6")
    await user.press(user.last().button_starting("✅"))
    [sold] = harness.emulator.activations.values()
    harness.server.fail_next("sendMessage", 400, "Bad Request: something went wrong")
    harness.emulator.deliver_sms(sold.id, "Telegram code 86420", code="86420")
    await harness.poll()
    assert not [m for m in user.chat if "8 6 4 2 0" in m.text and "Code for" in m.text]
    for _ in range(4):
        await harness.advance(harness.resources.settings.poll_interval * 3)
    assert sum("8 6 4 2 0" in m.text for m in user.chat if "Code for" in m.text) == 1


async def test_a_card_edit_waiting_for_its_turn_lets_a_push_go_first() -> None:
    outbox, notifier, _ = await make()
    outcome = Outcome()
    notifier.edit_waits = [30.0, 0.05]  # the chat just had a push: the edit waits its turn
    outbox.submit(1, 10, "card", None)
    await settle()
    assert notifier.log == []
    claim = await outbox.claim("claim:a")
    assert claim is not None
    outbox.push(1, outcome.push("code", claim))  # a code arrives meanwhile: it goes now
    await settle()
    assert notifier.log == [("send", 1, "code")]
    await asyncio.wait_for(outbox.drain(), 1.0)  # then the edit, in its turn
    assert notifier.log == [("send", 1, "code"), ("edit", 1, "card")]
