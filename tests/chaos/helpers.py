"""The reliability suite's machinery: a restartable Redis, the bot's processes, the provider on
loopback, users who connect and buy through the chat, and the checks every scenario shares.

Everything runs for real: ``redis-server`` (the binary the embedded Redis uses), ``python -m
bot`` and ``python -m bot.worker`` processes, the emulator over HTTP and the fake Telegram
server, all on 127.0.0.1. Randomness comes from seeded generators, so a run repeats its
choices (the moments processes die at still depend on the machine's speed).
"""

from __future__ import annotations

import asyncio
import json
import os
import re
import signal
import socket
import string
import subprocess
import time
from collections import Counter
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from random import Random
from typing import Any

import aiohttp
import redis.asyncio as aioredis
from aiohttp import web

from bot.sandbox import Clock, Emulator, EmulatorConfig, create_app
from bot.storage.embedded import EmbeddedInfo, find_redis_server
from tests.e2e.processes import BotProcess
from tests.faketg import ChatMessage, FakeTelegram, UserSide

SECRET_KEY = "chaos-suite-secret-key-0123456789"
REDIS_PASSWORD = "chaos-redis-password"
PROVIDER = "herosms"
PROVIDER_TITLE = "HeroSMS"
SERVICE = "tg"
COUNTRY = 6
BALANCE = Decimal("1000")
#: The bot gives up on a provider answer after PROVIDER_TIMEOUT (set below); a timeout fault
#: holds the answer longer, so the bot really times out.
PROVIDER_TIMEOUT = "3"
TIMEOUT_HOLD = 4.0

_ALPHABET = string.ascii_letters + string.digits
_CARD_DATA = re.compile(r"^a:[a-z]{2}:(\d+)$")


#: Ports for servers that must come back on the same port (Redis after a SIGKILL): below the
#: kernel's ephemeral range, so no outgoing connection takes one while its server is down, and
#: a band of their own for each pytest-xdist worker ("gw0", "gw1", ...), so parallel runs
#: never pick the same one.
_PORT_BASE = 20_000
_PORT_BAND = 500
_ports_taken: set[int] = set()


def free_port() -> int:
    worker = os.environ.get("PYTEST_XDIST_WORKER", "gw0").removeprefix("gw")
    band = int(worker) if worker.isdigit() else 0
    first = _PORT_BASE + (band * _PORT_BAND) % 10_000
    rng = Random()
    for port in rng.sample(range(first, first + _PORT_BAND), _PORT_BAND):
        if port in _ports_taken:
            continue
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
            try:
                sock.bind(("127.0.0.1", port))
            except OSError:
                continue
        _ports_taken.add(port)
        return port
    raise RuntimeError(f"no free port in {first}-{first + _PORT_BAND - 1}")


async def eventually(
    condition: Callable[[], Awaitable[bool]], *, timeout: float, interval: float = 0.2
) -> bool:
    """Poll an async condition until it holds; False when ``timeout`` passes first."""
    deadline = time.monotonic() + timeout
    while True:
        if await condition():
            return True
        if time.monotonic() >= deadline:
            return False
        await asyncio.sleep(interval)


# --- Redis -------------------------------------------------------------------------------------


class RedisServer:
    """A persistent redis-server (AOF, fsync every second) that can be killed and restarted on
    the same port and directory, as the embedded Redis runs it.

    ``rdbcompression`` is off so a secret stored in a snapshot could be found by reading the
    file; it changes the encoding on disk, not what is stored.
    """

    def __init__(self, data_dir: Path) -> None:
        self.data_dir = data_dir.resolve()
        self.port = free_port()
        self.password = REDIS_PASSWORD
        self._process: asyncio.subprocess.Process | None = None
        self.restarts = 0

    @property
    def info(self) -> EmbeddedInfo:
        return EmbeddedInfo(port=self.port, password=self.password, pid=self.pid or 0)

    @property
    def url(self) -> str:
        return self.info.url

    @property
    def pid(self) -> int | None:
        return self._process.pid if self._process is not None else None

    def client(self) -> aioredis.Redis:
        return self.info.client(connect_timeout=2)

    async def start(self, *, timeout: float = 15.0) -> None:
        self.data_dir.mkdir(parents=True, exist_ok=True)
        args = [
            find_redis_server(),
            "--bind", "127.0.0.1",
            "--port", str(self.port),
            "--dir", str(self.data_dir),
            "--requirepass", self.password,
            "--appendonly", "yes",
            "--appendfsync", "everysec",
            "--save", "300 1 60 1000",
            "--dbfilename", "dump.rdb",
            "--rdbcompression", "no",
            "--daemonize", "no",
            "--loglevel", "warning",
            "--logfile", str(self.data_dir / "redis.log"),
        ]  # fmt: skip
        self._process = await asyncio.create_subprocess_exec(
            *args,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,
        )
        client = self.client()
        try:

            async def answers() -> bool:
                if self._process is not None and self._process.returncode is not None:
                    raise RuntimeError(f"redis-server exited; see {self.data_dir}/redis.log")
                try:
                    return bool(await client.ping())
                except Exception:
                    return False

            if not await eventually(answers, timeout=timeout, interval=0.05):
                raise RuntimeError("redis-server did not start")
        finally:
            await client.aclose()

    async def kill(self) -> None:
        """SIGKILL: no save, no fsync; what the kernel already has of the AOF stays."""
        process = self._process
        if process is not None and process.returncode is None:
            process.send_signal(signal.SIGKILL)
            await process.wait()

    async def restart(self) -> None:
        await self.kill()
        self.restarts += 1
        await self.start()

    async def stop(self) -> None:
        process, self._process = self._process, None
        if process is None or process.returncode is not None:
            return
        process.send_signal(signal.SIGTERM)
        try:
            await asyncio.wait_for(process.wait(), 10)
        except TimeoutError:
            process.kill()
            await process.wait()

    def kill_sync(self) -> None:
        if self._process is not None and self._process.returncode is None:
            self._process.kill()

    async def dump(self) -> bytes:
        """Every key and every value (all types), as one blob to search."""
        client = self.client()
        chunks: list[Any] = []
        try:
            async for key in client.scan_iter(count=1000):
                chunks.append(key)
                kind = _as_bytes(await client.type(key)).decode()
                if kind == "string":
                    chunks.append(await client.get(key))
                elif kind == "hash":
                    for name, value in (await client.hgetall(key)).items():
                        chunks += [name, value]
                elif kind == "list":
                    chunks += await client.lrange(key, 0, -1)
                elif kind == "set":
                    chunks += await client.smembers(key)
                elif kind == "zset":
                    chunks += await client.zrange(key, 0, -1)
                elif kind == "none":
                    continue  # expired between the scan and now (short-lived counters)
                else:
                    raise AssertionError(f"unexpected Redis type {kind} of {key!r}")
        finally:
            await client.aclose()
        return b"\n".join(_as_bytes(chunk) for chunk in chunks)

    def files(self) -> dict[str, bytes]:
        """What Redis keeps on disk (AOF, RDB), by name."""
        found: dict[str, bytes] = {}
        for path in sorted(self.data_dir.rglob("*")):
            if path.is_file() and (".aof" in path.name or path.suffix == ".rdb"):
                found[str(path.relative_to(self.data_dir))] = path.read_bytes()
        return found


def _as_bytes(value: object) -> bytes:
    if isinstance(value, bytes):
        return value
    return str(value).encode()


def text_of(value: object) -> str:
    """A Redis reply (bytes) as text."""
    return _as_bytes(value).decode()


# --- the provider ------------------------------------------------------------------------------


def provider_key(index: int, rng: Random) -> str:
    """A key whose first two characters differ per index: the emulator's masked log
    (``ab***``) then still tells whose request it served."""
    prefix = _ALPHABET[index // len(_ALPHABET)] + _ALPHABET[index % len(_ALPHABET)]
    return prefix + "".join(rng.choice(_ALPHABET) for _ in range(22))


async def serve_on_loopback(runner: web.AppRunner) -> str:
    """Start ``runner`` on a free port of 127.0.0.1 and return its base URL."""
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    host, port = runner.addresses[0][:2]
    return f"http://{host}:{port}"


class ProviderServer:
    """The emulator served over loopback HTTP, as a real provider would be."""

    def __init__(self, *, seed: int) -> None:
        self.emulator = Emulator(
            EmulatorConfig(
                seed=seed, server_timeout_hold=TIMEOUT_HOLD, max_recorded_calls=200_000
            ),
            Clock(),
        )
        self.emulator.set_offer(COUNTRY, SERVICE, count=100_000)
        self._runner: web.AppRunner | None = None
        self.url = ""

    async def start(self) -> None:
        # Long timeout holds must not delay shutdown: the site stops without waiting for them.
        self._runner = web.AppRunner(
            create_app(self.emulator), access_log=None, shutdown_timeout=0.5
        )
        self.url = await serve_on_loopback(self._runner) + "/stubs/handler_api.php"

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    def add_account(self, key: str) -> None:
        self.emulator.add_account(key, balance=BALANCE)

    def activations_of(self, key: str) -> list[int]:
        return sorted(a.id for a in self.emulator.activations.values() if a.key == key)

    def send_code(self, activation_id: int, code: str) -> None:
        """An SMS with ``code`` arrives for the activation (the text the scenarios all use)."""
        self.emulator.deliver_sms(activation_id, f"Telegram code {code}", code=code)

    def send_codes(self, codes: dict[int, str]) -> None:
        for activation_id, code in codes.items():
            self.send_code(activation_id, code)


class Timeline:
    """A scenario's schedule: events planned at offsets (seconds) from when it was made."""

    def __init__(self) -> None:
        self.start = time.monotonic()

    def elapsed(self) -> float:
        return time.monotonic() - self.start

    async def at(self, offset: float) -> None:
        await asyncio.sleep(max(0.0, self.start + offset - time.monotonic()))


async def codes_on_schedule(
    provider: ProviderServer,
    timeline: Timeline,
    arrivals: list[float],
    order: list[int],
    codes: dict[int, str],
) -> None:
    """The code of each activation in ``order`` arrives at the matching offset in ``arrivals``."""
    for offset, activation_id in zip(arrivals, order, strict=True):
        await timeline.at(offset)
        provider.send_code(activation_id, codes[activation_id])


# --- the bot's processes -----------------------------------------------------------------------


READY = {"bot": "Run polling for bot", "bot.worker": " started"}
_PUSHED_CODE = re.compile(r"Code for [^\n]*:\n([0-9 ]+)")


@dataclass
class Member:
    name: str
    process: BotProcess
    offset: int = 0  # log size at the last start: readiness is looked for after it
    kills: int = 0
    lives: int = 0  # starts so far: the current life is number ``lives``
    tap: TelegramTap | None = None


@dataclass(frozen=True)
class TappedPush:
    """A code push Telegram accepted, and who sent it: which process, in which of its lives."""

    process: str
    life: int
    chat_id: int
    code: str
    at: float  # monotonic time the answer passed the tap
    #: Monotonic time the tap began reading the request: the process sent it before then.
    sent: float


class TelegramTap:
    """A pass-through in front of the fake Telegram server for one process.

    All the bot's processes share one token, so the fake cannot tell them apart; the tap
    records which process (and which life of it) sent each code that Telegram accepted.
    """

    def __init__(self, member: Member, target: str, pushes: list[TappedPush]) -> None:
        self.member = member
        self.target = target
        self.pushes = pushes
        self.url = ""
        self._runner: web.AppRunner | None = None
        self._session: aiohttp.ClientSession | None = None

    async def start(self) -> None:
        self._session = aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=None))
        app = web.Application(client_max_size=16 * 1024 * 1024)
        app.router.add_route("*", "/{tail:.*}", self._forward)
        # A dead process's long poll is dropped at once, as Telegram drops it.
        self._runner = web.AppRunner(app, handler_cancellation=True, access_log=None)
        self.url = await serve_on_loopback(self._runner)

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
        if self._session is not None:
            await self._session.close()

    async def _forward(self, request: web.Request) -> web.Response:
        assert self._session is not None
        life = self.member.lives
        sent = time.monotonic()
        body = await request.read()
        headers = {"Content-Type": request.headers.get("Content-Type", "")}
        async with self._session.request(
            request.method, self.target + request.path_qs, data=body, headers=headers
        ) as answer:
            payload = await answer.read()
            status = answer.status
            content_type = answer.headers.get("Content-Type", "application/json")
        if status == 200 and request.path.endswith("/sendMessage"):
            result = json.loads(payload)["result"]
            found = _PUSHED_CODE.search(result.get("text", ""))
            if found is not None:
                code = found.group(1).replace(" ", "")
                chat = result["chat"]["id"]
                push = TappedPush(self.member.name, life, chat, code, time.monotonic(), sent)
                self.pushes.append(push)
        return web.Response(body=payload, status=status, headers={"Content-Type": content_type})


class Fleet:
    """The bot's processes (``python -m bot``, ``python -m bot.worker``) sharing one Redis."""

    def __init__(
        self, tmp_path: Path, telegram: FakeTelegram, *, tap: bool = False, **settings: str
    ) -> None:
        self.tmp_path = tmp_path
        self.telegram = telegram
        self.tap = tap
        self.pushes: list[TappedPush] = []  # with ``tap``: every code push, by process
        self.settings = {
            "BOT_TOKEN": telegram.token,
            "TELEGRAM_API_BASE": telegram.base_url,
            "DATA_DIR": str(tmp_path / "data"),
            "SECRET_KEY": SECRET_KEY,
            "POLL_INTERVAL": "0.3",
            "PROVIDER_TIMEOUT": PROVIDER_TIMEOUT,
            "TELEGRAM_CHAT_INTERVAL": "0",
            "TELEGRAM_RATE": "1000",
            "THROTTLE_RATE": "100000",
            # Outcomes are read from each tap's own answer, which a slow tap's early answer
            # ("⏳ Waiting for…", tested in tests/handlers) would replace.
            "SLOW_REPLY_AFTER": "30",
            "HTTP_PORT": "0",
            "LOG_LEVEL": "INFO",
            **settings,
        }
        self.members: dict[str, Member] = {}
        self.kill_log: list[tuple[float, str, int]] = []  # (monotonic time, name, life) killed

    def add(self, name: str, module: str = "bot", **extra: str) -> Member:
        env = {**self.settings, **extra}
        process = BotProcess(env, self.tmp_path / f"{name}.log", module=module)
        member = Member(name, process)
        self.members[name] = member
        return member

    async def start(self, name: str) -> None:
        member = self.members[name]
        if self.tap and member.tap is None:
            member.tap = TelegramTap(member, self.telegram.base_url, self.pushes)
            await member.tap.start()
            member.process.env["TELEGRAM_API_BASE"] = member.tap.url
        member.offset = len(member.process.log.encode())
        member.lives += 1
        await member.process.start()

    async def wait_ready(self, name: str, timeout: float = 60.0) -> None:
        member = self.members[name]
        marker = READY[member.process.module]

        async def ready() -> bool:
            process = member.process.process
            if process is not None and process.returncode is not None:
                raise AssertionError(f"{name} exited early:\n{member.process.log[-3000:]}")
            log = member.process.log_path.read_bytes() if member.process.log_path.exists() else b""
            return marker.encode() in log[member.offset :]

        if not await eventually(ready, timeout=timeout, interval=0.1):
            raise AssertionError(f"{name} not ready in {timeout}s:\n{member.process.log[-3000:]}")

    async def start_all(self, timeout: float = 60.0) -> None:
        for name in self.members:
            await self.start(name)
        await asyncio.gather(*(self.wait_ready(name, timeout) for name in self.members))

    async def kill(self, name: str) -> None:
        member = self.members[name]
        self.kill_log.append((time.monotonic(), name, member.lives))
        member.kills += 1
        await member.process.kill()

    async def stop(self, name: str) -> int:
        return await self.members[name].process.stop(timeout=30)

    async def stop_all(self) -> dict[str, int]:
        codes = {}
        for name, member in self.members.items():
            codes[name] = await member.process.stop(timeout=30)
        return codes

    def kill_sync(self) -> None:
        for member in self.members.values():
            member.process.kill_sync()

    async def close_taps(self) -> None:
        for member in self.members.values():
            if member.tap is not None:
                await member.tap.stop()

    def logs(self) -> dict[str, str]:
        return {name: member.process.log for name, member in self.members.items()}


def log_problems(fleet: Fleet) -> list[str]:
    """Unhandled errors and tracebacks in any process log (the lines, cut short)."""
    problems = []
    for name, log in fleet.logs().items():
        for line in log.splitlines():
            error = "ERROR" in line or '"level": "error"' in line
            if "Traceback" in line or (error and "unhandled" in line):
                problems.append(f"{name}: {line[:700]}")
    return problems


async def settle(telegram: FakeTelegram, quiet: float = 1.0) -> None:
    """Let the bot finish what it is doing (no Bot API call for ``quiet`` seconds)."""
    await telegram.wait_idle(quiet=quiet, timeout=60)


# --- users -------------------------------------------------------------------------------------


@dataclass
class Customer:
    """A Telegram user with their own provider account."""

    side: UserSide
    key: str
    activations: list[int] = field(default_factory=list)
    cards: dict[int, int] = field(default_factory=dict)  # activation id -> card message id
    presses: int = 0  # confirmations tapped (each may buy at most one number)

    @property
    def id(self) -> int:
        return self.side.user_id


def make_customers(
    telegram: FakeTelegram, provider: ProviderServer, count: int, rng: Random
) -> list[Customer]:
    customers = []
    for index in range(count):
        key = provider_key(index, rng)
        provider.add_account(key)
        side = telegram.user(first_name=f"User{index}")
        customers.append(Customer(side, key))
    return customers


@dataclass
class Rig:
    """What every scenario runs against (the ``rig`` fixture): the bot's processes, the fake
    Telegram, the provider, Redis, and the figure reporter."""

    fleet: Fleet
    fake_telegram: FakeTelegram
    provider: ProviderServer
    redis_server: RedisServer
    report: Callable[[str], None]

    def customers(self, count: int, rng: Random) -> list[Customer]:
        return make_customers(self.fake_telegram, self.provider, count, rng)


def card_activation(message: ChatMessage) -> int | None:
    """The activation a card shows, read from its buttons' callback data."""
    for _, data in (button for row in message.buttons for button in row):
        found = _CARD_DATA.match(data)
        if found:
            return int(found.group(1))
    return None


def is_card(message: ChatMessage) -> bool:
    return card_activation(message) is not None and "📱" in message.text


async def onboard(customer: Customer, *, timeout: float = 60.0) -> int:
    """/start, choose the provider, send the key until the provider accepts it.

    Returns how many times the key had to be sent (a provider fault makes the bot refuse to
    store it, and say so).
    """
    user = customer.side
    await user.send_and_wait("/start", "choose your provider", timeout=timeout)
    await user.press_and_wait(PROVIDER_TITLE, "API key", timeout=timeout)
    attempts = 0
    while True:
        attempts += 1
        await user.send(customer.key)
        reply = await user.wait_for(
            lambda m: "Connected to" in m.text or "not stored" in m.text, timeout=timeout
        )
        if "Connected to" in reply.text:
            return attempts
        assert attempts < 20, user.transcript()


async def quick_buy(customer: Customer, *, timeout: float = 60.0) -> int:
    """``/buy tg 6`` and the confirmation's Buy button: two updates, one number."""
    user = customer.side
    confirm = await user.send_and_wait(
        f"/buy {SERVICE} {COUNTRY}", "after the purchase", timeout=timeout
    )
    return await confirm_purchase(customer, confirm, timeout=timeout)


async def ui_buy(customer: Customer, *, timeout: float = 60.0) -> int:
    """The whole menu: /buy, the service, the first country, Buy."""
    user = customer.side
    await user.send_and_wait("/buy", "Choose a service", timeout=timeout)
    countries = await user.press_and_wait("Telegram", "choose a country", timeout=timeout)
    await user.press(countries.buttons[0][0][0], countries)
    confirm = await user.wait_for("after the purchase", timeout=timeout)
    return await confirm_purchase(customer, confirm, timeout=timeout)


async def confirm_purchase(customer: Customer, confirm: ChatMessage, *, timeout: float) -> int:
    user = customer.side
    buy = confirm.button_starting("✅")
    customer.presses += 1
    await user.press(buy, confirm)
    card = await user.wait_for(
        lambda m: m.message_id == confirm.message_id and is_card(m), timeout=timeout
    )
    activation_id = card_activation(card)
    assert activation_id is not None
    customer.activations.append(activation_id)
    customer.cards[activation_id] = card.message_id
    return activation_id


# --- codes -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Push:
    chat_id: int
    code: str
    at: float  # monotonic time the fake server accepted it


def code_pushes(telegram: FakeTelegram) -> list[Push]:
    """Every code push Telegram accepted (HTTP 200), in order."""
    pushes = []
    for call in telegram.calls:
        if call.method != "sendMessage" or call.status != 200:
            continue
        text = str(call.params.get("text", ""))
        if "Code for" not in text:
            continue
        found = re.search(r"<code>([0-9 ]+)</code>", text)
        assert found is not None, text
        pushes.append(Push(int(call.params["chat_id"]), found.group(1).replace(" ", ""), call.at))
    return pushes


def unique_codes(count: int, rng: Random) -> list[str]:
    return [str(value) for value in rng.sample(range(100_000, 1_000_000), count)]


@dataclass
class DeliveryReport:
    expected: int
    delivered: int  # distinct codes that reached their owner's chat
    missing: list[str]
    wrong_chat: list[tuple[str, int]]
    duplicates: dict[str, int]  # code -> pushes beyond the first

    @property
    def duplicate_pushes(self) -> int:
        return sum(self.duplicates.values())


def delivery_report(telegram: FakeTelegram, owners: dict[str, int]) -> DeliveryReport:
    """Compare the pushes with the codes sent to each owner (code -> chat id)."""
    pushes = code_pushes(telegram)
    counts = Counter(push.code for push in pushes if owners.get(push.code) == push.chat_id)
    wrong = [(p.code, p.chat_id) for p in pushes if owners.get(p.code) != p.chat_id]
    missing = [code for code in owners if counts[code] == 0]
    return DeliveryReport(
        expected=len(owners),
        delivered=len(owners) - len(missing),
        missing=missing,
        wrong_chat=wrong,
        duplicates={code: n - 1 for code, n in counts.items() if n > 1},
    )


# --- secrets -----------------------------------------------------------------------------------


def secret_leaks(
    keys: Iterable[str],
    *,
    redis_dump: bytes,
    redis_files: dict[str, bytes],
    logs: dict[str, str],
    telegram: FakeTelegram,
) -> list[str]:
    """Where any of ``keys`` shows in plaintext: Redis, its files, the logs, the bot's messages."""
    # Every Bot API call's parameters: texts, buttons, alerts, commands.
    sent = [(call.method, json.dumps(call.params, ensure_ascii=False)) for call in telegram.calls]
    leaks = []
    for key in keys:
        raw = key.encode()
        if raw in redis_dump:
            leaks.append(f"{key[:2]}***: in a Redis key or value")
        leaks += [f"{key[:2]}***: in {name}" for name, blob in redis_files.items() if raw in blob]
        leaks += [f"{key[:2]}***: in the {name} log" for name, log in logs.items() if key in log]
        leaks += [f"{key[:2]}***: in a {method} call" for method, text in sent if key in text]
    return leaks


# --- reporting ---------------------------------------------------------------------------------


def figures(title: str, **values: Any) -> str:
    return f"[chaos] {title}: " + ", ".join(f"{name}={value}" for name, value in values.items())


async def gather_limited(jobs: Iterable[Awaitable[Any]], limit: int) -> list[Any]:
    """Run awaitables with at most ``limit`` at once (many users acting together)."""
    semaphore = asyncio.Semaphore(limit)

    async def one(job: Awaitable[Any]) -> Any:
        async with semaphore:
            return await job

    return await asyncio.gather(*(one(job) for job in jobs))


async def assert_clean_finish(
    fleet: Fleet,
    redis_server: RedisServer,
    telegram: FakeTelegram,
    customers: Iterable[Customer],
    *,
    context: str = "",
) -> None:
    """The end of a run: every process exits cleanly, logs no problem, and no key leaked."""
    exits = await fleet.stop_all()
    assert set(exits.values()) == {0}, exits
    problems = log_problems(fleet)
    assert not problems, context + "\n".join(problems[:5])
    leaks = secret_leaks(
        [c.key for c in customers],
        redis_dump=await redis_server.dump(),
        redis_files=redis_server.files(),
        logs=fleet.logs(),
        telegram=telegram,
    )
    assert not leaks, leaks
