"""The worker: every code pushed once, across restarts, two workers, faults and limits."""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import AsyncIterator
from decimal import Decimal
from pathlib import Path

import pytest
from redis.asyncio import Redis

from bot.provider import errors as pe
from bot.provider.lane import ProviderBusy
from bot.storage.embedded import EmbeddedRedis
from bot.storage.records import Stored
from bot.worker import build_activation_poller, build_context, build_worker
from bot.worker.snapshots import CACHE_BOUND
from tests.harness import GOOD_KEY, ChatUser, Harness, running_harness

COUNTRY = 6


@pytest.fixture
async def real_redis(tmp_path: Path) -> AsyncIterator[Redis]:
    """The embedded redis-server: real Lua, real transactions, real leases."""
    server = EmbeddedRedis(tmp_path / "redis")
    redis = Redis.from_url(await server.start())
    yield redis
    await redis.aclose()
    await server.stop()


async def buy(harness: Harness, user: ChatUser, service: str = "tg") -> int:
    await user.send(f"/buy {service} {COUNTRY}")
    button = user.last().button_starting("✅")
    await user.press(button)
    return max(harness.emulator.activations)


def code_pushes(user: ChatUser) -> Counter[str]:
    """How many times each code was pushed to this user."""
    pushes: Counter[str] = Counter()
    for message in user.chat:
        if message.from_bot and "Code for" in message.text:
            pushes[message.text.splitlines()[1].replace(" ", "")] += 1
    return pushes


async def test_code_delivered_after_a_restart_while_waiting(tmp_path, real_redis):
    async with running_harness(tmp_path, redis=real_redis) as first:
        user = first.user()
        await first.connect(user)
        activation_id = await buy(first, user)
        server, emulator = first.server, first.emulator
    # The bot is down while the SMS arrives.
    emulator.deliver_sms(activation_id, "Telegram code: 24680", code="24680")
    async with running_harness(
        tmp_path, redis=real_redis, server=server, emulator=emulator
    ) as second:
        again = second.wrap(user.side)
        await second.poll()
        assert code_pushes(again) == Counter({"24680": 1})
        await second.poll()
        assert code_pushes(again) == Counter({"24680": 1})


async def test_two_workers_deliver_every_code_exactly_once(tmp_path, real_redis):
    async with running_harness(tmp_path, redis=real_redis) as harness:
        harness.emulator.account(GOOD_KEY).balance = Decimal(1000)
        users = []
        for _ in range(4):
            user = await harness.connected()
            users.append(user)
        expected: dict[int, str] = {}
        for index, user in enumerate(users):
            for _ in range(3):
                activation_id = await buy(harness, user)
                expected[activation_id] = f"{index}{activation_id % 10000:04d}"
        second = build_worker(harness.resources)
        for activation_id, code in expected.items():
            harness.emulator.deliver_sms(activation_id, f"Code {code}", code=code)
        for _ in range(4):
            await asyncio.gather(harness.worker.run_once(), second.run_once())
            harness.emulator.advance(6)
        delivered: Counter[str] = Counter()
        for user in users:
            delivered += code_pushes(user)
        assert delivered == Counter(dict.fromkeys(expected.values(), 1))


async def test_second_code_after_another_code(harness: Harness):
    user = await harness.connected()
    activation_id = await buy(harness, user)
    card = user.last().message_id
    harness.emulator.deliver_sms(activation_id, "code 11111", code="11111")
    await harness.poll()
    await user.press("Another code", card)
    harness.emulator.advance(6)
    await harness.poll()  # still waiting: nothing new
    harness.emulator.deliver_sms(activation_id, "code 22222", code="22222")
    await harness.advance(6)
    assert code_pushes(user) == Counter({"11111": 1, "22222": 1})


async def test_telegram_429_storm_and_provider_faults_lose_nothing(tmp_path, real_redis):
    async with running_harness(tmp_path, redis=real_redis) as harness:
        harness.emulator.account(GOOD_KEY).balance = Decimal(1000)
        user = await harness.connected()
        ids = [await buy(harness, user, service) for service in ("tg", "wa", "go", "vk", "fb")]
        harness.server.set_flood(0.33, retry_after=1)
        harness.emulator.faults.configure(
            rate=0.3, kinds=["timeout", "http_5xx", "garbage", "error_sql", "rate_limit"]
        )
        codes = {activation_id: f"7{n:04d}" for n, activation_id in enumerate(ids)}
        for activation_id, code in codes.items():
            harness.emulator.deliver_sms(activation_id, f"code {code}", code=code)
        for _ in range(40):
            if sum(code_pushes(user).values()) == len(codes):
                break
            await harness.advance(30)
        harness.emulator.faults.clear()
        harness.server.set_flood(0.0)
        assert code_pushes(user) == Counter(dict.fromkeys(codes.values(), 1))


@pytest.mark.parametrize(
    ("language", "push", "card_line"),
    [
        ("en", "I cancelled it just before it expired", "Expired without a code"),
        ("ru", "я отменил номер перед самым истечением срока", "Время вышло без кода"),
    ],
)
async def test_activation_about_to_expire_is_cancelled_and_refunded(
    harness: Harness, language: str, push: str, card_line: str
):
    """The bot's own cancel reads as the expiry it is, not as a cancel the user asked for."""
    user = await harness.connected(language)
    balance = harness.emulator.account(GOOD_KEY).balance
    await buy(harness, user)
    card = user.last().message_id
    assert harness.emulator.account(GOOD_KEY).balance < balance
    await harness.advance(20 * 60 - 45)
    assert harness.emulator.account(GOOD_KEY).balance == balance
    assert push in user.last().text
    card_text = user.message(card).text
    assert card_line in card_text
    assert "❌" not in card_text


async def test_revoked_key_pauses_polling_and_tells_once(harness: Harness):
    user = await harness.connected()
    await buy(harness, user)
    harness.emulator.revoke_key(GOOD_KEY)
    for _ in range(3):
        await harness.advance(700)
    notices = [m for m in user.chat if "no longer accepts your API key" in m.text]
    assert len(notices) == 1
    assert await harness.resources.users.is_paused(user.id)


async def test_several_open_activations_share_one_listing(harness: Harness):
    user = await harness.connected()
    harness.emulator.account(GOOD_KEY).balance = Decimal(100)
    for service in ("tg", "wa", "go", "vk", "fb"):
        await buy(harness, user, service)
    harness.emulator.advance(6)
    before = len(harness.emulator.calls)
    await harness.poll()
    actions = Counter(call.action for call in harness.emulator.calls[before:])
    assert actions["getActiveActivations"] == 1
    assert actions["getStatus"] == 0


async def test_one_item_keeps_a_users_pace_and_the_others_are_polled_when_they_change(
    harness: Harness,
):
    """Of a user's numbers served by one listing, only the first waiting one is polled every
    interval; another is polled at once when the listing shows its SMS, and when the first
    one has its code, the next waiting one takes over the pace."""
    user = await harness.connected()
    harness.emulator.account(GOOD_KEY).balance = Decimal(100)
    bought = [await buy(harness, user, service) for service in ("tg", "wa", "go", "vk", "fb")]
    polls: Counter[str] = Counter()
    poll = harness.worker.pollers["act"]

    async def counted(ref: str, stored: Stored | None) -> float | None:
        polls[ref] += 1
        return await poll(ref, stored)

    harness.worker.pollers["act"] = counted
    for _ in range(8):  # the followers settle at their own, slower pace
        await harness.advance(5)
    polls.clear()
    before = len(harness.emulator.calls)
    for _ in range(6):
        await harness.advance(5)
    actions = Counter(call.action for call in harness.emulator.calls[before:])
    assert actions["getStatus"] == 0
    assert actions["getActiveActivations"] <= 7
    # The leader six times, a follower at most once: not 5 x 6 polls.
    assert sum(polls.values()) <= 6 + 4
    first, second, last = bought[0], bought[1], bought[-1]
    harness.emulator.deliver_sms(last, "Facebook code 111-222", code="111-222")
    await harness.advance(5)
    await harness.poll()  # the worker's next turn: the leader's poll made the follower due
    assert code_pushes(user) == Counter({"111-222": 1})
    harness.emulator.deliver_sms(first, "Telegram code 333-444", code="333-444")
    await harness.advance(5)
    assert code_pushes(user)["333-444"] == 1
    await harness.poll()  # the second one leads now
    harness.emulator.deliver_sms(second, "WhatsApp code 555-666", code="555-666")
    await harness.advance(5)
    assert code_pushes(user) == Counter({"111-222": 1, "333-444": 1, "555-666": 1})


async def test_blocked_user_keeps_state_and_gets_codes_after_unblocking(harness: Harness):
    user = await harness.connected()
    activation_id = await buy(harness, user)
    user.side.block_bot()
    await harness.feed()  # Telegram tells the bot (my_chat_member)
    harness.emulator.deliver_sms(activation_id, "code 86420", code="86420")
    await harness.advance(6)
    assert code_pushes(user) == Counter()
    record = await harness.resources.activations.find(user.id, activation_id)
    assert record is not None
    assert [c.code for c in record.codes] == ["86420"]
    user.side.unblock_bot()
    await harness.feed()
    await harness.advance(30)
    assert code_pushes(user) == Counter({"86420": 1})


async def test_reconciliation_adopts_numbers_bought_elsewhere(harness: Harness):
    user = await harness.connected()
    reply = harness.emulator.handle(
        {"api_key": GOOD_KEY, "action": "getNumber", "service": "wa", "country": str(COUNTRY)}
    )
    external_id = int(reply.body.split(":")[1])
    from bot.worker.reconcile import Reconciler

    reconciler = Reconciler(
        harness.worker.ctx, harness.resources.activation_service, harness.resources.accounts
    )
    assert await reconciler.run() == 1
    record = await harness.resources.activations.find(user.id, external_id)
    assert record is not None
    assert record.external
    harness.emulator.deliver_sms(external_id, "WhatsApp code 123-456", code="123-456")
    await harness.advance(6)
    assert code_pushes(user) == Counter({"123-456": 1})


async def test_parsed_snapshots_are_kept_only_while_fresh(harness: Harness):
    """A snapshot serves for seconds; a worker following many users must not keep them all."""
    ctx = build_context(harness.resources)
    poller = build_activation_poller(harness.resources, ctx)
    now = ctx.clock()
    snapshots = poller.snapshots
    for n in range(3 * CACHE_BOUND):
        snapshots._parse(f"stale:{n}", {"at": now - 3600, "items": []})
    assert len(snapshots._parsed.values) <= CACHE_BOUND
    for n in range(3 * CACHE_BOUND):
        snapshots._parse(f"fresh:{n}", {"at": now, "items": []})
    # Fresh ones are all kept (each still saves a fetch), the stale ones are gone.
    expected = sorted(f"fresh:{n}" for n in range(3 * CACHE_BOUND))
    assert sorted(snapshots._parsed.values) == expected


async def test_a_poll_refused_by_the_own_lane_comes_back_within_a_second_uncounted(
    harness: Harness,
):
    """ProviderBusy is this process's lane being full, not the provider failing: no growing
    backoff (at 10,000 open activations it left items unpolled for minutes)."""
    ctx = harness.worker.ctx
    ref = "herosms:1"
    for _ in range(5):
        delay = await ctx.backoff(ref, ProviderBusy("full", action="getStatus"))
        assert 0 < delay <= 1.5
    assert await ctx.redis.get(ctx.backoff_key(ref)) is None
    for _ in range(2):  # a provider that failed: counted, each wait longer than the last
        await ctx.backoff(ref, pe.ProviderTimeout("slow", action="getStatus"))
    assert await ctx.redis.get(ctx.backoff_key(ref)) in (b"2", "2")
