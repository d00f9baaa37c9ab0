"""What keeps a poll cheap: one schedule call per batch, user views kept until the user
changes, a user's polls on one grid, and card edits that never hold a poll."""

from __future__ import annotations

import asyncio
import itertools
import time
from types import SimpleNamespace
from typing import Any, cast
from unittest.mock import AsyncMock

import pytest
from fakeredis import FakeAsyncRedis

from bot.storage.activations import Code, State
from bot.storage.records import Stored
from bot.storage.schedule import Schedule, Turn
from bot.storage.secrets import KeyCipher
from bot.storage.users import Standing, UserRepo
from bot.worker.context import WorkerContext
from bot.worker.outbox import Outbox
from bot.worker.pacing import CODE_IN_ALONE, FOLLOW_AT_LEAST, Pace, next_poll
from bot.worker.runner import Worker
from bot.worker.views import UserViews
from tests.records import NOW, activation_record

KEY = "A1b2C3d4E5f6G7h8I9j0-very-secret"


class Clock:
    def __init__(self) -> None:
        self.now = 1_000.0

    def __call__(self) -> float:
        return self.now


async def test_a_turn_gives_back_and_claims_in_one_call_and_says_when_next_is_due() -> None:
    redis = FakeAsyncRedis()
    clock = Clock()
    schedule = Schedule(redis, clock)
    for n in range(5):
        await schedule.add(f"act:p:{n}", clock.now + n)
    first = await schedule.turn(10, lease=30)
    assert first.claimed == ["act:p:0"]
    assert first.next_in == 1.0
    clock.now += 2
    second = await schedule.turn(10, lease=30, releases=[("act:p:0", clock.now + 10)])
    assert sorted(second.claimed) == ["act:p:1", "act:p:2"]
    assert second.next_in == 1.0  # act:p:3; act:p:0 is due again in 10 s
    third = await schedule.turn(
        10, lease=30, releases=[("act:p:1", None), ("act:p:2", clock.now + 1)]
    )
    assert third.claimed == []
    assert not await schedule.is_followed("act:p:1")
    assert await schedule.is_followed("act:p:2")


async def test_a_turn_claims_what_falls_due_soon_with_when_and_reads_the_records() -> None:
    redis = FakeAsyncRedis()
    clock = Clock()
    schedule = Schedule(redis, clock)
    for member, due_in in (("act:p:1", 0), ("act:p:2", 0.2), ("rent:p:3", 0.1), ("act:p:4", 1)):
        await schedule.add(member, clock.now + due_in)
    await redis.set("rec:act:p:1", '{"ref": "p:1"}')
    turn = await schedule.turn(
        10, lease=30, ahead=0.25, records={"act": "rec:act:", "mail": "rec:mail:"}
    )
    assert sorted(turn.claimed) == ["act:p:1", "act:p:2", "rent:p:3"]
    assert turn.due_in == pytest.approx({"act:p:1": 0, "act:p:2": 0.2, "rent:p:3": 0.1})
    # Its own record, or None when there is none; a kind not asked for is not read.
    assert turn.records == {"act:p:1": Stored('{"ref": "p:1"}'), "act:p:2": Stored(None)}
    assert turn.next_in == pytest.approx(1)  # act:p:4, not claimed


def bare_context(redis: FakeAsyncRedis) -> WorkerContext:
    """What the worker loop itself reads of its context (the pollers here are the tests')."""
    ctx = SimpleNamespace(
        redis=redis,
        guard=SimpleNamespace(sync=AsyncMock()),
        views=SimpleNamespace(seq=-1, synced=lambda seq, users: None),
        clock=time.time,
        events=SimpleNamespace(polled=lambda kind: None),
        outbox=SimpleNamespace(drain=AsyncMock()),
        settings=SimpleNamespace(poll_interval=5.0),
    )
    return cast(WorkerContext, ctx)


async def test_items_waiting_for_their_moment_take_no_slot_from_items_due() -> None:
    redis = FakeAsyncRedis()
    schedule = Schedule(redis, time.time)
    last_polled = asyncio.Event()

    async def poll(ref: str, stored: Stored | None) -> float | None:
        if ref == "p:3":
            last_polled.set()
        else:
            await last_polled.wait()  # two slow polls fill both slots
        return None

    # Due well after the first turns (a slow machine must not start the loop past them).
    worker = Worker(bare_context(redis), schedule, {"act": poll}, batch=2, ahead=1.0)
    now = time.time()
    for n, due_in in ((1, 0.5), (2, 0.55), (3, 0.6)):  # p:3 comes last in every turn
        await schedule.add(f"act:p:{n}", now + due_in)
    running = asyncio.create_task(worker.run())
    # The third was claimed while the first two waited for their moment, so it is polled
    # although both slots are taken by then.
    await asyncio.wait_for(last_polled.wait(), 10)
    worker.stop()
    await running


async def test_items_claimed_together_are_each_polled_at_their_due_time_not_before() -> None:
    redis = FakeAsyncRedis()
    schedule = Schedule(redis, time.time)
    turns: list[list[str]] = []
    turn = schedule.turn

    async def counted(*args: Any, **kwargs: Any) -> Turn:
        result = await turn(*args, **kwargs)
        if result.claimed:
            turns.append(sorted(result.claimed))
        return result

    schedule.turn = counted  # type: ignore[method-assign]
    polled: dict[str, tuple[float, Stored | None]] = {}
    both = asyncio.Event()

    async def poll(ref: str, stored: Stored | None) -> float | None:
        polled[ref] = (time.time(), stored)
        if len(polled) == 2:
            both.set()
        return None

    worker = Worker(
        bare_context(redis), schedule, {"act": poll}, ahead=0.25, records={"act": "rec:"}
    )
    started = time.time()
    due = {"p:1": started + 0.05, "p:2": started + 0.2}
    for ref, at in due.items():
        await schedule.add(f"act:{ref}", at)
    await redis.set("rec:p:2", "{}")
    running = asyncio.create_task(worker.run())
    await asyncio.wait_for(both.wait(), 10)
    worker.stop()
    await running
    assert turns[0] == ["act:p:1", "act:p:2"]  # one turn claimed both
    for ref, at in due.items():
        assert polled[ref][0] >= at - 0.01  # never early (sleep rounds to the loop's clock)
    assert polled["p:1"][1] == Stored(None)
    assert polled["p:2"][1] == Stored("{}")


async def test_a_turn_tells_which_users_changed_since_the_last() -> None:
    redis = FakeAsyncRedis()
    schedule = Schedule(redis, Clock())
    users = UserRepo(redis, KeyCipher("a-test-secret-of-enough-length"))
    first = await schedule.turn(0, lease=30)
    assert first.changed_users is None  # nothing seen yet: forget everything
    await users.set_credentials(7, "sandbox", KEY)
    await users.pause(8, "BAD_KEY")
    second = await schedule.turn(0, lease=30, since=first.changes_seq)
    assert sorted(second.changed_users or []) == [7, 8]
    book = await users.account_book(7)
    assert book.default is not None
    await users.forget_accounts(7, [book.default])
    third = await schedule.turn(0, lease=30, since=second.changes_seq)
    assert third.changed_users == [7]
    fourth = await schedule.turn(0, lease=30, since=third.changes_seq)
    assert fourth.changed_users == []


class CountingUsers(UserRepo):
    """Counts how often what a worker keeps of a user is read."""

    reads = 0

    async def standing(self, user_id: int) -> Standing:
        self.reads += 1
        return await super().standing(user_id)


async def test_a_view_is_kept_until_the_change_log_names_its_user() -> None:
    redis = FakeAsyncRedis()
    schedule = Schedule(redis, Clock())
    users = CountingUsers(redis, KeyCipher("a-test-secret-of-enough-length"))
    await users.set_credentials(7, "sandbox", KEY)
    views = UserViews(users)
    turn = await schedule.turn(0, lease=30, since=views.seq)
    views.synced(turn.changes_seq, turn.changed_users)
    for _ in range(5):
        view = await views.get(7)
    assert users.reads == 1
    first = view.book.default
    assert first is not None
    await users.set_credentials(7, "sandbox", KEY + "-new")  # a second account, the default
    turn = await schedule.turn(0, lease=30, since=views.seq)
    views.synced(turn.changes_seq, turn.changed_users)
    view = await views.get(7)
    assert users.reads == 2
    assert len(view.book.active) == 2
    assert view.book.default not in (None, first)
    await users.pause(7, "BAD_KEY", first)
    turn = await schedule.turn(0, lease=30, since=views.seq)
    views.synced(turn.changes_seq, turn.changed_users)
    view = await views.get(7)
    assert view.pauses.covers(first)
    assert not view.pauses.covers(view.book.default or "")
    assert view.locale("en") == "en"
    assert not view.blocked
    await users.set_locale(7, "ru")
    await users.set_blocked(7, True)
    turn = await schedule.turn(0, lease=30, since=views.seq)
    views.synced(turn.changes_seq, turn.changed_users)
    view = await views.get(7)
    assert view.locale("en") == "ru"
    assert view.blocked


async def test_a_users_items_come_due_together_and_users_spread_over_the_interval() -> None:
    base = 5.0
    items = [activation_record(n, user_id=42, at=NOW + n * 0.7) for n in range(4)]
    at = {item.id: NOW + item.id * 0.7 for item in items}
    for _ in range(6):
        for item in items:
            next_at = next_poll(item, at[item.id], base)
            assert next_at is not None
            assert abs(next_at - at[item.id] - base) <= 0.15 * base + 1e-6
            at[item.id] = next_at
    assert max(at.values()) - min(at.values()) < 1e-6  # on the user's grid, together
    phases = []
    for user in range(1, 11):
        item, when = activation_record(1, user_id=user), NOW
        for _ in range(6):
            when = next_poll(item, when, base) or 0.0
        phases.append(when % base)
    phases.sort()
    gaps = [b - a for a, b in itertools.pairwise([*phases, phases[0] + base])]
    assert max(gaps) < 0.3 * base  # ten users spread over the interval, not bunched


def test_an_item_asked_on_its_own_keeps_its_interval_and_a_follower_is_seldom_polled() -> None:
    base = 5.0
    item = activation_record(7, user_id=42, at=NOW)
    when = NOW + 0.3
    for _ in range(6):  # no grid to reach: never early, so never an extra getStatus
        next_at = next_poll(item, when, base, pace=Pace.OWN)
        assert next_at == pytest.approx(when + base)
        when = next_at or 0.0
    follower = next_poll(item, when, base, pace=Pace.FOLLOW)
    assert follower is not None
    assert follower - when >= FOLLOW_AT_LEAST * (1 - 0.15)


def test_an_item_with_its_code_in_is_seldom_asked_on_its_own() -> None:
    """No SMS comes before "Another code": a getStatus of its own only looks for a close made
    on the provider's site, so it is asked every five minutes; from a listing (nearly free)
    every minute, and at the interval again once "Another code" makes it RETRY."""
    base = 5.0
    item = activation_record(7, user_id=42, at=NOW)
    code_in = item.model_copy(
        update={"state": State.CODE, "codes": [Code(code="1234", at=NOW + 20, delivered=True)]}
    )
    when = NOW + 30
    alone = next_poll(code_in, when, base, pace=Pace.OWN)
    assert alone == pytest.approx(when + CODE_IN_ALONE)
    listed = next_poll(code_in, when, base, pace=Pace.LEAD)
    assert listed is not None
    assert listed - when == pytest.approx(60.0, rel=0.15)
    asked_again = next_poll(
        code_in.model_copy(update={"state": State.RETRY}), when, base, pace=Pace.OWN
    )
    assert asked_again == pytest.approx(when + base)


class SlowChatNotifier:
    """Edits wait a while for one chat (its slot is busy); records what was sent."""

    def __init__(self, slow_chat: int) -> None:
        self.slow_chat = slow_chat
        self.release = asyncio.Event()
        self.edits: list[tuple[int, int, str]] = []

    def edit_ready_in(self, chat_id: int) -> float:
        return 0.0

    async def edit(self, chat_id: int, message_id: int, text: str, markup: Any) -> bool:
        if chat_id == self.slow_chat:
            await self.release.wait()
        self.edits.append((chat_id, message_id, text))
        return True


async def test_card_edits_merge_per_card_and_a_slow_chat_holds_no_other() -> None:
    notifier = SlowChatNotifier(slow_chat=1)
    cards = Outbox(notifier, claims=None)  # type: ignore[arg-type]
    cards.submit(1, 10, "first", None)  # waits for chat 1's slot
    await asyncio.sleep(0)
    cards.submit(1, 10, "second", None)
    cards.submit(1, 10, "third", None)  # merged with "second": only the newest is sent
    cards.submit(2, 20, "other chat", None)
    for _ in range(5):
        await asyncio.sleep(0)
    assert notifier.edits == [(2, 20, "other chat")]  # not held up by chat 1
    notifier.release.set()
    await cards.drain()
    assert notifier.edits[1:] == [(1, 10, "first"), (1, 10, "third")]
