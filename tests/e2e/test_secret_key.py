"""A changed SECRET_KEY stops the start with one clear line, and leaves no process behind."""

from __future__ import annotations

import asyncio
import subprocess

import pytest

from tests.e2e.conftest import Provider, start_with_user
from tests.faketg import FakeTelegram

pytestmark = pytest.mark.e2e


def redis_servers() -> set[str]:
    """The redis-server processes running now (pid and title). An exited one that init has
    not reaped yet (the embedded Redis is daemonized, so init is its parent) is not running."""
    found = subprocess.run(["ps", "-eo", "pid,args"], capture_output=True, text=True, check=True)
    return {
        line.strip()
        for line in found.stdout.splitlines()
        if "redis-server" in line and "<defunct>" not in line
    }


async def test_a_changed_secret_key_refuses_to_start_and_leaves_nothing_running(
    make_bot, fake_telegram: FakeTelegram, provider: Provider
):
    bot = make_bot()
    await start_with_user(bot, fake_telegram, "Fay")  # a stored, encrypted key
    assert await bot.stop() == 0
    before = redis_servers()

    changed = make_bot(SECRET_KEY="a-different-secret-key-value")
    await changed.start()
    assert changed.process is not None
    code = await asyncio.wait_for(changed.process.wait(), 60)
    assert code == 2, changed.log
    assert "Cannot start: SECRET_KEY does not decrypt" in changed.log
    assert "Traceback" not in changed.log
    # The embedded Redis this start opened was stopped with it.
    assert redis_servers() == before
