"""Benchmark of fairness under load: other users' latency while someone floods slow commands.

    .venv/bin/python -m bench.fairness [--flood 120] [--over 0.5] [--slow 5] [--probers 8]
                                       [--seconds 15] [--hung-users 30]

The bot is what ``python -m bot`` builds (``open_resources``, ``build_dispatcher``, long polling
with the same ``tasks_concurrency_limit``) on a real Redis (the embedded redis-server), polling
the fake Telegram server (``tests/faketg``) over loopback HTTP; each provider is an emulator
in-process behind ``EmulatorTransport``, with the emulator's latency fault making it slow. All
of it runs in this process, so the figures include the fake Telegram's and the users' time.

Two scenarios, each run quiet and then loaded, each run on a fresh bot and an empty Redis:

* **flood**: ``probers`` users send /help (no provider call) one after another, each waiting
  for the answer, for ``seconds``; in the loaded run one user sends ``flood`` /balance within
  ``over`` seconds while the provider takes ``slow`` seconds per getBalance.
* **hung provider**: two providers; ``probers`` users of provider B send /balance the same way;
  in the loaded run ``hung-users`` users of provider A send 5 /balance each within ``over``
  seconds while A takes ``slow`` seconds for every call (PROVIDER_TIMEOUT is ``slow``: every
  call takes its full timeout).

Each prober waits a second between its own messages (Telegram lets a bot write about once a
second to one chat, and so does the bot: TELEGRAM_CHAT_INTERVAL). Prints, per scenario, the
probers' answer latency p50 and p99, quiet and loaded, and their ratio (the goal: within 2x),
and what the flooders got back. Not a test: nothing here is timed against a threshold.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import sys
import tempfile
import time
from dataclasses import dataclass, field, replace
from decimal import Decimal
from pathlib import Path

import httpx
from aiogram import Bot
from redis.asyncio import Redis

from bench.updates import WatchedTelegram, percentile
from bot.config import Settings
from bot.dispatcher import BotDispatcher
from bot.factory import UPDATES_IN_FLIGHT, build_bot, build_dispatcher
from bot.provider.client import build_http_client
from bot.resources import Resources, close_resources, open_resources
from bot.sandbox import Emulator, EmulatorConfig, EmulatorTransport
from bot.storage.embedded import EmbeddedRedis
from tests.faketg import UserSide

TOKEN = "123456:FAIRNESS-TOKEN"
URLS = {
    "herosms": "https://a.provider.bench/stubs/handler_api.php",
    "smshub": "https://b.provider.bench/stubs/handler_api.php",
}
ANSWER_TIMEOUT = 120.0
PACE = 1.0
SLOW_DOWN = "Slow down"
BUSY = "answering slowly"
FIRST_USER = 30_000_001


class ByHost(httpx.AsyncBaseTransport):
    """Each provider's host to its own emulator."""

    def __init__(self, emulators: dict[str, Emulator]) -> None:
        self._routes = {
            httpx.URL(URLS[name]).host: EmulatorTransport(emulator)
            for name, emulator in emulators.items()
        }

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        return await self._routes[request.url.host].handle_async_request(request)


@dataclass
class Run:
    latencies: list[float] = field(default_factory=list)
    unanswered: int = 0
    unexpected: int = 0
    flood_replies: dict[str, int] = field(default_factory=dict)


@dataclass
class Plan:
    """One run: who probes with what, and who floods (no one in a quiet run)."""

    probe_text: str
    probe_expect: str
    probe_provider: str
    flood_provider: str
    flooders: int = 0
    per_flooder: int = 0
    over: float = 0.5
    slow: float = 5.0
    slow_actions: list[str] | None = None


class Bench:
    def __init__(self, redis_url: str, data_dir: Path, args: argparse.Namespace) -> None:
        self.redis_url = redis_url
        self.data_dir = data_dir
        self.args = args

    async def run(self, plan: Plan) -> Run:
        async with Redis.from_url(self.redis_url) as redis:
            await redis.flushdb()
        telegram = WatchedTelegram(TOKEN)
        await telegram.start()
        emulators = {name: Emulator(EmulatorConfig(seed=1)) for name in URLS}
        emulators[plan.flood_provider].faults.configure(
            0.0, [], latency=plan.slow, actions=plan.slow_actions
        )
        settings = Settings(
            _env_file=None,
            BOT_TOKEN=TOKEN,
            TELEGRAM_API_BASE=telegram.base_url,
            REDIS_URL=self.redis_url,
            DATA_DIR=self.data_dir,
            SMS_PROVIDERS=",".join(f"{name}={url}" for name, url in URLS.items()),
            SECRET_KEY="fairness-bench-secret-key",
            PROVIDER_TIMEOUT=plan.slow,
            RUN_WORKER=False,
            HTTP_PORT=0,
            LOG_LEVEL="WARNING",
        )
        http = build_http_client(transport=ByHost(emulators))
        resources = await open_resources(settings, http=http)
        try:
            probers = await self._users(resources, emulators, plan.probe_provider, 0, "probe")
            flooders = await self._users(
                resources, emulators, plan.flood_provider, 1000, "flood", plan.flooders
            )
            bot = build_bot(settings)
            dispatcher = build_dispatcher(resources)
            return await self._measure(telegram, bot, dispatcher, plan, probers, flooders)
        finally:
            await close_resources(resources)
            await telegram.stop()

    async def _users(
        self,
        resources: Resources,
        emulators: dict[str, Emulator],
        provider: str,
        offset: int,
        kind: str,
        count: int | None = None,
    ) -> list[int]:
        users = []
        for n in range(self.args.probers if count is None else count):
            user_id = FIRST_USER + offset + n
            key = f"{kind}-key-{user_id}"
            emulators[provider].add_account(key, balance=Decimal(1_000))
            await resources.users.register(user_id)
            await resources.users.set_credentials(user_id, provider, key)
            users.append(user_id)
        return users

    async def _measure(
        self,
        telegram: WatchedTelegram,
        bot: Bot,
        dispatcher: BotDispatcher,
        plan: Plan,
        probers: list[int],
        flooders: list[int],
    ) -> Run:
        ready = asyncio.Event()

        async def started() -> None:
            ready.set()

        dispatcher.startup.register(started)
        polling = asyncio.create_task(
            dispatcher.start_polling(
                bot, handle_signals=False, tasks_concurrency_limit=UPDATES_IN_FLIGHT
            )
        )
        try:
            await asyncio.wait_for(ready.wait(), 60)
            result = Run()
            deadline = time.perf_counter() + self.args.seconds
            sides = [telegram.user(user_id) for user_id in flooders]
            await asyncio.gather(
                flood(sides, plan.per_flooder, plan.over),
                *(
                    probe(telegram, telegram.user(user_id), plan, deadline, result)
                    for user_id in probers
                ),
            )
            # The flood's last slow calls: their answers count, and Redis must outlive them.
            await asyncio.gather(*dispatcher.updates_in_flight(), return_exceptions=True)
            for side in sides:
                for message in side.bot_messages:
                    label = next(
                        (word for word in (SLOW_DOWN, BUSY, "Balance on") if word in message.text),
                        "other",
                    )
                    result.flood_replies[label] = result.flood_replies.get(label, 0) + 1
            return result
        finally:
            await dispatcher.stop_polling()
            await polling


async def flood(sides: list[UserSide], per_user: int, over: float) -> None:
    total = len(sides) * per_user
    if not total:
        return
    pause = over / total
    for _ in range(per_user):
        for side in sides:
            await side.send("/balance")
            await asyncio.sleep(pause)


async def probe(
    telegram: WatchedTelegram, side: UserSide, plan: Plan, deadline: float, result: Run
) -> None:
    while time.perf_counter() < deadline:
        started = time.perf_counter()
        reply = telegram.expect_message(side.chat_id)
        await side.send(plan.probe_text)
        try:
            message = await asyncio.wait_for(reply, ANSWER_TIMEOUT)
        except TimeoutError:
            result.unanswered += 1
            continue
        took = time.perf_counter() - started
        result.latencies.append(took)
        if plan.probe_expect not in message.text:
            result.unexpected += 1
        await asyncio.sleep(max(0.0, PACE - took))


def scenarios(args: argparse.Namespace) -> dict[str, tuple[Plan, Plan]]:
    """Per scenario, the quiet run and the loaded one (the same but for the flooders)."""
    flood = Plan("/help", "What I can do", "herosms", "herosms", slow_actions=["getBalance"])
    hung = Plan("/balance", "Balance on", "smshub", "herosms")
    loads = {"flood": (flood, 1, args.flood), "hung provider": (hung, args.hung_users, 5)}
    runs = {}
    for name, (plan, users, each) in loads.items():
        quiet = replace(plan, over=args.over, slow=args.slow)
        runs[name] = (quiet, replace(quiet, flooders=users, per_flooder=each))
    return runs


async def run(args: argparse.Namespace) -> dict[str, tuple[Run, Run]]:
    results: dict[str, tuple[Run, Run]] = {}
    with tempfile.TemporaryDirectory(prefix="bench-fairness-") as tmp:
        data_dir = Path(tmp)
        embedded = EmbeddedRedis(data_dir / "redis")
        redis_url = await embedded.start()
        try:
            bench = Bench(redis_url, data_dir, args)
            for name, (quiet, loaded) in scenarios(args).items():
                results[name] = (await bench.run(quiet), await bench.run(loaded))
        finally:
            await embedded.stop()
    return results


def _latency(label: str, run: Run) -> str:
    p50, p99 = percentile(run.latencies, 0.5), percentile(run.latencies, 0.99)
    return (
        f"  {label} p50 {p50 * 1000:.0f} ms, p99 {p99 * 1000:.0f} ms "
        f"({len(run.latencies)} answers)"
    )


def report(results: dict[str, tuple[Run, Run]], args: argparse.Namespace) -> str:
    what = {
        "flood": f"other users' /help while one user sends {args.flood} /balance in "
        f"{args.over} s, getBalance taking {args.slow} s",
        "hung provider": f"provider B's users' /balance while {args.hung_users} users of "
        f"provider A send 5 /balance each in {args.over} s, A taking {args.slow} s per call",
    }
    lines = []
    for name, (quiet, loaded) in results.items():
        ratios = [
            percentile(loaded.latencies, share) / percentile(quiet.latencies, share)
            for share in (0.5, 0.99)
        ]
        replies = ", ".join(f"{label!r} {n}" for label, n in sorted(loaded.flood_replies.items()))
        lines += [
            f"{name}: {what[name]} ({args.probers} probers, {args.seconds:.0f} s)",
            _latency("quiet: ", quiet),
            _latency("loaded:", loaded),
            f"  ratio loaded/quiet: p50 {ratios[0]:.2f}x, p99 {ratios[1]:.2f}x (goal: within 2x)",
            f"  unanswered {quiet.unanswered + loaded.unanswered}, unexpected "
            f"{quiet.unexpected + loaded.unexpected}; the flooders got: {replies or 'nothing'}",
        ]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--flood", type=int, default=120, help="/balance sent by the flooder")
    parser.add_argument("--over", type=float, default=0.5, help="seconds the flood takes")
    parser.add_argument("--slow", type=float, default=5.0, help="seconds per slow call")
    parser.add_argument("--probers", type=int, default=8)
    parser.add_argument("--seconds", type=float, default=15.0, help="probing per run")
    parser.add_argument("--hung-users", type=int, default=30)
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.WARNING, stream=sys.stderr)
    # Every "answering slowly" is a warning there; the report counts them instead.
    logging.getLogger("bot.handlers.errors").setLevel(logging.ERROR)
    results = asyncio.run(run(args))
    print(report(results, args))
    failed = any(run.unanswered or run.unexpected for pair in results.values() for run in pair)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
