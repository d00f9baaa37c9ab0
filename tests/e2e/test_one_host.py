"""The bot and two workers on one host with the defaults: no REDIS_URL (the embedded Redis),
the same HTTP_PORT in every process's settings. The bot is stopped and started again while the
workers deliver codes, then the shared Redis itself is stopped: every code reaches its chat
once, the Redis outlives the bot, comes back by itself, and stops with the last process."""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
from pathlib import Path

import pytest

from bot.storage.embedded import process_alive
from tests.e2e.conftest import Provider, embedded_redis_pid, onboard
from tests.e2e.processes import BotProcess, free_port
from tests.faketg import FakeTelegram, UserSide

pytestmark = pytest.mark.e2e

PUSH = "Code for Telegram"


async def buy(user: UserSide, provider: Provider) -> int:
    """One Telegram number; returns its activation id."""
    before = set(provider.emulator.activations)
    await user.send_and_wait("/buy", "Choose a service", timeout=30)
    countries = await user.press_and_wait("Telegram", "choose a country")
    confirm = await user.press_and_wait(countries.buttons[0][0][0], "after the purchase")
    await user.press_and_wait(confirm.button_starting("✅"), "Waiting for the SMS", timeout=15)
    (activation_id,) = set(provider.emulator.activations) - before
    return activation_id


def spaced(code: str) -> str:
    return " ".join(code)


async def test_bot_restarts_while_two_workers_deliver_every_code_once(
    make_bot, fake_telegram: FakeTelegram, provider: Provider, tmp_path: Path
):
    # The same settings everywhere, HTTP_PORT included: only the bot binds it.
    port = str(free_port())
    bot = make_bot(HTTP_PORT=port)
    workers = [make_bot("bot.worker", HTTP_PORT=port) for _ in range(2)]
    # All three at once: they must agree on one embedded Redis.
    await asyncio.gather(bot.start(), *(worker.start() for worker in workers))

    users = [fake_telegram.user(first_name=name) for name in ("Ann", "Ben", "Cat")]
    # Three processes starting at once on a busy machine: the first answer takes a while.
    await users[0].send_and_wait("/start", "choose your provider", timeout=180)
    bought: dict[int, int] = {}
    for user in users:
        await onboard(user)
        bought[user.id] = await buy(user, provider)
    ann, ben, cat = users
    # One server for all, through the bot's restart.
    first_redis = embedded_redis_pid(tmp_path / "data")

    # The bot goes away; the workers (and the Redis it started) stay.
    assert await bot.stop() == 0, bot.log
    provider.emulator.deliver_sms(bought[ann.id], "Your Telegram code: 11111", code="11111")
    await ann.wait_for(spaced("11111"), timeout=20)

    # Started again: it finds the same Redis; a code arrives while it starts.
    bot = make_bot(HTTP_PORT=port)
    await bot.start()
    provider.emulator.deliver_sms(bought[ben.id], "Your Telegram code: 22222", code="22222")
    await ben.wait_for(spaced("22222"), timeout=20)
    assert embedded_redis_pid(tmp_path / "data") == first_redis
    await cat.send_and_wait("/balance", "Balance", timeout=60)  # the bot answers again
    provider.emulator.deliver_sms(bought[cat.id], "Your Telegram code: 33333", code="33333")
    await cat.wait_for(spaced("33333"), timeout=20)

    # The shared Redis itself goes down (stopped cleanly, as an operator or the OOM killer
    # might): a running process starts it again on its port and every client reconnects.
    dan = fake_telegram.user(first_name="Dan")
    await onboard(dan)
    bought[dan.id] = await buy(dan, provider)
    users.append(dan)
    os.kill(embedded_redis_pid(tmp_path / "data"), signal.SIGTERM)
    for _ in range(100):
        await asyncio.sleep(0.1)
        with contextlib.suppress(OSError, ValueError, KeyError):
            if embedded_redis_pid(tmp_path / "data") != first_redis:
                break
    restarted_redis = embedded_redis_pid(tmp_path / "data")
    assert restarted_redis != first_redis
    provider.emulator.deliver_sms(bought[dan.id], "Your Telegram code: 44444", code="44444")
    await dan.wait_for(spaced("44444"), timeout=30)

    await asyncio.sleep(3)  # ten poll intervals: time for any second push to show
    codes = ("11111", "22222", "33333", "44444")
    for user, code in zip(users, codes, strict=True):
        pushes = [m.text for m in user.messages if PUSH in m.text]
        assert len(pushes) == 1, user.transcript()
        assert spaced(code) in pushes[0]

    data_dir = tmp_path / "data"
    redis_pid = embedded_redis_pid(data_dir)
    assert redis_pid == restarted_redis  # one server for all
    assert process_alive(redis_pid)
    processes: list[BotProcess] = [bot, *workers]
    for process in processes:
        assert await process.stop() == 0, process.log
    for process in processes:
        log = process.log
        assert "Traceback" not in log, log
        assert "address already in use" not in log.lower(), log
        assert fake_telegram.token not in log
    # The last to leave shut the shared Redis down; its data stays.
    assert not process_alive(redis_pid)
    assert not (data_dir / "redis" / "redis.json").exists()
    assert (data_dir / "redis" / "appendonlydir").exists() or (
        data_dir / "redis" / "appendonly.aof"
    ).exists()
