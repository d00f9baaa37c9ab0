"""The worker in simulated time: N open activations over U users, codes at random times.

    .venv/bin/python -m bench.worker --simulated [--activations 10000] [--users 1000]

The real worker code (schedule, pollers, notifier) runs against the emulator (in-process
transport), the fake Telegram server (in-process session) and a real Redis (the embedded
redis-server). Time is simulated: the emulator's clock, which is also the bot's, advances in
steps of a tenth of the poll interval, and every step lets the workers take whatever is due.
So delays are measured in simulated seconds (reported as multiples of the poll interval)
while CPU time and memory are real.

Codes arrive after an exponentially distributed wait (mean --arrival-mean seconds); a share
of numbers (--no-code) never gets one and is auto-cancelled before it expires. Most users
(--finish-share) tap Finish --finish-after seconds after their code; the rest leave the
number open until it expires.

A quick check; the real-time comparison with the naive poller is bench/realtime.py.

Prints: provider requests per delivered code, delivery delay after arrival (p50/p99, in poll
intervals), CPU seconds and peak memory per 1,000 activations, codes lost and duplicated.
"""

from __future__ import annotations

import argparse
import asyncio
import random
import resource
import tempfile
import time
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

import httpx
from redis.asyncio import Redis

from bot.botapi import BotApi
from bot.config import Settings
from bot.events import Delivery
from bot.provider.models import ActivationAction
from bot.resources import Resources, close_resources, open_resources
from bot.sandbox import Clock, Emulator, EmulatorConfig, EmulatorTransport
from bot.storage.activations import Activation, BuyOptions
from bot.storage.embedded import EmbeddedRedis
from bot.worker import Worker, build_context, build_worker
from tests.faketg import FakeTelegram
from tests.faketg.transport import FakeTelegramTransport

TOKEN = "123456:BENCH-TOKEN"
PROVIDER = "herosms"
START = 1_790_000_000.0
SERVICES = ("tg", "wa", "go", "vk", "fb", "ig", "tw", "mm", "am", "ds")
COUNTRY = 6


class CountingTransport(httpx.AsyncBaseTransport):
    """Counts provider requests by action, and the CPU the emulator spends answering them."""

    def __init__(self, inner: httpx.AsyncBaseTransport) -> None:
        self.inner = inner
        self.actions: Counter[str] = Counter()
        self.cpu = 0.0

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        self.actions[request.url.params.get("action", "")] += 1
        started = time.process_time()
        try:
            return await self.inner.handle_async_request(request)
        finally:
            self.cpu += time.process_time() - started


class TimedTelegram(FakeTelegram):
    """The fake Telegram server, counting the CPU it spends serving the bot."""

    cpu = 0.0

    async def call_direct(self, method: str, args: dict[str, str]) -> tuple[int, str]:
        started = time.process_time()
        try:
            return await super().call_direct(method, args)
        finally:
            self.cpu += time.process_time() - started


@dataclass
class _Timed:
    """Worker events that time each delivery, and finish some numbers afterwards."""

    delivered_at: dict[tuple[str, int], float]
    finishes: list[tuple[float, str]]
    rng: random.Random
    share: float
    after: float

    def polled(self, kind: str) -> None:
        pass

    def pushed(self, delivery: Delivery) -> None:
        self.delivered_at[(delivery.ref, delivery.index)] = delivery.at
        if self.rng.random() < self.share:
            self.finishes.append((delivery.at + self.after, delivery.ref))

    def auto_cancelled(self, activation: Activation) -> None:
        pass


def percentile(values: list[float], share: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))]


async def open_bench(
    redis_url: str, data_dir: Path, poll_interval: float, emulator: Emulator, bot_api: BotApi
) -> tuple[Resources, CountingTransport]:
    counting = CountingTransport(EmulatorTransport(emulator))
    settings = Settings(
        _env_file=None,
        BOT_TOKEN=TOKEN,
        REDIS_URL=redis_url,
        DATA_DIR=data_dir,
        SMS_PROVIDERS=f"{PROVIDER}=https://provider.bench/stubs/handler_api.php",
        SECRET_KEY="benchmark-secret-key-value",
        POLL_INTERVAL=poll_interval,
        RUN_WORKER=False,
        TELEGRAM_CHAT_INTERVAL=0,
        TELEGRAM_RATE=1_000_000,
        PROVIDER_RPS=0,
        HTTP_PORT=0,
    )
    redis = Redis.from_url(redis_url)
    resources = await open_resources(
        settings,
        redis=redis,
        http=httpx.AsyncClient(transport=counting),
        clock=emulator.clock.now,
        steady=emulator.clock.now,  # simulated time passing, not a jump
        bot_api=bot_api,
    )
    return resources, counting


async def buy_all(
    resources: Resources, emulator: Emulator, users: list[int], per_user: int
) -> list[Activation]:
    """Every user buys ``per_user`` numbers through the bot's own purchase path."""
    bought: list[Activation] = []
    service = resources.activation_service
    for user_id in users:
        account = await resources.accounts.get(user_id)
        for n in range(per_user):
            options = BuyOptions(service=SERVICES[n % len(SERVICES)], country=COUNTRY)
            token = await service.draft(account, options)
            purchase = await service.buy(account, token)
            if purchase.item is None:
                raise RuntimeError(f"purchase failed: {purchase}")
            bought.append(purchase.item)
    return bought


async def finish(resources: Resources, ref: str) -> None:
    """The user taps Finish (what most do once the code worked)."""
    activation = await resources.activations.get(ref)
    if activation is None or not activation.is_open:
        return
    account = await resources.accounts.get(activation.user_id)
    await resources.activation_service.set_status(account, activation, ActivationAction.FINISH)


async def run(args: argparse.Namespace) -> dict[str, Any]:
    rng = random.Random(args.seed)
    with tempfile.TemporaryDirectory(prefix="bench-worker-") as tmp:
        data_dir = Path(tmp)
        embedded = EmbeddedRedis(data_dir / "redis")
        redis_url = await embedded.start()
        emulator = Emulator(
            EmulatorConfig(seed=args.seed, max_recorded_calls=0), Clock(frozen_at=START)
        )
        telegram = TimedTelegram(TOKEN)
        bot_api = BotApi(TOKEN, transport=FakeTelegramTransport(telegram))
        resources, counting = await open_bench(
            redis_url, data_dir, args.poll_interval, emulator, bot_api
        )
        per_user = max(1, args.activations // args.users)
        users = [10_000_000 + n for n in range(args.users)]
        for user_id in users:
            key = f"bench-key-{user_id}"
            emulator.add_account(key, balance=Decimal(10_000))
            for offer_service in SERVICES:
                emulator.set_offer(COUNTRY, offer_service, count=1_000_000)
            await resources.users.register(user_id)
            await resources.users.set_credentials(user_id, PROVIDER, key)
            await telegram.user(user_id).send("/start")  # the bot may write to them now
        telegram.take_updates()
        activations = await buy_all(resources, emulator, users, per_user)
        setup_requests = sum(counting.actions.values())
        counting.actions.clear()
        counting.cpu = telegram.cpu = 0.0
        polls = Counter[str]()

        arrivals: dict[str, tuple[float, str]] = {}
        # Unique codes: a code seen twice then means one code pushed twice.
        codes = rng.sample(range(10**5, 10**6), len(activations))
        for activation, number in zip(activations, codes, strict=True):
            if rng.random() < args.no_code:
                continue
            wait = rng.expovariate(1 / args.arrival_mean)
            code = str(number)
            arrivals[activation.ref] = (START + wait, code)
        pending = sorted(
            (at, ref, code) for ref, (at, code) in arrivals.items() if at < START + 1140
        )
        ids = {a.ref: a.id for a in activations}

        delivered_at: dict[tuple[str, int], float] = {}
        finishes: list[tuple[float, str]] = []
        workers: list[Worker] = []
        for _ in range(args.workers):
            ctx = build_context(resources)

            ctx.events = _Timed(delivered_at, finishes, rng, args.finish_share, args.finish_after)
            worker = build_worker(resources, ctx)
            worker.batch = args.batch
            poll = worker.pollers["act"]

            async def counted(ref: str, stored: Any = None, poll: Any = poll) -> float | None:
                polls[ref] += 1
                result: float | None = await poll(ref, stored)
                return result

            worker.pollers["act"] = counted
            workers.append(worker)

        step = args.poll_interval / 10
        horizon = START + 21 * 60
        await resources.redis.config_resetstat()
        cpu_started = time.process_time()
        wall_started = time.perf_counter()
        while emulator.clock.now() < horizon:
            now = emulator.clock.now()
            while pending and pending[0][0] <= now:
                _at, ref, code = pending.pop(0)
                emulator.deliver_sms(ids[ref], f"Your code: {code}", code=code)
            finishes.sort()
            while finishes and finishes[0][0] <= now:
                _at, ref = finishes.pop(0)
                await finish(resources, ref)
            while sum(await asyncio.gather(*(w.run_once() for w in workers))):
                pass
            emulator.advance(step)
        cpu_all = time.process_time() - cpu_started
        cpu = cpu_all - counting.cpu - telegram.cpu
        wall = time.perf_counter() - wall_started

        pushes = Counter[str]()
        expected = {code: ref for ref, (at, code) in arrivals.items() if at < START + 1140}
        for user_id in users:
            for message in telegram.user(user_id).messages:
                if message.from_bot and "Code for" in message.text:
                    pushes[message.text.splitlines()[1].replace(" ", "")] += 1
        lost_codes = [code for code in expected if pushes[code] == 0]
        lost = len(lost_codes)
        if lost and args.verbose:
            for code in lost_codes[:5]:
                ref = expected[code]
                record = await resources.activations.get(ref)
                print(
                    "LOST",
                    code,
                    ref,
                    arrivals[ref][0] - START,
                    record and record.state,
                    record and [c.code for c in record.codes],
                )
        duplicated = sum(count - 1 for count in pushes.values() if count > 1)
        delays = [
            (delivered_at[(ref, 0)] - arrivals[ref][0]) / args.poll_interval
            for ref in expected.values()
            if (ref, 0) in delivered_at
        ]
        requests = sum(counting.actions.values())
        commandstats = await resources.redis.info("commandstats")
        redis_commands = {
            name.removeprefix("cmdstat_"): int(stats["calls"])
            for name, stats in commandstats.items()
            if isinstance(stats, dict)
        }
        peak_kib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        thousands = len(activations) / 1000
        await close_resources(resources)
        await embedded.stop()
        return {
            "activations": len(activations),
            "users": len(users),
            "workers": args.workers,
            "codes": len(expected),
            "delivered": len(expected) - lost,
            "lost": lost,
            "duplicated": duplicated,
            "setup_requests": setup_requests,
            "requests": requests,
            "requests_by_action": dict(counting.actions.most_common()),
            "requests_per_code": requests / max(1, len(expected) - lost),
            "delay_p50": percentile(delays, 0.50),
            "delay_p99": percentile(delays, 0.99),
            "polls": sum(polls.values()),
            "redis_commands": redis_commands,
            "cpu_seconds": cpu,
            "cpu_fakes": counting.cpu + telegram.cpu,
            "cpu_per_1000": cpu / thousands,
            "wall_seconds": wall,
            "peak_mib": peak_kib / 1024,
            "peak_mib_per_1000": peak_kib / 1024 / thousands,
        }


def report(result: dict[str, Any], out: Iterable[str] = ()) -> str:
    lines = [
        f"activations {result['activations']} over {result['users']} users, "
        f"{result['workers']} worker(s); codes {result['codes']}",
        f"provider requests per delivered code: {result['requests_per_code']:.2f} "
        f"({result['requests']} requests: {result['requests_by_action']})",
        f"delivery delay after arrival, in poll intervals: p50 {result['delay_p50']:.2f}, "
        f"p99 {result['delay_p99']:.2f}",
        f"polls: {result['polls']} ({result['polls'] / result['activations']:.1f} per activation)"
        f"; Redis commands per poll: "
        f"{sum(result['redis_commands'].values()) / max(1, result['polls']):.1f}",
        f"CPU seconds per 1,000 activations: {result['cpu_per_1000']:.2f} "
        f"(bot side {result['cpu_seconds']:.1f} s; emulator and fake Telegram, excluded: "
        f"{result['cpu_fakes']:.1f} s; wall {result['wall_seconds']:.1f} s)",
        f"peak memory: {result['peak_mib']:.0f} MiB for the whole process "
        f"({result['peak_mib_per_1000']:.1f} MiB per 1,000 activations; includes the "
        "emulator and the fake Telegram server)",
        f"codes lost: {result['lost']}, duplicated: {result['duplicated']}",
    ]
    return "\n".join([*out, *lines])


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m bench.worker --simulated", description=__doc__.split("\n\n")[0]
    )
    parser.add_argument("--activations", type=int, default=10_000)
    parser.add_argument("--users", type=int, default=1_000)
    parser.add_argument("--workers", type=int, default=1)
    parser.add_argument("--poll-interval", type=float, default=5.0)
    parser.add_argument("--arrival-mean", type=float, default=60.0)
    parser.add_argument("--no-code", type=float, default=0.05)
    parser.add_argument("--finish-share", type=float, default=0.8)
    parser.add_argument("--finish-after", type=float, default=30.0)
    parser.add_argument("--batch", type=int, default=256)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--verbose", action="store_true")
    args = parser.parse_args(argv)
    result = asyncio.run(run(args))
    print(report(result))
    return 1 if result["lost"] or result["duplicated"] else 0
