"""bench/updates.py counts what the bot's Redis client sends, not what Redis runs inside."""

from __future__ import annotations

from fakeredis import FakeAsyncRedis

from bench.updates import count_sent


async def test_commands_are_counted_as_sent_with_their_round_trips() -> None:
    redis = FakeAsyncRedis()
    sent = count_sent(redis)
    await redis.set("a", 1)
    async with redis.pipeline(transaction=False) as pipe:
        pipe.get("a")
        pipe.get("b")
        await pipe.execute()
    assert (sent.commands, sent.round_trips) == (3, 2)
    async with redis.pipeline(transaction=True) as pipe:
        pipe.incr("a")
        await pipe.execute()
    assert (sent.commands, sent.round_trips) == (6, 3)  # MULTI, INCR, EXEC
    # A script is one command, whatever it runs inside Redis.
    script = redis.register_script(
        "redis.call('SET', KEYS[1], 1) return redis.call('GET', KEYS[1])"
    )
    await script(keys=["c"])
    await script(keys=["c"])
    assert sent.round_trips - 3 == sent.commands - 6 >= 2
    async with redis.pipeline(transaction=True) as pipe:
        await pipe.watch("a")  # WATCH and the read after it go at once
        await pipe.get("a")
        pipe.multi()  # type: ignore[no-untyped-call]
        pipe.set("a", 2)
        before = sent.round_trips
        await pipe.execute()
    assert sent.round_trips - before == 1
