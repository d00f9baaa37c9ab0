"""Scenario 2: 30% of the provider's answers are lost or broken, for the whole run.

Timeouts (the answer never comes within the client's 15 s), 5xx pages, garbage and
``ERROR_SQL``; each fault strikes before the request is carried out or after it (then the
number is bought and only the answer is lost). Users connect, buy and follow what the bot tells
them; every code still reaches its owner once, no confirmation buys twice, no purchase is made
without a Buy press, every number the provider sold is one the bot follows and shows on a card
(after a lost answer, once the worker has checked), and every message or tap gets its answer.
"""

from __future__ import annotations

import time
from collections import Counter
from random import Random

import pytest

from tests.chaos.helpers import (
    COUNTRY,
    PROVIDER,
    SERVICE,
    Customer,
    RedisServer,
    Rig,
    assert_clean_finish,
    card_activation,
    delivery_report,
    eventually,
    figures,
    gather_limited,
    is_card,
    onboard,
    settle,
    text_of,
    unique_codes,
)
from tests.faketg import ChatMessage

pytestmark = pytest.mark.e2e

SEED = 202
USERS = 8
PER_USER = 3
KINDS = ["timeout", "http_5xx", "garbage", "error_sql"]
PURCHASES = frozenset({"getNumber", "getNumberV2", "getMultiServiceNumber"})
#: A reply may wait out several lost answers (15 s each) before it comes.
PATIENCE = 150.0
#: What the bot says when a purchase it was checking on bought nothing (or it cannot tell).
SETTLED = ("nothing was bought and nothing was charged", "could not find out")


class Shopper:
    """A user who buys through the chat and does what the bot says when something fails."""

    def __init__(self, customer: Customer) -> None:
        self.customer = customer
        self.side = customer.side
        self.outcomes: Counter[str] = Counter()

    async def reply(self) -> ChatMessage:
        """The bot's next message or edit: every message gets one."""
        return await self.side.wait_for(lambda m: True, timeout=PATIENCE)

    async def buy(self) -> None:
        await self.side.send(f"/buy {SERVICE} {COUNTRY}")
        confirm = await self.reply()
        if "after the purchase" not in confirm.text:
            self.outcomes["menu failed"] += 1  # an error message: the user tries again
            return
        buy = confirm.button_starting("✅")
        self.customer.presses += 1
        query = await self.side.press(buy, confirm)
        answer = await self.side.wait_for_answer(query, timeout=PATIENCE)
        if answer.show_alert:
            self.outcomes["refused"] += 1  # busy, out of date, or a provider error
            return
        edited = await self.side.wait_for(
            lambda m: m.message_id == confirm.message_id, timeout=PATIENCE
        )
        if is_card(edited):
            activation_id = card_activation(edited)
            assert activation_id is not None
            self.customer.activations.append(activation_id)
            self.customer.cards[activation_id] = edited.message_id
            self.outcomes["recovered" if answer.text and "lost" in answer.text else "bought"] += 1
        elif "did not confirm the purchase" in edited.text:
            # "I am checking whether it went through": the bot comes back with the number's
            # card, or says that nothing was bought (or that it cannot tell).
            self.outcomes["unknown"] += 1
            await self.await_settlement(confirm.message_id)
        else:
            self.outcomes["failed"] += 1

    async def await_settlement(self, confirm_id: int) -> None:
        def settled(message: ChatMessage) -> bool:
            if message.message_id == confirm_id:
                return False
            return is_card(message) or any(words in message.text for words in SETTLED)

        found = await self.side.wait_for(settled, timeout=PATIENCE)
        activation_id = card_activation(found) if is_card(found) else None
        if activation_id is None:
            self.outcomes["nothing bought" if SETTLED[0] in found.text else "unsure"] += 1
            return
        self.customer.activations.append(activation_id)
        self.customer.cards[activation_id] = found.message_id
        self.outcomes["card after checking"] += 1

    async def shop(self, wanted: int) -> None:
        attempts = 0
        while len(self.customer.activations) < wanted:
            attempts += 1
            assert attempts < 40, self.side.transcript()
            await self.buy()


async def followed(redis_server: RedisServer, customer: Customer) -> set[int]:
    """The activations the bot follows for this user (its own records)."""
    client = redis_server.client()
    try:
        refs = await client.zrange(f"sab:user:{customer.id}:acts", 0, -1)
    finally:
        await client.aclose()
    return {int(text_of(ref).rsplit(":", 1)[1]) for ref in refs}


async def test_provider_faults_lose_no_code_and_buy_nothing_twice(rig: Rig):
    rng = Random(SEED)
    emulator = rig.provider.emulator
    rig.fleet.add("bot")
    await rig.fleet.start_all()
    emulator.faults.configure(0.3, KINDS, when="random")
    started = time.monotonic()
    customers = rig.customers(USERS, rng)
    key_sends = await gather_limited((onboard(c, timeout=PATIENCE) for c in customers), USERS)
    shoppers = [Shopper(c) for c in customers]
    await gather_limited((s.shop(PER_USER) for s in shoppers), USERS)
    buying_seconds = time.monotonic() - started

    # Every number sold is followed by the bot, and each confirmation bought at most once.
    prefix_of = {c.key[:2]: c for c in customers}
    purchase_calls: Counter[int] = Counter()
    performed: Counter[int] = Counter()
    for call in emulator.calls:
        if call.action in PURCHASES:
            customer = prefix_of[call.params["api_key"][:2]]
            purchase_calls[customer.id] += 1
            performed[customer.id] += call.performed
    sold = {c.id: set(rig.provider.activations_of(c.key)) for c in customers}
    follows = {c.id: await followed(rig.redis_server, c) for c in customers}

    # Now the codes: one for every number the provider sold, still through the faults.
    ids = sorted(a for c in customers for a in sold[c.id])
    owner = {a: c for c in customers for a in sold[c.id]}
    codes = dict(zip(ids, unique_codes(len(ids), rng), strict=True))
    owners = {codes[a]: owner[a].id for a in ids}
    delivering = time.monotonic()
    rig.provider.send_codes(codes)  # in the order of ids

    async def delivered() -> bool:
        return not delivery_report(rig.fake_telegram, owners).missing

    all_delivered = await eventually(delivered, timeout=180, interval=0.5)
    delivery_seconds = time.monotonic() - delivering
    result = delivery_report(rig.fake_telegram, owners)
    faults = Counter(call.fault for call in emulator.calls if call.fault)
    outcomes = sum((s.outcomes for s in shoppers), Counter[str]())
    queries = [q for c in customers for q in rig.fake_telegram.callback_queries_of(c.side)]
    unanswered = [q for q in queries if q.answer is None]
    line = figures(
        "provider-faults",
        provider_requests=len(emulator.calls),
        faults=dict(faults),
        key_sends=sum(key_sends),
        buy_presses=sum(c.presses for c in customers),
        purchase_calls=sum(purchase_calls.values()),
        numbers_sold=sum(len(s) for s in sold.values()),
        followed=sum(len(f & sold[uid]) for uid, f in follows.items()),
        on_cards=sum(len(set(c.cards) & sold[c.id]) for c in customers),
        outcomes=dict(outcomes),
        delivered=f"{result.delivered}/{result.expected}",
        duplicate_pushes=result.duplicate_pushes,
        buying_s=round(buying_seconds, 1),
        delivery_s=round(delivery_seconds, 1),
        unanswered_callbacks=len(unanswered),
    )
    rig.report(line)
    for customer in customers:
        assert purchase_calls[customer.id] <= customer.presses, line
        assert len(sold[customer.id]) <= customer.presses, line
        assert sold[customer.id] == follows[customer.id], (
            f"{line}\nuser {customer.id}: sold {sorted(sold[customer.id])}, "
            f"followed {sorted(follows[customer.id])}"
        )
        assert set(customer.activations) == sold[customer.id], line
        # Every number the provider sold reached the user as a card, none by hand via /active.
        assert set(customer.cards) == sold[customer.id], line
    assert all_delivered, f"{line}\nmissing: {result.missing}"
    assert not result.duplicates, line
    assert not result.wrong_chat, line
    assert not unanswered, line

    emulator.faults.clear()
    await settle(rig.fake_telegram)
    await assert_clean_finish(
        rig.fleet, rig.redis_server, rig.fake_telegram, customers, context=line + "\n"
    )
    assert PROVIDER == "herosms"
