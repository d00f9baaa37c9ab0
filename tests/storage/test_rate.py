"""A per-second budget shared by processes, leased in slices and spent locally."""

from __future__ import annotations

from fakeredis import FakeAsyncRedis

from bot.storage.rate import ChatPace, SlicedRate


class FrozenClock:
    def __init__(self, now: float) -> None:
        self.now = now
        self.slept: list[float] = []

    def __call__(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.now += seconds


async def test_processes_share_one_ceiling_and_ask_redis_once_per_slice() -> None:
    redis = FakeAsyncRedis()
    clock = FrozenClock(1_000.0)
    first, second = (
        SlicedRate(redis, "budget:k", 8, slice_size=3, clock=clock, sleep=clock.sleep)
        for _ in range(2)
    )

    async def leased() -> int:
        """Tokens handed out in second 1000: slices of three, one script call each."""
        return int(await redis.get("budget:k:1000") or 0)

    for _ in range(3):
        await first.acquire()
    assert await leased() == 3  # one slice of three, spent locally
    for _ in range(3):
        await second.acquire()
    assert await leased() == 6
    await first.acquire()
    await first.acquire()  # the last two of the second's eight
    assert (await leased(), clock.now) == (9, 1_000.0)  # asked 3, granted the last 2
    await first.acquire()  # the ninth: nothing left this second
    assert clock.now >= 1_001.0
    assert clock.slept


async def test_a_full_second_waits_for_the_next() -> None:
    redis = FakeAsyncRedis()
    clock = FrozenClock(2_000.25)
    rates = [
        SlicedRate(redis, "budget:k", 4, slice_size=2, clock=clock, sleep=clock.sleep)
        for _ in range(2)
    ]
    seconds: list[int] = []
    for n in range(12):
        await rates[n % 2].acquire()
        seconds.append(int(clock.now))
    per_second = {s: seconds.count(s) for s in set(seconds)}
    assert max(per_second.values()) <= 4
    assert sum(per_second.values()) == 12


def chat_pace(redis: FakeAsyncRedis, clock: FrozenClock) -> ChatPace:
    return ChatPace(redis, 1.0, 2, key=lambda chat: f"chat:{chat}", clock=clock, sleep=clock.sleep)


async def test_a_chat_takes_a_burst_then_one_message_a_second_across_processes() -> None:
    redis = FakeAsyncRedis()
    clock = FrozenClock(1_000.0)
    first, second = chat_pace(redis, clock), chat_pace(redis, clock)
    await first.take(7)
    await second.take(7)  # the burst of two: no wait, whichever process sends
    assert clock.now == 1_000.0
    await first.take(7)
    assert clock.now == 1_001.0  # then one a second
    await second.take(7)
    assert clock.now == 1_002.0
    await first.take(8)  # another chat is not held by chat 7
    assert clock.now == 1_002.0
    clock.now += 10  # a quiet chat fills its burst again, and no further
    for _ in range(3):
        await first.take(7)
    assert clock.now == 1_013.0


async def test_a_message_that_may_wait_leaves_one_of_the_burst_for_a_push() -> None:
    redis = FakeAsyncRedis()
    clock = FrozenClock(1_000.0)
    pace = chat_pace(redis, clock)
    await pace.take(7)  # a push
    assert pace.ready_in(7, spare=1) == 1.0  # the card edit waits for the burst to refill
    await pace.take(7, spare=1)
    assert clock.now == 1_001.0
    assert pace.ready_in(7) == 0.0  # and a code arriving right after it goes at once
    await pace.take(7)
    assert clock.now == 1_001.0
    assert pace.ready_in(7) == 1.0
    assert pace.ready_in(7, spare=1) == 2.0


async def test_a_wall_clock_set_back_holds_a_chat_no_longer_than_a_burst() -> None:
    redis = FakeAsyncRedis()
    clock = FrozenClock(10_000.0)
    pace = chat_pace(redis, clock)
    await pace.take(7)
    await pace.take(7)
    clock.now -= 3_600  # the clock is set back an hour: what was learned lies an hour ahead
    assert pace.ready_in(7) <= 2.0
    assert pace.ready_in(7, spare=1) <= 2.0
