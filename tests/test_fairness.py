"""One user's flood of slow commands cannot stall another user: beyond a few updates in
flight, the flooder's updates are turned away at the door with one "slow down"."""

from __future__ import annotations

import asyncio
from pathlib import Path

from aiogram.types import Update

from bot.dispatcher import PER_USER_IN_FLIGHT
from tests.harness import Harness, running_harness


async def feed_concurrently(harness: Harness) -> None:
    updates = [
        Update.model_validate(raw, context={"bot": harness.bot})
        for raw in harness.server.take_updates()
    ]
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
        assert flooder.texts().count("Slow down a little, please: too many messages at once.") == 1
        assert any("What I can do" in text for text in other.texts())
