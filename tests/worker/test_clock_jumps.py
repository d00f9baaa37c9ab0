"""A wall clock that jumps (NTP stepping a wrong clock, a VM resumed) cancels nothing by itself.

The bot's host clock jumps while the provider's does not: the emulator's clock is the real
time passing, and the bot's wall clock is it plus a jump the test chooses.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections import Counter
from decimal import Decimal
from pathlib import Path

import pytest
from fakeredis import FakeAsyncRedis
from redis.asyncio import Redis

from bot.sandbox import Clock, Emulator, EmulatorConfig
from bot.sandbox.models import ActivationStatus
from bot.storage.records import Stored
from bot.storage.schedule import Schedule
from bot.worker import build_worker
from bot.worker.activations import BURST_CANCELS
from bot.worker.clockguard import ClockGuard
from tests.harness import GOOD_KEY, START, ChatUser, running_harness
from tests.worker.test_worker import buy, code_pushes, real_redis

__all__ = ["real_redis"]

HOURS = 3600.0
NUMBERS = 25
CANCELLED = "I cancelled it just before it expired"


class HostClock:
    """The bot host's wall clock: the real time (the emulator's) plus the jumps so far."""

    def __init__(self, real: Clock) -> None:
        self.real = real
        self.offset = 0.0

    def now(self) -> float:
        return self.real.now() + self.offset

    def jump(self, seconds: float) -> None:
        self.offset += seconds


def cancels(user: ChatUser) -> int:
    return sum(1 for m in user.chat if m.from_bot and CANCELLED in m.text)


def waiting(emulator: Emulator) -> int:
    return sum(1 for a in emulator.activations.values() if a.status is ActivationStatus.WAIT_CODE)


async def test_a_jump_of_hours_cancels_nothing_and_deadlines_keep_their_distance(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    emulator = Emulator(EmulatorConfig(seed=7), Clock(frozen_at=START))
    emulator.add_account(GOOD_KEY, balance=Decimal(1000))
    host = HostClock(emulator.clock)
    async with running_harness(tmp_path, emulator=emulator, clock=host.now) as harness:
        user = await harness.connected()
        for _ in range(NUMBERS):
            await buy(harness, user)
        await harness.advance(60)
        assert waiting(emulator) == NUMBERS

        host.jump(3 * HOURS)  # every number now looks expired by hours on the bot's clock
        with caplog.at_level(logging.WARNING):
            for _ in range(3):
                await harness.advance(5)
        assert "the wall clock jumped +10800 s" in caplog.text
        assert cancels(user) == 0
        assert waiting(emulator) == NUMBERS
        assert not any("Expired" in m.text for m in user.chat if m.from_bot)

        # Re-based, not forgotten: as the real end comes near, the numbers are cancelled on time.
        # Bought 75 s ago; auto-cancel in the last 60 s of 20 minutes.
        await harness.advance(20 * 60 - 60 - 75 - 120)  # two minutes before that window
        assert cancels(user) == 0
        await harness.advance(120 + 30)  # inside it: at most a burst per pass
        assert cancels(user) == min(NUMBERS, BURST_CANCELS)
        await harness.advance(20)  # the rest at their next poll, still before the end
        assert cancels(user) == NUMBERS
        assert waiting(emulator) == 0


async def test_a_jump_back_delays_nothing_and_cancels_nothing_early(tmp_path: Path) -> None:
    emulator = Emulator(EmulatorConfig(seed=7), Clock(frozen_at=START))
    emulator.add_account(GOOD_KEY, balance=Decimal(1000))
    host = HostClock(emulator.clock)
    host.jump(2 * HOURS)  # the host clock was fast...
    async with running_harness(tmp_path, emulator=emulator, clock=host.now) as harness:
        # As the real schedule does (Redis TIME, on the same host): a step beyond a minute
        # between two readings is a jump, re-based. This test's steps are a minute or less.
        harness.resources.schedule.max_step = 60
        user = await harness.connected()
        activation_id = await buy(harness, user)
        await harness.advance(60)
        host.jump(-2 * HOURS)  # ...and NTP steps it back
        await harness.advance(5)
        emulator.deliver_sms(activation_id, "code 31337", code="31337")
        await harness.advance(10)  # one poll interval, not two hours
        assert code_pushes(user) == Counter({"31337": 1})
        assert cancels(user) == 0


async def test_a_normal_approach_to_expiry_still_cancels(tmp_path: Path) -> None:
    emulator = Emulator(EmulatorConfig(seed=7), Clock(frozen_at=START))
    emulator.add_account(GOOD_KEY, balance=Decimal(1000))
    async with running_harness(tmp_path, emulator=emulator) as harness:
        user = await harness.connected()
        for _ in range(3):
            await buy(harness, user)
        await harness.advance(20 * 60 - 45)  # a leap of the steady clock too: time passing
        assert cancels(user) == 3
        assert waiting(emulator) == 0


async def test_leases_survive_a_jump_of_the_schedule_clock(
    caplog: pytest.LogCaptureFixture,
) -> None:
    """Two workers share the schedule; Redis's clock (the host's) jumps while one holds items."""
    redis = FakeAsyncRedis()
    clock = Clock(frozen_at=START)
    first = Schedule(redis, clock.now, max_step=60)
    second = Schedule(redis, clock.now, max_step=60)
    members = [f"act:p:{n}" for n in range(10)]
    for member in members:
        await first.add(member)
    assert sorted(await first.claim(20, lease=30)) == sorted(members)

    clock.advance(3 * HOURS)
    with caplog.at_level(logging.WARNING):
        assert await second.claim(20, lease=30) == []  # not stolen
    assert "moved +10800 s between two readings" in caplog.text
    for member in members:
        await first.release(member, clock.now() + 5)
    assert await second.claim(20, lease=30) == []  # due in 5 s, not at once
    clock.advance(6)
    assert sorted(await second.claim(20, lease=30)) == sorted(members)


async def test_without_the_bound_a_jump_ends_every_lease() -> None:
    """What the bound prevents: a trusted clock's leap is time passing, leases run out."""
    redis = FakeAsyncRedis()
    clock = Clock(frozen_at=START)
    first, second = Schedule(redis, clock.now), Schedule(redis, clock.now)
    await first.add("act:p:1")
    assert await first.claim(5, lease=30) == ["act:p:1"]
    clock.advance(3 * HOURS)
    assert await second.claim(5, lease=30) == ["act:p:1"]


async def test_redis_time_is_one_clock_for_workers_whose_clocks_differ(
    real_redis: Redis,
) -> None:
    """The real schedule keeps Redis TIME: a worker whose own clock jumped neither steals
    another's leases nor pushes its items hours away."""
    first = Schedule(real_redis)
    jumped = Schedule(real_redis, callers=lambda: time.time() + 3 * HOURS)
    await first.add("act:p:1")
    await first.add("act:p:2")
    assert sorted(await first.claim(5, lease=30)) == ["act:p:1", "act:p:2"]
    assert await jumped.claim(5, lease=30) == []
    await jumped.release("act:p:1", time.time() + 3 * HOURS)  # "now" on its clock
    assert await jumped.claim(5, lease=30) == ["act:p:1"]
    assert await first.lag() < 5


async def test_a_jump_while_no_worker_ran_is_seen_by_the_next_one(
    caplog: pytest.LogCaptureFixture,
) -> None:
    """Within one boot, a worker started later compares its first reading with the last one
    any worker left: the jump is noticed before anything is judged on it."""
    redis = FakeAsyncRedis()
    steady = Clock(frozen_at=1_000.0)  # the machine's monotonic clock
    host = HostClock(Clock(frozen_at=START))
    before = ClockGuard(host.now, steady.now, boot="boot-1")
    await before.sync(redis)
    bought = host.now()
    # The worker stops; ten minutes pass; the clock is stepped two hours forward.
    steady.advance(600)
    host.real.advance(600)
    host.jump(2 * HOURS)
    after = ClockGuard(host.now, steady.now, boot="boot-1")
    with caplog.at_level(logging.WARNING):
        await after.sync(redis)
    assert "the wall clock jumped +7200 s" in caplog.text
    assert after.now_for(bought) - bought == pytest.approx(600)
    # Another boot's steady clock counts from elsewhere: nothing to compare with.
    other = ClockGuard(host.now, steady.now, boot="boot-2")
    await other.sync(redis)
    assert other.now_for(bought) - bought == pytest.approx(600)  # the ledger still knows


async def test_two_workers_do_not_poll_one_number_twice_across_a_jump(tmp_path: Path) -> None:
    """One worker is in the middle of polling its numbers when the host clock (the one the
    schedule reads, as Redis TIME on the same host would) jumps: the other worker takes none
    of them, and every code is pushed once."""
    emulator = Emulator(EmulatorConfig(seed=7), Clock(frozen_at=START))
    emulator.add_account(GOOD_KEY, balance=Decimal(1000))
    host = HostClock(emulator.clock)
    async with running_harness(tmp_path, emulator=emulator, clock=host.now) as harness:
        harness.resources.schedule.max_step = 60  # as the real schedule (steps here are small)
        user = await harness.connected()
        ids = [await buy(harness, user) for _ in range(6)]
        await harness.advance(5)
        first, second = harness.worker, build_worker(harness.resources)
        polled: Counter[str] = Counter()
        gate, all_in = asyncio.Event(), asyncio.Event()
        poll = first.pollers["act"]

        async def held(ref: str, stored: Stored | None) -> float | None:
            polled[ref] += 1
            if sum(polled.values()) == len(ids):
                all_in.set()
            await gate.wait()  # the first worker is slow: its leases are all it has
            return await poll(ref, stored)

        first.pollers["act"] = held
        for activation_id in ids:
            emulator.deliver_sms(activation_id, f"code {activation_id % 100000:05d}", code="1")
        emulator.advance(6)
        busy = asyncio.create_task(first.run_once())
        await asyncio.wait_for(all_in.wait(), 10)
        host.jump(3 * HOURS)
        assert await second.run_once() == 0  # every lease still held
        gate.set()
        assert await busy == len(ids)
        assert set(polled.values()) == {1}
        first.pollers["act"] = poll
        assert sum(code_pushes(user).values()) == len(ids)
        await harness.advance(6)
        await second.run_once()
        assert sum(code_pushes(user).values()) == len(ids)
