"""Scenario 4: Redis dies (SIGKILL) mid-run and comes back on the same port and directory.

Persistence is the embedded Redis's: AOF with ``appendfsync everysec``. The kill is a SIGKILL
with no grace period, while codes arrive and users press buttons: Redis appends every write to
the AOF (the kernel's page cache) before it answers, and fsync only matters when the machine
itself goes down, so a killed server loses nothing it acknowledged. The test checks exactly
that: every key and every recorded code that existed before the kill is back, every open
activation is still on the schedule, every code is delivered once, every tap is answered, and
the cards keep working afterwards.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass, field
from random import Random

import pytest

from bot.storage.activations import Activation
from tests.chaos.helpers import (
    PROVIDER,
    Customer,
    RedisServer,
    Rig,
    Timeline,
    assert_clean_finish,
    codes_on_schedule,
    delivery_report,
    eventually,
    figures,
    gather_limited,
    onboard,
    quick_buy,
    settle,
    unique_codes,
)
from tests.faketg import ChatMessage

pytestmark = pytest.mark.e2e

SEED = 404
USERS = 8
PER_USER = 3
PHASE = 8.0  # seconds of traffic around the kill


def shows(message_id: int, text: str) -> Callable[[ChatMessage], bool]:
    return lambda message: message.message_id == message_id and text in message.text


@dataclass
class Snapshot:
    """What must survive a restart: keys without an expiry (locks and counters may go) and
    the codes each activation record holds. The schedule's queues are left out: their
    members move between "due" and "leased" all the time, so they are checked as such."""

    keys: set[bytes] = field(default_factory=set)
    codes: dict[bytes, list[str]] = field(default_factory=dict)


async def snapshot(redis_server: RedisServer) -> Snapshot:
    client = redis_server.client()
    taken = Snapshot()
    try:
        async for key in client.scan_iter(count=1000):
            if key.startswith(b"sab:sched:") or await client.ttl(key) != -1:
                continue
            taken.keys.add(key)
            if key.startswith(b"sab:act:"):
                raw = await client.get(key)
                if raw is not None:
                    record = Activation.model_validate_json(raw)
                    taken.codes[key] = [code.code for code in record.codes]
    finally:
        await client.aclose()
    return taken


async def unfollowed(redis_server: RedisServer, ids: list[int]) -> list[int]:
    """Open activations that are neither due nor leased in the schedule: nobody polls them."""
    client = redis_server.client()
    try:
        missing = []
        for activation_id in ids:
            raw = await client.get(f"sab:act:{PROVIDER}:{activation_id}")
            if raw is None or not Activation.model_validate_json(raw).is_open:
                continue
            member = f"act:{PROVIDER}:{activation_id}"
            due = await client.zscore("sab:sched:due", member)
            leased = await client.zscore("sab:sched:leases", member)
            if due is None and leased is None:
                missing.append(activation_id)
        return missing
    finally:
        await client.aclose()


async def test_redis_killed_and_restarted_loses_nothing(rig: Rig):
    rng = Random(SEED)
    rig.fleet.add("bot")
    rig.fleet.add("worker-1", "bot.worker")
    await rig.fleet.start_all()
    customers = rig.customers(USERS, rng)
    await gather_limited((onboard(c) for c in customers), USERS)

    async def buy(customer: Customer) -> None:
        for _ in range(PER_USER):
            await quick_buy(customer)

    await gather_limited((buy(c) for c in customers), USERS)
    owner = {a: c for c in customers for a in c.activations}
    ids = sorted(owner)
    first = dict(zip(ids, unique_codes(len(ids), rng), strict=True))
    owners = {first[a]: owner[a].id for a in ids}
    arrivals = sorted(rng.uniform(0, PHASE) for _ in ids)
    order = list(ids)
    rng.shuffle(order)
    kill_at = rng.uniform(PHASE * 0.3, PHASE * 0.7)
    downtime = rng.uniform(0.5, 1.5)
    presses: list[tuple[Customer, str]] = []

    timeline = Timeline()

    async def taps() -> None:
        # Users keep pressing Refresh on their cards, through the outage.
        while timeline.elapsed() < PHASE:
            customer = rng.choice(customers)
            card = customer.cards[rng.choice(customer.activations)]
            presses.append((customer, await customer.side.press("🔄 Refresh", card)))
            await asyncio.sleep(rng.uniform(0.05, 0.3))

    before = Snapshot()

    async def outage() -> None:
        nonlocal before
        await timeline.at(kill_at)
        before = await snapshot(rig.redis_server)
        await rig.redis_server.kill()
        await asyncio.sleep(downtime)
        await rig.redis_server.start()

    await asyncio.gather(
        codes_on_schedule(rig.provider, timeline, arrivals, order, first), taps(), outage()
    )
    after = await snapshot(rig.redis_server)
    lost_keys = sorted(before.keys - after.keys)
    lost_codes = {
        key: codes
        for key, codes in before.codes.items()
        if after.codes.get(key, [])[: len(codes)] != codes
    }
    not_followed = await unfollowed(rig.redis_server, ids)

    async def delivered() -> bool:
        return not delivery_report(rig.fake_telegram, owners).missing

    # An item whose worker could not give it back during the outage waits out its lease
    # (90 s in the worker) before it is polled again: allow for that.
    all_delivered = await eventually(delivered, timeout=150, interval=0.5)
    delivery_seconds = timeline.elapsed()

    async def answered() -> bool:
        return all(query in c.side.callback_answers for c, query in presses)

    await eventually(answered, timeout=20)
    unanswered = [query for c, query in presses if query not in c.side.callback_answers]
    result = delivery_report(rig.fake_telegram, owners)
    line = figures(
        "redis-restart",
        activations=len(ids),
        killed_at_s=round(kill_at, 2),
        down_s=round(downtime, 2),
        durable_keys_before=len(before.keys),
        lost_keys=len(lost_keys),
        lost_codes=len(lost_codes),
        open_but_unscheduled=len(not_followed),
        delivered=f"{result.delivered}/{result.expected}",
        duplicate_pushes=result.duplicate_pushes,
        all_delivered_s=round(delivery_seconds, 1),
        presses=len(presses),
        unanswered=len(unanswered),
    )
    rig.report(line)
    assert not lost_keys, f"{line}\n{lost_keys[:20]}"
    assert not lost_codes, f"{line}\n{lost_codes}"
    assert not not_followed, f"{line}\n{not_followed}"
    assert all_delivered, f"{line}\nmissing: {result.missing}"
    assert not result.duplicates, line
    assert not result.wrong_chat, line

    # The cards keep working: Finish on one, Another code on another, and the second code
    # arrives like the first.
    second = {}
    for customer in customers:
        done_id, again_id = customer.activations[0], customer.activations[1]
        query = await customer.side.press("Finish", customer.cards[done_id])
        assert (await customer.side.wait_for_answer(query, timeout=30)).text == "Finished."
        await customer.side.wait_for(shows(customer.cards[done_id], "Finished."), timeout=30)
        query = await customer.side.press("Another code", customer.cards[again_id])
        answer = await customer.side.wait_for_answer(query, timeout=30)
        assert answer.text == "Asked for another code.", answer
        second[again_id] = customer
    again = dict(zip(sorted(second), unique_codes(len(second), rng), strict=True))
    rig.provider.send_codes(again)
    owners.update({code: second[a].id for a, code in again.items()})
    assert await eventually(delivered, timeout=60), delivery_report(rig.fake_telegram, owners)
    result = delivery_report(rig.fake_telegram, owners)
    assert not result.duplicates, result

    client = rig.redis_server.client()
    try:
        raws = await client.mget([f"sab:act:{PROVIDER}:{i}" for i in ids])
    finally:
        await client.aclose()
    records = [Activation.model_validate_json(raw) for raw in raws if raw is not None]
    assert len(records) == len(ids)
    assert all(all(code.delivered for code in record.codes) for record in records)

    # Taps during the outage were answered too (or they were lost: updates Telegram will not
    # send again).
    assert not unanswered, line

    await settle(rig.fake_telegram)
    await assert_clean_finish(rig.fleet, rig.redis_server, rig.fake_telegram, customers)
