"""Scenario: one user floods slow commands while another keeps using the bot.

The real ``python -m bot`` process, the default throttle (THROTTLE_RATE 8 per 4 s), two
providers on loopback. The flooder's provider takes ``SLOW`` seconds for every getBalance; the
flooder sends ``FLOOD`` /balance within half a second. Meanwhile another user, on the other
provider, sends /help and /balance one after another. That user is answered every time, and
before the flooder's slow balances come back (an order, not a stopwatch); the flooder hears
"slow down" once; the provider sees no more of the flood than the door lets in; no process
crashes and no log shows an unhandled error.
"""

from __future__ import annotations

import asyncio
import time
from random import Random
from statistics import median

import pytest

from tests.chaos.helpers import (
    Customer,
    ProviderServer,
    Rig,
    eventually,
    figures,
    log_problems,
    onboard,
    provider_key,
    settle,
)
from tests.faketg import UserSide

pytestmark = pytest.mark.e2e

SEED = 808
FLOOD = 120
OVER = 0.5
SLOW = 8.0
ROUNDS = 6
PACE = 1.0
SLOW_DOWN = "Slow down a little"
#: The door's limits with the default settings: THROTTLE_RATE arrivals per window.
RATE = 8


async def connect_to(side: UserSide, title: str, key: str) -> None:
    await side.send_and_wait("/start", "choose your provider", timeout=60)
    await side.press_and_wait(title, "API key", timeout=60)
    await side.send_and_wait(key, "Connected to", timeout=60)


async def timed(side: UserSide, text: str, expect: str) -> float:
    """How long ``text`` took to be answered; then a pause, so this user keeps within the
    throttle (RATE per 4 s) as a person does."""
    started = time.monotonic()
    await side.send_and_wait(text, expect, timeout=120)
    took = time.monotonic() - started
    await asyncio.sleep(max(0.0, PACE - took))
    return took


async def test_a_flood_with_a_slow_provider_stalls_no_one_else(rig: Rig) -> None:
    rng = Random(SEED)
    other = ProviderServer(seed=SEED)
    await other.start()
    try:
        rig.fleet.settings["SMS_PROVIDERS"] = f"herosms={rig.provider.url},smshub={other.url}"
        rig.fleet.add(
            "bot", THROTTLE_RATE=str(RATE), THROTTLE_WINDOW="4", PROVIDER_TIMEOUT=str(SLOW * 2)
        )
        await rig.fleet.start_all()
        (flooder,) = rig.customers(1, rng)
        await onboard(flooder)
        quiet = rig.fake_telegram.user(first_name="Quiet")
        quiet_key = provider_key(1, rng)
        other.add_account(quiet_key)
        await connect_to(quiet, "SMSHub", quiet_key)
        await _flood_and_probe(rig, flooder, quiet)
    finally:
        await other.stop()


async def _flood_and_probe(rig: Rig, flooder: Customer, quiet: UserSide) -> None:
    emulator = rig.provider.emulator
    emulator.faults.configure(0.0, [], latency=SLOW, actions=["getBalance"])
    before = _balance_calls(rig)
    started = time.monotonic()
    for _ in range(FLOOD):
        await flooder.side.send("/balance")
        await asyncio.sleep(OVER / FLOOD)
    helps, balances = [], []
    first_help = await timed(quiet, "/help", "What I can do")
    # Answered while every one of the flooder's balances is still at the slow provider.
    flooder_balances_by_then = _balances(flooder.side)
    helps.append(first_help)
    for _ in range(ROUNDS):
        helps.append(await timed(quiet, "/help", "What I can do"))
        balances.append(await timed(quiet, "/balance", "Balance on SMSHub"))

    async def flood_answered() -> bool:
        return _balances(flooder.side) >= _balance_calls(rig) - before

    # The door let a few in: they are answered once the slow provider answers them.
    assert await eventually(flood_answered, timeout=180, interval=0.5)
    await settle(rig.fake_telegram)
    flood_seconds = time.monotonic() - started
    slow_downs = sum(SLOW_DOWN in m.text for m in flooder.side.bot_messages)
    admitted = _balance_calls(rig) - before
    problems = log_problems(rig.fleet)
    alive = all(
        member.process.process is not None and member.process.process.returncode is None
        for member in rig.fleet.members.values()
    )
    line = figures(
        "flood",
        flood=f"{FLOOD} /balance in {OVER} s",
        provider_s=SLOW,
        other_help_ms=f"p50 {median(helps) * 1000:.0f} max {max(helps) * 1000:.0f}",
        other_balance_ms=f"p50 {median(balances) * 1000:.0f} max {max(balances) * 1000:.0f}",
        flood_admitted=admitted,
        flood_answered=_balances(flooder.side),
        slow_downs=slow_downs,
        flood_done_s=round(flood_seconds, 1),
        log_problems=len(problems),
    )
    rig.report(line)
    assert flooder_balances_by_then == 0, line
    assert slow_downs == 1, line
    assert 0 < admitted <= RATE, line
    assert alive, line
    assert not problems, "\n".join(problems[:5])


def _balances(side: UserSide) -> int:
    return sum("Balance on" in m.text for m in side.bot_messages)


def _balance_calls(rig: Rig) -> int:
    """getBalance calls at the flooder's provider (the flooder is its only user)."""
    return sum(1 for call in rig.provider.emulator.calls if call.action == "getBalance")
