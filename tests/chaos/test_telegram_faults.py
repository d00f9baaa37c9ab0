"""Scenario 3: Telegram answers 429 (retry_after) to a third of sends, and 403 for a user who
blocked the bot.

Everything is delivered later: the codes and card updates the worker sends, and the bot's
replies to what users do. Nothing reaches the blocked user, and nothing of theirs is lost: their
codes wait in Redis, undelivered, and go out once they come back.
"""

from __future__ import annotations

import time
from random import Random

import pytest

from bot.storage.activations import Activation
from tests.chaos.helpers import (
    PROVIDER,
    Customer,
    RedisServer,
    Rig,
    assert_clean_finish,
    delivery_report,
    eventually,
    figures,
    gather_limited,
    log_problems,
    onboard,
    quick_buy,
    settle,
    unique_codes,
)
from tests.faketg import FakeTelegram

pytestmark = pytest.mark.e2e

FLOOD = 1 / 3
RETRY_AFTER = 1
SENDS = frozenset({"sendMessage", "editMessageText", "editMessageReplyMarkup"})


async def records(redis_server: RedisServer, ids: list[int]) -> dict[int, Activation]:
    client = redis_server.client()
    try:
        raws = await client.mget([f"sab:act:{PROVIDER}:{i}" for i in ids])
    finally:
        await client.aclose()
    return {
        i: Activation.model_validate_json(raw)
        for i, raw in zip(ids, raws, strict=True)
        if raw is not None
    }


def refused(telegram: FakeTelegram, status: int) -> int:
    return sum(1 for call in telegram.calls if call.method in SENDS and call.status == status)


async def test_pushes_wait_out_429s_and_keep_a_blocked_users_codes(rig: Rig):
    rng = Random(303)
    rig.fleet.add("bot", RUN_WORKER="0")
    rig.fleet.add("worker-1", "bot.worker")
    await rig.fleet.start_all()
    customers = rig.customers(10, rng)
    await gather_limited((onboard(c) for c in customers), 10)

    async def buy_two(customer: Customer) -> None:
        for _ in range(2):
            await quick_buy(customer)

    await gather_limited((buy_two(c) for c in customers), 10)
    owner = {a: c for c in customers for a in c.activations}
    ids = sorted(owner)
    codes = dict(zip(ids, unique_codes(len(ids), rng), strict=True))
    owners = {codes[a]: owner[a].id for a in ids}
    blocked = customers[0]
    others = [c for c in customers if c is not blocked]

    # The front (long polling) is being redeployed when the user blocks the bot: the worker
    # learns about the block from Telegram's 403, not from the my_chat_member update.
    await settle(rig.fake_telegram)
    assert await rig.fleet.stop("bot") == 0
    rig.fake_telegram.set_flood(FLOOD, retry_after=RETRY_AFTER)
    rig.fake_telegram.block(blocked.id)
    blocked_at = time.monotonic()
    started = time.monotonic()
    rig.provider.send_codes(codes)  # in the order of ids

    expected = {code: chat for code, chat in owners.items() if chat != blocked.id}

    def cards_updated(customer: Customer) -> bool:
        shown = {m.message_id: m.text for m in customer.side.chat}
        return all(
            codes[a] in shown.get(customer.cards[a], "").replace(" ", "")
            for a in customer.activations
        )

    async def others_served() -> bool:
        result = delivery_report(rig.fake_telegram, expected)
        return not result.missing and all(cards_updated(c) for c in others)

    served = await eventually(others_served, timeout=90, interval=0.3)
    seconds = time.monotonic() - started
    flood_429 = refused(rig.fake_telegram, 429)
    blocked_403 = refused(rig.fake_telegram, 403)
    to_blocked = [
        call
        for call in rig.fake_telegram.calls
        if call.method in SENDS
        and call.status == 200
        and call.params.get("chat_id") == blocked.id
        and call.at >= blocked_at
    ]
    kept = await records(rig.redis_server, blocked.activations)
    line = figures(
        "telegram-faults",
        codes=len(ids),
        answered_429=flood_429,
        answered_403=blocked_403,
        delivered=f"{len(expected) - len(delivery_report(rig.fake_telegram, expected).missing)}"
        f"/{len(expected)}",
        all_delivered_s=round(seconds, 1),
        sent_to_blocked=len(to_blocked),
        blocked_codes_kept=sum(len(r.codes) for r in kept.values()),
    )
    rig.report(line)
    assert served, line + "\n" + "\n".join(c.side.transcript() for c in others[:2])
    assert flood_429 > 0, line
    assert blocked_403 > 0, line
    assert not to_blocked, line
    # The blocked user's codes are recorded, not delivered, and not lost.
    for activation_id in blocked.activations:
        record = kept[activation_id]
        assert [c.code for c in record.codes] == [codes[activation_id]], record
        assert not any(c.delivered for c in record.codes), record

    # The front is back (the 429s are over; the bot's own replies are the next test's
    # subject), and the user comes back: the codes that waited go out now.
    rig.fake_telegram.set_flood(0)
    await rig.fleet.start("bot")
    await rig.fleet.wait_ready("bot")
    await blocked.side.send("/start")
    await blocked.side.wait_for("Hi, User0", timeout=30)

    async def all_served() -> bool:
        return not delivery_report(rig.fake_telegram, owners).missing

    assert await eventually(all_served, timeout=60), blocked.side.transcript()
    result = delivery_report(rig.fake_telegram, owners)
    rig.report(
        figures(
            "telegram-faults, after unblocking",
            delivered=f"{result.delivered}/{result.expected}",
            duplicate_pushes=result.duplicate_pushes,
            wrong_chat=len(result.wrong_chat),
        )
    )
    assert not result.duplicates, result
    assert not result.wrong_chat, result

    await settle(rig.fake_telegram)
    await assert_clean_finish(rig.fleet, rig.redis_server, rig.fake_telegram, customers)


async def test_replies_to_users_wait_out_429s(rig: Rig):
    """The bot's own answers go through the same flood: each one must arrive, later."""
    rng = Random(304)
    rig.fleet.add("bot")
    await rig.fleet.start_all()
    rig.fake_telegram.set_flood(FLOOD, retry_after=RETRY_AFTER)
    customers = rig.customers(6, rng)
    started = time.monotonic()

    async def journey(customer: Customer) -> None:
        # A reply held back by a 429 comes a second or two later: 30 s is plenty.
        await onboard(customer, timeout=30)
        await quick_buy(customer, timeout=30)
        activation_id = customer.activations[0]
        query = await customer.side.press("🔄 Refresh", customer.cards[activation_id])
        await customer.side.wait_for_answer(query, timeout=30)
        await customer.side.send_and_wait("/balance", "Balance on HeroSMS", timeout=30)

    outcomes = await gather_limited((journey(c) for c in customers), 6)
    problems = log_problems(rig.fleet)
    line = figures(
        "telegram-faults, replies",
        users=len(customers),
        answered_429=refused(rig.fake_telegram, 429),
        journeys_s=round(time.monotonic() - started, 1),
        log_problems=len(problems),
    )
    rig.report(line)
    assert len(outcomes) == len(customers)
    rig.fake_telegram.set_flood(0)
    await settle(rig.fake_telegram)
    exits = await rig.fleet.stop_all()
    assert set(exits.values()) == {0}, exits
    assert not problems, line + "\n" + "\n".join(problems[:5])
