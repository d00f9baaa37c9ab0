"""How the worker scales with processes: N open activations, 1, 2, 4 ... worker processes.

    .venv/bin/python -m bench.worker scaling [--activations 10000,50000] [--processes 1,2,4]

Real processes on loopback, real time: the emulator as its own HTTP server
(`python -m bot.sandbox`), a real redis-server (the embedded one), the fake Telegram server,
and K `python -m bot.worker` processes sharing one schedule. Every activation is kept due
(a tiny POLL_INTERVAL), so the workers run flat out and their throughput (items polled per
second, read from each worker's /metrics) is the capacity. The throughput with K processes
divided by the throughput with one is the scaling ratio. On a machine with few cores the
emulator, Redis and the workers compete for them: read the ratio with the core count.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import re
import socket
import sys
import tempfile
import time
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
from redis.asyncio import Redis

from bot.services.activation_rules import member
from bot.storage import keys
from bot.storage.activations import Activation, ActivationRepo
from bot.storage.embedded import EmbeddedRedis, wait_or_kill
from bot.storage.schedule import DUE
from bot.storage.secrets import KeyCipher
from tests.faketg import FakeTelegram

ROOT = Path(__file__).resolve().parent.parent
TOKEN = "123456:SCALING-BENCH-TOKEN"
SECRET = "scaling-benchmark-secret-key"
PROVIDER = "bench"
_POLLS = re.compile(r'^bot_polls_total\{kind="act"\} ([0-9.e+]+)$', re.M)
_REQUESTS = re.compile(r"^bot_provider_requests_total\{[^}]*\} ([0-9.e+]+)$", re.M)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@dataclass
class Process:
    process: asyncio.subprocess.Process
    port: int


async def spawn(args: list[str], env: dict[str, str], log: Path, port: int = 0) -> Process:
    handle = log.open("ab")
    try:
        process = await asyncio.create_subprocess_exec(
            sys.executable, *args, cwd=ROOT, env=env, stdout=handle, stderr=handle
        )
    finally:
        handle.close()
    return Process(process, port)


async def stop(process: Process) -> None:
    if process.process.returncode is None:
        process.process.terminate()
        await wait_or_kill(process.process, 15)


async def wait_http(url: str, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    async with httpx.AsyncClient() as client:
        while True:
            try:
                await client.get(url)
                return
            except httpx.HTTPError:
                if time.monotonic() > deadline:
                    raise
                await asyncio.sleep(0.1)


def best_stocked(prices: dict[str, Any], count: int = 200) -> list[tuple[int, int, str]]:
    """(stock, country, service) of the best-stocked offers in a getPrices answer: purchases
    spread over them, so that none runs out."""
    return sorted(
        (
            (int(info["count"]), int(country), service)
            for country, services in prices.items()
            for service, info in services.items()
        ),
        reverse=True,
    )[:count]


async def populate(redis: Redis, sandbox: str, activations: int, users: int) -> tuple[int, int]:
    """Accounts in the emulator, users and their activations in Redis, all due now."""
    cipher = KeyCipher(SECRET)
    repo = ActivationRepo(redis)
    per_user = max(1, activations // users)
    endpoint = f"{sandbox}/stubs/handler_api.php"
    made = 0
    now = time.time()
    async with httpx.AsyncClient(timeout=60) as client:
        await client.post(f"{sandbox}/sandbox/accounts", json={"key": "stock", "balance": "0"})
        prices = (
            await client.get(endpoint, params={"api_key": "stock", "action": "getPrices"})
        ).json()
        offers = best_stocked(prices)
        for index in range(users):
            user_id = 20_000_000 + index
            key = f"scaling-key-{user_id}"
            await client.post(
                f"{sandbox}/sandbox/accounts", json={"key": key, "balance": "100000"}
            )
            _count, country, service = offers[index % len(offers)]
            reply = await client.post(
                f"{sandbox}/sandbox/buy",
                json={"key": key, "service": service, "country": country, "count": per_user},
            )
            reply.raise_for_status()
            records = [
                Activation(
                    id=item["id"],
                    user_id=user_id,
                    provider=PROVIDER,
                    service=service,
                    phone=item["phone"],
                    country=country,
                    created_at=now,
                    # Far from expiry: nothing closes during the measurement.
                    expires_at=now + 24 * 3600,
                    waiting_since=now,
                )
                for item in reply.json()["bought"]
            ]
            # One pipeline per user: the same keys ActivationRepo and Schedule write.
            async with redis.pipeline(transaction=False) as pipe:
                pipe.hset(
                    keys.user(user_id),
                    mapping={"provider": PROVIDER, "key": cipher.encrypt(user_id, key)},
                )
                for record in records:
                    pipe.set(repo.key(record.ref), record.model_dump_json())
                    pipe.zadd(repo.user_index(user_id), {record.ref: now})
                    pipe.sadd(repo.open_set(user_id), record.ref)
                    pipe.zadd(DUE, {member(record.ref): now})
                await pipe.execute()
            made += len(records)
    return made, per_user


async def counters(port: int, client: httpx.AsyncClient) -> tuple[float, float]:
    """A worker's activation polls and provider requests so far."""
    text = (await client.get(f"http://127.0.0.1:{port}/metrics")).text
    found = _POLLS.search(text)
    requests = sum(float(value) for value in _REQUESTS.findall(text))
    return (float(found.group(1)) if found else 0.0), requests


async def totals(workers: list[Process], client: httpx.AsyncClient) -> tuple[float, float]:
    read = [await counters(w.port, client) for w in workers]
    return sum(polls for polls, _ in read), sum(requests for _, requests in read)


_TICKS = os.sysconf("SC_CLK_TCK")


def peak_mib(pid: int) -> float:
    """A process's peak resident memory (VmHWM), in MiB."""
    with open(f"/proc/{pid}/status") as status:
        for line in status:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    return 0.0


async def redis_commands(redis: Redis | None) -> Counter[str]:
    """How many times Redis has run each command so far, scripts' own commands included
    (``INFO commandstats``); nothing without a Redis."""
    if redis is None:
        return Counter()
    stats: dict[str, Any] = await redis.info("commandstats")
    return Counter(
        {name.removeprefix("cmdstat_"): int(value["calls"]) for name, value in stats.items()}
    )


def cpu_seconds(pid: int) -> float:
    """User + system CPU of a process (all its threads), from /proc/<pid>/stat."""
    with open(f"/proc/{pid}/stat") as stat:
        # The command name may contain spaces; the fields after it are fixed.
        fields = stat.read().rpartition(")")[2].split()
    return (int(fields[11]) + int(fields[12])) / _TICKS


@dataclass
class Measured:
    polls_per_second: float
    requests_per_poll: float
    #: CPU seconds per 1,000 polls, by who spent them.
    workers_cpu: float
    emulator_cpu: float
    redis_cpu: float
    #: All CPU spent (workers, emulator, Redis, this process) over the cores' capacity.
    busy: float
    #: The largest peak resident memory of one worker process.
    worker_peak_mib: float


async def measure(
    count: int,
    env: dict[str, str],
    logs: Path,
    warmup: float,
    seconds: float,
    others: dict[str, int],
) -> Measured:
    """Polls per second by ``count`` worker processes running flat out, and what they cost.

    ``others``: the pids of the emulator and of redis-server.
    """
    workers = []
    for index in range(count):
        port = free_port()
        workers.append(
            await spawn(
                ["-m", "bot.worker"],
                {**env, "WORKER_HTTP_PORT": str(port)},
                logs / f"worker-{count}-{index}.log",
                port,
            )
        )
    try:
        for worker in workers:
            await wait_http(f"http://127.0.0.1:{worker.port}/healthz")
        await asyncio.sleep(warmup)
        # Generous: with more processes than cores, an answer can take a while.
        pids = {
            "workers": [w.process.pid for w in workers],
            "emulator": [others["emulator"]],
            "redis": [others["redis"]],
            "bench": [os.getpid()],
        }

        def cpu() -> dict[str, float]:
            return {who: sum(map(cpu_seconds, group)) for who, group in pids.items()}

        async with httpx.AsyncClient(timeout=120) as client:
            before, requests_before = await totals(workers, client)
            cpu_before = cpu()
            started = time.monotonic()
            await asyncio.sleep(seconds)
            after, requests_after = await totals(workers, client)
            elapsed = time.monotonic() - started
            cpu_after = cpu()
            peak = max(peak_mib(pid) for pid in pids["workers"])
        spent = {who: cpu_after[who] - cpu_before[who] for who in pids}
        polled = max(after - before, 1.0)
        return Measured(
            polls_per_second=(after - before) / elapsed,
            requests_per_poll=(requests_after - requests_before) / polled,
            workers_cpu=spent["workers"] * 1000 / polled,
            emulator_cpu=spent["emulator"] * 1000 / polled,
            redis_cpu=spent["redis"] * 1000 / polled,
            busy=sum(spent.values()) / (elapsed * (os.cpu_count() or 1)),
            worker_peak_mib=peak,
        )
    finally:
        for worker in workers:
            await stop(worker)


async def run_size(args: argparse.Namespace, activations: int, logs: Path) -> dict[int, Measured]:
    data = logs / f"data-{activations}"
    embedded = EmbeddedRedis(data / "redis")
    redis_url = await embedded.start()
    redis = Redis.from_url(redis_url)
    telegram = FakeTelegram(TOKEN)
    await telegram.start()
    sandbox_port = free_port()
    base_env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "HOME": os.environ.get("HOME", "/tmp"),
        "PYTHONUNBUFFERED": "1",
    }
    sandbox = await spawn(
        ["-m", "bot.sandbox", "--port", str(sandbox_port)], base_env, logs / "sandbox.log"
    )
    sandbox_url = f"http://127.0.0.1:{sandbox_port}"
    try:
        await wait_http(f"{sandbox_url}/sandbox/calls")
        made, per_user = await populate(
            redis, sandbox_url, activations, args.users_for(activations)
        )
        print(f"{made} activations over {made // per_user} users ready", flush=True)
        env = {
            **base_env,
            "BOT_TOKEN": TOKEN,
            "TELEGRAM_API_BASE": telegram.base_url,
            "REDIS_URL": redis_url,
            "DATA_DIR": str(data),
            "SECRET_KEY": SECRET,
            "SMS_PROVIDERS": f"{PROVIDER}={sandbox_url}/stubs/handler_api.php",
            "POLL_INTERVAL": str(args.poll_interval),
            "PROVIDER_RPS": "0",
            "AUTO_CANCEL": "0",
            "HTTP_HOST": "127.0.0.1",
            "LOG_LEVEL": "WARNING",
        }
        server = await redis.info("server")
        others = {"emulator": sandbox.process.pid, "redis": int(server["process_id"])}
        results: dict[int, Measured] = {}
        for count in args.processes:
            found = await measure(count, env, logs, args.warmup, args.seconds, others)
            results[count] = found
            print(
                f"  {count} worker process(es): {found.polls_per_second:.0f} activations "
                f"polled/s; {found.requests_per_poll:.2f} provider requests per poll; "
                f"CPU s per 1,000 polls: workers {found.workers_cpu:.2f}, "
                f"emulator {found.emulator_cpu:.2f}, redis-server {found.redis_cpu:.2f}; "
                f"cores busy {found.busy:.0%}; peak memory of a worker "
                f"{found.worker_peak_mib:.0f} MiB",
                flush=True,
            )
        return results
    finally:
        await stop(sandbox)
        await telegram.stop()
        await redis.aclose()
        await embedded.stop()


def parse(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench.worker scaling")
    parser.add_argument("--activations", default="10000,50000")
    parser.add_argument("--per-user", type=int, default=10)
    parser.add_argument("--processes", default="1,2,4")
    parser.add_argument("--warmup", type=float, default=5.0)
    parser.add_argument("--seconds", type=float, default=15.0)
    parser.add_argument(
        "--poll-interval",
        type=float,
        default=0.05,
        help="POLL_INTERVAL of the workers; the default keeps every item due at once",
    )
    args = parser.parse_args(argv)
    args.sizes = [int(n) for n in args.activations.split(",")]
    args.processes = [int(n) for n in args.processes.split(",")]
    args.users_for = lambda n: max(1, n // args.per_user)
    return args


async def run(argv: list[str]) -> None:
    args = parse(argv)
    print(f"machine: {os.cpu_count()} cores; each size measured in one run", flush=True)
    with tempfile.TemporaryDirectory(prefix="bench-scaling-") as tmp:
        for size in args.sizes:
            print(f"{size} open activations:", flush=True)
            results = await run_size(args, size, Path(tmp))
            first = args.processes[0]
            base = results[first]
            for count, found in results.items():
                print(
                    f"  scaling {count}/{first}: "
                    f"{found.polls_per_second / base.polls_per_second:.2f}x the polls/s; "
                    f"worker CPU per poll {found.workers_cpu / base.workers_cpu:.2f}x",
                    flush=True,
                )


def main(argv: list[str]) -> int:
    asyncio.run(run(argv))
    return 0
