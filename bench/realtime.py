"""The worker and the naive poller, side by side, in real time over loopback HTTP.

For each configuration (N activations dealt to U users, each user with their own API key; a
poll interval; a provider with or without getActiveActivations) both designs run one after
the other, each against a fresh emulator process (``python -m bot.sandbox``, same seed) and a
fresh fake Telegram server (in this process), on the same schedule: the code of activation i
arrives at the same moment of a ``--window``-second window in both runs (seeded).

- ``worker``: ``python -m bot.worker`` with an embedded redis-server of its own. The
  activations are bought beforehand through the bot's own purchase path (this process, over
  HTTP), each with a card message the worker edits when the code comes.
- ``naive``: ``python -m bench.naive`` (see there), no Redis.

Measured from the window's start to its end plus a grace period (3 intervals + 10 s by
default): provider requests served by the emulator per delivered code; the delay from the
SMS reaching the emulator to the sendMessage carrying the code reaching the fake Telegram;
codes lost (never sent) and duplicated (sent more than once); CPU seconds of the design's
process plus its redis-server per 1,000 activations; peak resident memory (VmHWM); and for
the worker, Redis ``used_memory`` per open activation (at the window's start, over an empty
server). The emulator and the fake Telegram run on the same cores: on a shared machine the
figures move with the load, the ratios between the designs much less.
"""

from __future__ import annotations

import asyncio
import json
import os
import random
import re
import time
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
from redis.asyncio import Redis

from bench.scaling import (
    Process,
    best_stocked,
    cpu_seconds,
    free_port,
    peak_mib,
    redis_commands,
    spawn,
    stop,
    wait_http,
)
from bot.config import Settings
from bot.resources import close_resources, open_resources
from bot.storage.activations import BuyOptions
from bot.storage.embedded import EmbeddedRedis
from tests.faketg import FakeTelegram

TOKEN = "123456:REALTIME-BENCH-TOKEN"
SECRET = "realtime-benchmark-secret-key"
USER_BASE = 30_000_000
BALANCE = "10000000"
DESIGNS = ("naive", "worker")
#: The provider kinds: the name the worker knows the provider by (an unknown name has every
#: feature; "smshub" is the classic getStatus-only subset) and what the emulator lacks.
PROVIDERS: dict[str, tuple[str, tuple[str, ...]]] = {
    "batching": ("bench", ()),
    "getstatus": ("smshub", ("getActiveActivations", "getHistory")),
}
# A code as either design writes it: six digits, perhaps spaced ("123 456", "1 2 3 4 5 6"
# for some services); never a piece of a longer number such as the phone.
_CODE = re.compile(r"(?<![\d+])\d(?:[ -]?\d){5}(?![ -]?\d)")


@dataclass(frozen=True)
class RunConfig:
    activations: int
    users: int
    interval: float
    provider: str

    @property
    def label(self) -> str:
        return (
            f"N={self.activations:,}, U={self.users:,}, {self.interval:g} s, "
            f"{'getStatus-only' if self.provider == 'getstatus' else self.provider}"
        )


@dataclass(frozen=True)
class Workload:
    """Activation i belongs to user i % U; its code and its arrival (seconds into the window)."""

    codes: list[str]
    offsets: list[float]

    @classmethod
    def make(cls, count: int, window: float, seed: int) -> Workload:
        rng = random.Random(seed)
        codes = [str(number) for number in rng.sample(range(100_000, 1_000_000), count)]
        return cls(codes, [rng.uniform(0, window) for _ in range(count)])


@dataclass
class Result:
    config: RunConfig
    design: str
    codes: int
    lost: int
    duplicated: int
    requests: int
    requests_by_action: dict[str, int]
    delay_p50: float
    delay_p99: float
    cpu_process: float
    cpu_redis: float
    peak_process_mib: float
    peak_redis_mib: float
    redis_bytes_per_activation: float | None
    #: Seconds from the first purchase to the window's start: the oldest activation's age.
    bought_before: float
    #: The machine's 1-minute load average at the window's end (2 cores: above 2 is queueing).
    load: float = 0.0
    #: Commands Redis ran in the window (commandstats: a script's own commands count too).
    redis_commands: dict[str, int] = field(default_factory=dict)
    #: Bot API calls the design made in the window, by method.
    telegram_calls: dict[str, int] = field(default_factory=dict)
    delays: list[float] = field(repr=False, default_factory=list)

    @property
    def delivered(self) -> int:
        return self.codes - self.lost

    @property
    def requests_per_code(self) -> float:
        return self.requests / max(1, self.delivered)

    @property
    def cpu_per_1000(self) -> float:
        return (self.cpu_process + self.cpu_redis) * 1000 / self.config.activations

    def summary(self) -> dict[str, Any]:
        return {
            "run": self.config.label,
            "design": self.design,
            "codes": self.codes,
            "lost": self.lost,
            "duplicated": self.duplicated,
            "requests": self.requests,
            "requests_by_action": self.requests_by_action,
            "requests_per_code": round(self.requests_per_code, 2),
            "delay_p50": round(self.delay_p50, 3),
            "delay_p99": round(self.delay_p99, 3),
            "cpu_process": round(self.cpu_process, 2),
            "cpu_redis": round(self.cpu_redis, 2),
            "cpu_per_1000": round(self.cpu_per_1000, 2),
            "peak_process_mib": round(self.peak_process_mib, 1),
            "peak_redis_mib": round(self.peak_redis_mib, 1),
            "redis_bytes_per_activation": self.redis_bytes_per_activation,
            "bought_before": round(self.bought_before, 1),
            "load": round(self.load, 1),
            "redis_commands_per_code": round(
                sum(self.redis_commands.values()) / max(1, self.delivered), 1
            ),
            "redis_commands": dict(Counter(self.redis_commands).most_common(12)),
            "telegram_calls": self.telegram_calls,
        }


def percentile(values: Sequence[float], share: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))]


def user_id(index: int) -> int:
    return USER_BASE + index


def api_key(user: int) -> str:
    return f"realtime-key-{user}"


def base_env() -> dict[str, str]:
    return {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "HOME": os.environ.get("HOME", "/tmp"),
        "PYTHONUNBUFFERED": "1",
    }


@dataclass
class Stage:
    """One design's surroundings: the emulator process and the fake Telegram server."""

    config: RunConfig
    logs: Path
    sandbox: Process | None = None
    sandbox_url: str = ""
    telegram: FakeTelegram = field(default_factory=lambda: FakeTelegram(TOKEN))
    offers: list[tuple[int, str]] = field(default_factory=list)

    @property
    def endpoint(self) -> str:
        return f"{self.sandbox_url}/stubs/handler_api.php"

    async def start(self, seed: int) -> None:
        port = free_port()
        without = [
            arg for action in PROVIDERS[self.config.provider][1] for arg in ("--without", action)
        ]
        self.sandbox = await spawn(
            ["-m", "bot.sandbox", "--port", str(port), "--seed", str(seed), "--quiet", *without],
            base_env(),
            self.logs / "sandbox.log",
        )
        self.sandbox_url = f"http://127.0.0.1:{port}"
        await self.telegram.start()
        await wait_http(f"{self.sandbox_url}/sandbox/served")
        async with httpx.AsyncClient(base_url=self.sandbox_url, timeout=60) as client:
            await client.post("/sandbox/accounts", json={"key": "stock", "balance": "0"})
            prices = (
                await client.get(self.endpoint, params={"api_key": "stock", "action": "getPrices"})
            ).json()
            for index in range(self.config.users):
                user = user_id(index)
                await client.post(
                    "/sandbox/accounts", json={"key": api_key(user), "balance": BALANCE}
                )
                await self.telegram.user(user).send("/start")  # the bot may write to them
        self.telegram.take_updates()
        self.offers = [(country, service) for _count, country, service in best_stocked(prices)]

    def offer(self, user_index: int) -> tuple[int, str]:
        return self.offers[user_index % len(self.offers)]

    async def stop(self) -> None:
        if self.sandbox is not None:
            await stop(self.sandbox)
        await self.telegram.stop()


def owned(config: RunConfig, user_index: int) -> range:
    """The indices of the activations dealt to one user."""
    return range(user_index, config.activations, config.users)


async def buy_in_bulk(stage: Stage) -> list[int]:
    """The naive poller's activations: bought straight from the emulator, ids by index."""
    config = stage.config
    ids = [0] * config.activations
    async with httpx.AsyncClient(base_url=stage.sandbox_url, timeout=60) as client:
        for index in range(config.users):
            country, service = stage.offer(index)
            mine = owned(config, index)
            reply = await client.post(
                "/sandbox/buy",
                json={
                    "key": api_key(user_id(index)),
                    "service": service,
                    "country": country,
                    "count": len(mine),
                },
            )
            reply.raise_for_status()
            for slot, item in zip(mine, reply.json()["bought"], strict=True):
                ids[slot] = int(item["id"])
    return ids


def worker_env(stage: Stage, redis_url: str, data: Path) -> dict[str, str]:
    """The bot's settings for the worker process and for the purchases made here."""
    name = PROVIDERS[stage.config.provider][0]
    return {
        "BOT_TOKEN": TOKEN,
        "TELEGRAM_API_BASE": stage.telegram.base_url,
        "REDIS_URL": redis_url,
        "DATA_DIR": str(data),
        "SECRET_KEY": SECRET,
        "SMS_PROVIDERS": f"{name}={stage.endpoint}",
        "POLL_INTERVAL": str(stage.config.interval),
        "HTTP_HOST": "127.0.0.1",
        "LOG_LEVEL": "WARNING",
    }


async def buy_through_the_bot(stage: Stage, env: dict[str, str]) -> list[int]:
    """The worker's activations: bought as a user's Buy does, each with its card message."""
    config = stage.config
    name = PROVIDERS[config.provider][0]
    # Validated from these values alone: no .env file, nothing from this process's environment.
    settings = Settings.model_validate({**env, "RUN_WORKER": "0", "HTTP_PORT": "0"})
    resources = await open_resources(settings)
    ids = [0] * config.activations
    gate = asyncio.Semaphore(16)

    async def one_user(index: int) -> None:
        user = user_id(index)
        country, service = stage.offer(index)
        options = BuyOptions(service=service, country=country)
        shop = resources.activation_service
        async with gate:
            await resources.users.register(user)
            await resources.users.set_credentials(user, name, api_key(user))
            account = await resources.accounts.get(user)
            for slot in owned(config, index):
                purchase = await shop.buy(account, await shop.draft(account, options))
                if purchase.item is None:
                    raise RuntimeError(f"purchase failed: {purchase}")
                item = purchase.item
                if item.id is None:
                    raise RuntimeError(f"no activation id: {item}")
                status, body = await stage.telegram.call_direct(
                    "sendMessage", {"chat_id": str(user), "text": f"Card of +{item.phone}"}
                )
                if status != 200:
                    raise RuntimeError(f"card not sent: {body}")
                await shop.set_card(item.ref, int(json.loads(body)["result"]["message_id"]))
                ids[slot] = item.id

    try:
        await asyncio.gather(*(one_user(index) for index in range(config.users)))
    finally:
        await close_resources(resources)
    return ids


@dataclass
class Running:
    """The design's process, its Redis (the worker's), and what was measured before the window."""

    process: Process
    redis_pid: int | None = None
    redis_bytes_per_activation: float | None = None
    redis: Redis | None = None


async def deliver_codes(
    stage: Stage, workload: Workload, ids: list[int], started: float
) -> dict[int, float]:
    """Every SMS at its moment of the window; when each reached the emulator (its clock)."""
    arrived: dict[int, float] = {}
    order = sorted(range(len(ids)), key=workload.offsets.__getitem__)
    async with httpx.AsyncClient(base_url=stage.sandbox_url, timeout=60) as client:
        for index in order:
            wait = started + workload.offsets[index] - time.monotonic()
            if wait > 0:
                await asyncio.sleep(wait)
            code = workload.codes[index]
            reply = await client.post(
                "/sandbox/sms",
                json={"id": ids[index], "text": f"Your code is {code}", "code": code},
            )
            reply.raise_for_status()
            arrived[index] = float(reply.json()["at"])
    return arrived


def telegram_tally(
    stage: Stage, workload: Workload, clock_offset: float
) -> tuple[dict[int, float], Counter[int]]:
    """When each code first reached Telegram (wall clock), and how many times it was sent."""
    config = stage.config
    by_chat: dict[int, dict[str, int]] = {}
    for index, code in enumerate(workload.codes):
        by_chat.setdefault(user_id(index % config.users), {})[code] = index
    first: dict[int, float] = {}
    sent: Counter[int] = Counter()
    for call in stage.telegram.calls:
        if call.method != "sendMessage" or call.status != 200:
            continue
        expected = by_chat.get(int(call.params.get("chat_id", 0)), {})
        for match in _CODE.finditer(str(call.params.get("text", ""))):
            found = expected.get(re.sub(r"\D", "", match.group(0)))
            if found is not None:
                sent[found] += 1
                first.setdefault(found, call.at + clock_offset)
    return first, sent


async def measure(
    stage: Stage,
    design: str,
    running: Running,
    workload: Workload,
    ids: list[int],
    window: float,
    grace: float,
    bought_before: float,
) -> Result:
    config = stage.config
    pids = [running.process.process.pid]
    if running.redis_pid is not None:
        pids.append(running.redis_pid)
    async with httpx.AsyncClient(base_url=stage.sandbox_url, timeout=60) as client:
        before: Counter[str] = Counter((await client.get("/sandbox/served")).json())
        cpu_before = [cpu_seconds(pid) for pid in pids]
        commands_before = await redis_commands(running.redis)
        stage.telegram.calls.clear()
        started = time.monotonic()
        clock_offset = time.time() - started  # fake Telegram's monotonic stamps to wall time
        arrived = await deliver_codes(stage, workload, ids, started)
        await asyncio.sleep(max(0.0, started + window + grace - time.monotonic()))
        cpu_after = [cpu_seconds(pid) for pid in pids]
        commands = await redis_commands(running.redis) - commands_before
        peaks = [peak_mib(pid) for pid in pids]
        after: Counter[str] = Counter((await client.get("/sandbox/served")).json())
    served = after - before
    telegram_calls = Counter(call.method for call in stage.telegram.calls)
    first, sent = telegram_tally(stage, workload, clock_offset)
    delays = [first[index] - at for index, at in arrived.items() if index in first]
    spent = [end - start for start, end in zip(cpu_before, cpu_after, strict=True)]
    return Result(
        config=config,
        design=design,
        codes=len(arrived),
        lost=sum(1 for index in arrived if index not in first),
        duplicated=sum(count - 1 for count in sent.values() if count > 1),
        requests=sum(served.values()),
        requests_by_action=dict(served.most_common()),
        delay_p50=percentile(delays, 0.50),
        delay_p99=percentile(delays, 0.99),
        cpu_process=spent[0],
        cpu_redis=spent[1] if len(spent) > 1 else 0.0,
        peak_process_mib=peaks[0],
        peak_redis_mib=peaks[1] if len(peaks) > 1 else 0.0,
        redis_bytes_per_activation=running.redis_bytes_per_activation,
        bought_before=bought_before,
        load=os.getloadavg()[0],
        redis_commands=dict(commands),
        telegram_calls=dict(telegram_calls.most_common()),
        delays=delays,
    )


async def wait_for_file(path: Path, process: Process, timeout: float = 120.0) -> None:
    deadline = time.monotonic() + timeout
    while not await asyncio.to_thread(path.exists):
        if process.process.returncode is not None or time.monotonic() > deadline:
            raise RuntimeError(f"{process.process.pid} never got ready (see the logs)")
        await asyncio.sleep(0.1)


async def run_naive(stage: Stage, workload: Workload, options: Options) -> Result:
    config = stage.config
    bought_at = time.monotonic()
    ids = await buy_in_bulk(stage)
    items = [
        {
            "id": ids[index],
            "key": api_key(user_id(index % config.users)),
            "chat": user_id(index % config.users),
        }
        for index in range(config.activations)
    ]
    plan = stage.logs / "naive-activations.json"
    plan.write_text(json.dumps(items))
    ready = stage.logs / "naive.ready"
    process = await spawn(
        [
            "-m", "bench.naive",
            "--provider", stage.endpoint,
            "--telegram", stage.telegram.base_url,
            "--token", TOKEN,
            "--interval", str(config.interval),
            "--activations", str(plan),
            "--ready", str(ready),
            "--seed", str(options.seed),
        ],
        base_env(),
        stage.logs / "naive.log",
    )  # fmt: skip
    try:
        await wait_for_file(ready, process)
        await asyncio.sleep(config.interval)  # every task has polled once
        bought_before = time.monotonic() - bought_at
        return await measure(
            stage, "naive", Running(process), workload, ids, options.window,
            options.grace_for(config), bought_before,
        )  # fmt: skip
    finally:
        await stop(process)


async def run_worker(stage: Stage, workload: Workload, options: Options) -> Result:
    config = stage.config
    data = stage.logs / "worker-data"
    embedded = EmbeddedRedis(data / "redis")
    redis_url = await embedded.start()
    redis = Redis.from_url(redis_url)
    process: Process | None = None
    try:
        empty = int((await redis.info("memory"))["used_memory"])
        redis_pid = int((await redis.info("server"))["process_id"])
        env = worker_env(stage, redis_url, data)
        port = free_port()
        # Started first, so that its start (seconds of imports) does not age the activations:
        # the worker polls an activation less often once it has waited three minutes.
        process = await spawn(
            ["-m", "bot.worker"],
            {**base_env(), **env, "WORKER_HTTP_PORT": str(port), **options.worker_env},
            stage.logs / "worker.log",
            port,
        )
        await wait_http(f"http://127.0.0.1:{port}/healthz", timeout=120)
        bought_at = time.monotonic()
        ids = await buy_through_the_bot(stage, env)
        await asyncio.sleep(config.interval)  # every activation has been polled once
        used = int((await redis.info("memory"))["used_memory"])
        running = Running(process, redis_pid, (used - empty) / config.activations, redis)
        bought_before = time.monotonic() - bought_at
        return await measure(
            stage, "worker", running, workload, ids, options.window,
            options.grace_for(config), bought_before,
        )  # fmt: skip
    finally:
        if process is not None:
            await stop(process)
        await redis.aclose()
        await embedded.stop()


@dataclass(frozen=True)
class Options:
    window: float
    grace: float | None
    seed: int
    worker_env: dict[str, str]

    def grace_for(self, config: RunConfig) -> float:
        return self.grace if self.grace is not None else 3 * config.interval + 10


async def run_config(
    config: RunConfig, designs: Sequence[str], options: Options, logs: Path
) -> list[Result]:
    workload = Workload.make(config.activations, options.window, options.seed)
    results = []
    for design in designs:
        where = (
            logs
            / f"{config.activations}-{config.users}-{config.interval:g}-{config.provider}-{design}"
        )
        where.mkdir(parents=True, exist_ok=True)
        stage = Stage(config, where)
        try:
            await stage.start(options.seed)
            runner = run_naive if design == "naive" else run_worker
            result = await runner(stage, workload, options)
        finally:
            await stage.stop()
        print(f"  {design}: {json.dumps(result.summary())}", flush=True)
        results.append(result)
    return results


def table(results: Sequence[Result]) -> str:
    lines = [
        "| run | design | provider requests per code | delay p50 s | delay p99 s "
        "| p99 / interval | lost | duplicated | CPU s per 1k activations (process + Redis) "
        "| peak RSS (process; Redis) | Redis per open activation |",
        "|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    previous = None
    for result in results:
        config = result.config
        label = config.label if config != previous else ""
        previous = config
        redis = (
            f"{result.redis_bytes_per_activation / 1024:.2f} KB"
            if result.redis_bytes_per_activation is not None
            else "-"
        )
        rss = f"{result.peak_process_mib:.0f} MB"
        if result.peak_redis_mib:
            rss += f"; {result.peak_redis_mib:.0f} MB"
        cpu = f"{result.cpu_per_1000:.1f}"
        if result.cpu_redis:
            cpu += f" ({result.cpu_process * 1000 / config.activations:.1f} + "
            cpu += f"{result.cpu_redis * 1000 / config.activations:.1f})"
        lines.append(
            f"| {label} | {'naive poller' if result.design == 'naive' else 'this worker'} "
            f"| {result.requests_per_code:.1f} | {result.delay_p50:.2f} | "
            f"{result.delay_p99:.2f} | {result.delay_p99 / config.interval:.2f} | "
            f"{result.lost:,} | {result.duplicated:,} | {cpu} | {rss} | {redis} |"
        )
    return "\n".join(lines)
