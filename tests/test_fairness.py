"""One user's flood cannot stall another user, and a slow provider delays only its own users.

The door (bot/door.py) counts each user's updates on arrival, before any lock: beyond
THROTTLE_RATE per window, or beyond a few in flight, they are turned away with one "slow
down" per window. Each provider has its own lane (bot/provider/lane.py): one that hangs holds
a bounded share of the updates in flight, and its users hear "busy" beyond that.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterable
from decimal import Decimal
from pathlib import Path
from typing import Any

import httpx
import pytest
from aiogram.types import Update

from bot.door import PER_USER_IN_FLIGHT, Door
from bot.factory import UPDATES_IN_FLIGHT
from bot.provider.hub import ProviderHub
from bot.provider.lane import LANE_CALLS, LANE_WAITING, ProviderBusy, ProviderLane
from bot.provider.presets import ProviderPreset
from bot.sandbox import Clock, Emulator, EmulatorConfig
from tests.harness import GOOD_KEY, PROVIDER_URL, START, Harness, running_harness

HOST_A = httpx.URL(PROVIDER_URL).host
SLOW_DOWN = "Slow down a little, please: too many messages at once."


def pending_updates(harness: Harness) -> list[Update]:
    return [
        Update.model_validate(raw, context={"bot": harness.bot})
        for raw in harness.server.take_updates()
    ]


async def feed_concurrently(harness: Harness) -> None:
    updates = pending_updates(harness)
    await asyncio.gather(*(harness.dispatcher.feed_update(harness.bot, u) for u in updates))


async def test_a_flood_of_slow_commands_is_turned_away_and_others_are_served(
    tmp_path: Path,
) -> None:
    # The throttle's window is wide open here: only the door (updates in flight) decides.
    async with running_harness(tmp_path, THROTTLE_RATE=1000) as harness:
        flooder = await harness.connected(name="Flood")
        other = harness.user(first_name="Quiet")
        harness.emulator.faults.configure(0.0, [], latency=0.3, actions=["getBalance"])
        before = sum(1 for call in harness.emulator.calls if call.action == "getBalance")
        for _ in range(20):
            await flooder.side.send("/balance")
        await other.side.send("/help")
        await feed_concurrently(harness)
        balances = sum(1 for call in harness.emulator.calls if call.action == "getBalance")
        assert balances - before <= PER_USER_IN_FLIGHT
        assert flooder.texts().count(SLOW_DOWN) == 1
        assert any("What I can do" in text for text in other.texts())


class Hung(httpx.AsyncBaseTransport):
    """A provider host that answers nothing until released; the others pass through."""

    def __init__(self, inner: httpx.AsyncBaseTransport, host: str) -> None:
        self.inner = inner
        self.host = host
        self.release = asyncio.Event()
        self.release.set()
        self.waiting = 0
        self.entered = asyncio.Event()

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        if request.url.host == self.host and not self.release.is_set():
            self.waiting += 1
            self.entered.set()
            try:
                await self.release.wait()
            finally:
                self.waiting -= 1
        return await self.inner.handle_async_request(request)


def hung_on(host: str, hung: list[Hung]) -> Any:
    def wrap(inner: httpx.AsyncBaseTransport) -> httpx.AsyncBaseTransport:
        hung.append(Hung(inner, host))
        return hung[0]

    return wrap


async def test_the_throttle_counts_on_arrival_before_the_chat_lock(tmp_path: Path) -> None:
    hung: list[Hung] = []
    async with running_harness(
        tmp_path, THROTTLE_RATE=4, THROTTLE_WINDOW=600, wrap_transport=hung_on(HOST_A, hung)
    ) as harness:
        user = await harness.connected()  # three updates of the window: /start, a tap, a key
        hung[0].release.clear()
        await user.side.send("/balance")
        (first,) = pending_updates(harness)
        running = asyncio.create_task(harness.dispatcher.feed_update(harness.bot, first))
        # The first update holds the chat's lock now.
        await asyncio.wait_for(hung[0].entered.wait(), 60)
        for _ in range(5):
            await user.side.send("/help")
        await feed_concurrently(harness)
        # Turned away while the first still holds the lock: counted on arrival.
        assert not running.done()
        assert user.texts().count(SLOW_DOWN) == 1
        hung[0].release.set()
        await running
        assert any("Balance on HeroSMS" in text for text in user.texts())
        assert not any("What I can do" in text for text in user.texts())


async def polled(harness: Harness, updates: Iterable[Update]) -> dict[int, asyncio.Task[Any]]:
    """Feed updates as aiogram's polling does: a task each, at most UPDATES_IN_FLIGHT at once
    (the next update is not even fetched while all places are taken)."""
    places = asyncio.Semaphore(UPDATES_IN_FLIGHT)
    tasks: dict[int, asyncio.Task[Any]] = {}

    async def one(update: Update) -> None:
        try:
            await harness.dispatcher.feed_update(harness.bot, update)
        finally:
            places.release()

    for update in updates:
        await places.acquire()
        tasks[update.update_id] = asyncio.create_task(one(update))
    return tasks


async def test_a_hung_provider_delays_only_its_own_users(tmp_path: Path) -> None:
    hung: list[Hung] = []
    emulator = Emulator(EmulatorConfig(seed=7), Clock(frozen_at=START))
    emulator.add_account(GOOD_KEY, balance=Decimal("50"))
    async with running_harness(
        tmp_path, emulator=emulator, wrap_transport=hung_on(HOST_A, hung)
    ) as harness:
        stuck = [await harness.connected(name=f"A{n}") for n in range(30)]
        other = await harness.connected(name="B", provider="SMSHub")
        quiet = harness.user(first_name="Quiet")
        hung[0].release.clear()
        for _ in range(5):
            for user in stuck:
                await user.side.send("/balance")
        await other.side.send("/balance")
        await quiet.side.send("/help")
        flood = pending_updates(harness)
        feeder = asyncio.create_task(polled(harness, flood))
        # A deadlock guard, not a time limit: without lanes the feeder never gets this far.
        tasks = await asyncio.wait_for(feeder, 120)
        others = [tasks[flood[-2].update_id], tasks[flood[-1].update_id]]
        await asyncio.wait_for(asyncio.gather(*others), 120)
        assert any("Balance on SMSHub" in text for text in other.texts())
        assert any("What I can do" in text for text in quiet.texts())
        # Served while the hung provider still holds its users' requests, and only a lane's
        # worth of them: the rest were told it is busy.
        assert 0 < hung[0].waiting <= LANE_CALLS
        busy = [u for u in stuck if any("answering slowly" in t for t in u.texts())]
        assert busy
        hung[0].release.set()
        await asyncio.wait_for(asyncio.gather(*tasks.values()), 120)
        assert all(task.exception() is None for task in tasks.values())


async def test_a_turned_away_tap_is_answered_and_a_turned_away_key_deleted(
    tmp_path: Path,
) -> None:
    async with running_harness(tmp_path, THROTTLE_RATE=2, THROTTLE_WINDOW=600) as harness:
        user = harness.user()
        await user.send("/start")
        await user.send("/help")
        query = await user.press("HeroSMS", user.chat[1].message_id)
        answer = user.side.callback_answers[query]
        assert answer.text == SLOW_DOWN
        sent = await user.send(GOOD_KEY)
        assert user.deleted(sent)
        assert "I deleted your message with the key" in user.last().text
        assert SLOW_DOWN not in user.texts()  # once per window: the tap has heard it


def test_one_slow_down_per_window() -> None:
    now = [0.0]
    door = Door(rate=3, window=10, clock=lambda: now[0])
    admitted = [door.enter(7) for _ in range(6)]
    for _ in range(sum(admitted)):
        door.leave(7)
    assert admitted == [True, True, True, False, False, False]
    assert [door.warn(7) for _ in range(3)] == [True, False, False]
    assert door.enter(8)  # another user has a window of their own
    now[0] = 10.0
    admitted = [door.enter(7) for _ in range(4)]
    assert admitted == [True, True, True, False]
    assert door.warn(7)  # a new window: one "slow down" again


def test_updates_in_flight_beyond_the_share_of_a_user_are_turned_away() -> None:
    door = Door(rate=100, window=10)
    assert all(door.enter(1) for _ in range(PER_USER_IN_FLIGHT))
    assert not door.enter(1)
    door.leave(1)
    assert door.enter(1)


def test_a_hung_provider_cannot_take_every_update_in_flight() -> None:
    # Each of its stuck requests holds one user's updates: that one and those queued behind
    # it on the user's chat lock. (More may wait only while places turn over fast, each for
    # LANE_WAIT at most.)
    assert (LANE_CALLS + LANE_WAITING) * PER_USER_IN_FLIGHT < UPDATES_IN_FLIGHT


async def test_a_full_lane_of_a_slow_provider_refuses_instead_of_queueing() -> None:
    lane = ProviderLane(calls=1, waiting=1, wait=0.05)
    held = asyncio.Event()
    release = asyncio.Event()

    async def hold() -> None:
        async with lane.place("getBalance"):
            held.set()
            await release.wait()

    holder = asyncio.create_task(hold())
    await held.wait()
    waiter = asyncio.create_task(_enter(lane))
    await asyncio.sleep(0)
    with pytest.raises(ProviderBusy):  # the one waiting place is taken: refused at once
        await _enter(lane)
    with pytest.raises(ProviderBusy):  # no place freed up in time
        await waiter
    release.set()
    await holder
    await _enter(lane)  # free again
    assert lane.in_flight == 0


async def test_a_full_lane_of_a_provider_answering_in_time_lets_a_burst_wait() -> None:
    """A popular provider answering as usual: a burst beyond the lane waits its turn, none is
    told the provider is busy."""
    lane = ProviderLane(calls=1, waiting=1, wait=5.0, window=1.0)
    for _ in range(20):  # places have been turning over: 20 in the window
        await _enter(lane)
    assert lane.may_wait() >= 10
    release = asyncio.Event()

    async def hold() -> None:
        async with lane.place("getStatus"):
            await release.wait()

    holder = asyncio.create_task(hold())
    await asyncio.sleep(0)
    burst = [asyncio.create_task(_enter(lane)) for _ in range(10)]
    await asyncio.sleep(0)
    release.set()
    await holder
    await asyncio.gather(*burst)  # none raised ProviderBusy
    assert lane.in_flight == 0


async def test_a_provider_that_just_hung_is_not_taken_for_a_healthy_one() -> None:
    """Its requests are fresh, but no place has been freed for a window: only the fixed few
    may wait, so its users' updates do not pile up while its first requests age."""
    lane = ProviderLane(calls=2, waiting=1, wait=5.0, window=0.05)
    for _ in range(20):  # it was answering quickly...
        await _enter(lane)
    await asyncio.sleep(0.1)  # ...then stopped: the window holds no freed place
    release = asyncio.Event()

    async def hold() -> None:
        async with lane.place("getBalance"):
            await release.wait()

    holders = [asyncio.create_task(hold()) for _ in range(2)]
    await asyncio.sleep(0)
    waiter = asyncio.create_task(_enter(lane))
    await asyncio.sleep(0)
    with pytest.raises(ProviderBusy):
        await _enter(lane)
    release.set()
    await asyncio.gather(*holders, waiter)


def test_the_worker_polls_through_lanes_of_its_own() -> None:
    preset = ProviderPreset(name="herosms", title="HeroSMS", url="https://a.example/api.php")
    hub = ProviderHub([preset], httpx.AsyncClient())
    background = hub.background()
    assert background.lane("herosms") is not None
    assert background.lane("herosms") is not hub.lane("herosms")
    assert background.preset("herosms") is hub.preset("herosms")


async def _enter(lane: ProviderLane) -> None:
    async with lane.place("getBalance"):
        pass
