"""Benchmark of update handling: the bot's real dispatcher beside a bare aiogram echo bot.

    .venv/bin/python -m bench.updates [--users 50] [--updates 6000] [--rounds 4] [--seed 1]

Both bots long-poll the fake Telegram server (``tests/faketg``, started on loopback) over real
HTTP in the same run; each has an instance of its own (one serves one token), so both stay up
while the measured rounds alternate between them and drift on a shared machine hits both alike.
Each bot runs in a child process, so its CPU time is its own: the fake servers and the simulated
users live in this process and would otherwise cost more than the echo bot itself. The real bot
is what ``python -m bot`` builds (``build_bot``, ``open_resources``, ``build_dispatcher``) on a
real Redis (the embedded redis-server, which also holds the FSM) with the provider emulator
in-process behind ``EmulatorTransport``. The echo bot is aiogram with nothing added: it answers
each message with sendMessage and each button press with answerCallbackQuery.

Many users act at once, and each waits for the bot's answer before the next step, as people do.
A session is one of: /start, /help, /balance (a provider call), unknown text, or /buy -> press a
service -> sometimes press a sort button -> press a country (menus built from the cached
catalogue; the country step also asks the provider for the balance) -> /cancel, the Cancel
button, or nothing. The echo bot gets the very same steps; its presses carry the same kind of
callback data, on its last message. Each bot first handles a warm-up of a fifth as many updates.

Prints, for each bot: updates per second (updates / time from the first update queued to the
last answer observed, summed over the rounds), answer latency p50/p99, CPU seconds per 1,000
updates of the bot process; for the real bot also redis-server's CPU and Redis commands per
update; then the ratios. Linux only: the CPU time of the child processes is read from /proc.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import os
import random
import signal
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from decimal import Decimal
from enum import StrEnum
from pathlib import Path
from typing import Any

from aiogram import Bot, Dispatcher, Router
from aiogram.client.session.aiohttp import AiohttpSession
from aiogram.client.telegram import TelegramAPIServer
from aiogram.types import CallbackQuery, Message
from redis.asyncio import Redis

from bench.scaling import redis_commands
from bot.config import Settings
from bot.factory import build_bot, build_dispatcher
from bot.keyboards.callback_data import CallbackData
from bot.keyboards.callbacks import (
    BuyAction,
    BuyCallback,
    BuyCountryCallback,
    BuyServiceCallback,
    BuySort,
    BuySortCallback,
)
from bot.provider.client import build_http_client
from bot.resources import close_resources, open_resources
from bot.sandbox import Emulator, EmulatorConfig, EmulatorTransport
from bot.storage.embedded import EmbeddedRedis, wait_or_kill
from tests.faketg import ChatMessage, FakeTelegram, UserSide
from tests.faketg.params import Query

TOKEN = "123456:BENCH-TOKEN"
PROVIDER = "herosms"
PROVIDER_URL = "https://provider.bench/stubs/handler_api.php"
# Separate users per bot, so each bot's presses land on that bot's own keyboards.
FIRST_USER = {"echo": 20_000_001, "bot": 10_000_001}
ANSWER_TIMEOUT = 20.0
START_TIMEOUT = 120.0
CHATTER = ("hello", "how does this work?", "thanks!", "ok", "where is my code")


# The echo bot shows no keyboards: its users press buttons carrying the callback data the real
# bot's menus would, on the echo bot's last message.
class Press(StrEnum):
    """The kinds of /buy button a user presses."""

    SERVICE = "service"
    SORT = "sort"
    COUNTRY = "country"
    CANCEL = "cancel"


ECHO_DATA: dict[Press, CallbackData] = {
    Press.SERVICE: BuyServiceCallback(code="tg"),
    Press.SORT: BuySortCallback(sort=BuySort.COUNT),
    Press.COUNTRY: BuyCountryCallback(country=6),
    Press.CANCEL: BuyCallback(action=BuyAction.CANCEL),
}
REPO = Path(__file__).resolve().parents[1]


# --- what users do ---


@dataclass(frozen=True, slots=True)
class Step:
    """One update a user sends: a text, or a press of a button of the kind ``action``."""

    text: str = ""
    action: Press | None = None
    # What the real bot's answer must contain, so a broken flow cannot pass for a fast one.
    expect: str = ""

    @property
    def label(self) -> str:
        if self.action is not None:
            return f"press {self.action.name.lower()}"
        return self.text if self.text.startswith("/") else "unknown text"


def session(rng: random.Random) -> list[Step]:
    roll = rng.random()
    if roll < 0.10:
        return [Step("/start", expect="account is connected")]
    if roll < 0.20:
        return [Step("/help", expect="What I can do")]
    if roll < 0.35:
        return [Step("/balance", expect="Balance on HeroSMS")]
    if roll < 0.45:
        return [Step(rng.choice(CHATTER))]  # the answer depends on the dialog left open
    steps = [
        Step("/buy", expect="Choose a service"),
        Step(action=Press.SERVICE, expect="choose a country"),
    ]
    if rng.random() < 0.3:
        steps.append(Step(action=Press.SORT, expect="choose a country"))
    steps.append(Step(action=Press.COUNTRY, expect="Balance:"))
    end = rng.random()
    if end < 0.4:
        steps.append(Step("/cancel", expect="Cancelled."))
    elif end < 0.8:
        steps.append(Step(action=Press.CANCEL, expect="Cancelled."))
    return steps


def script(rng: random.Random, updates: int) -> list[list[Step]]:
    """Whole sessions, about ``updates`` steps in all."""
    sessions: list[list[Step]] = []
    count = 0
    while count < updates:
        sessions.append(session(rng))
        count += len(sessions[-1])
    return sessions


# --- the fake Telegram side ---


class WatchedTelegram(FakeTelegram):
    """The fake Telegram server, waking only the user an answer is for.

    ``UserSide.wait_for`` wakes every waiting user on every change and rescans their chats:
    with hundreds of users that would cost more than the bots under test.
    """

    def __init__(self, token: str) -> None:
        super().__init__(token)
        self._replies: dict[int, asyncio.Future[ChatMessage]] = {}
        self._answers: dict[str, asyncio.Future[str]] = {}

    def expect_message(self, chat_id: int) -> asyncio.Future[ChatMessage]:
        """The next new message the bot sends to the chat."""
        waiter = asyncio.get_running_loop().create_future()
        self._replies[chat_id] = waiter
        return waiter

    def expect_answer(self, query_id: str) -> asyncio.Future[str]:
        """The text of the bot's answer to the callback query."""
        waiter = asyncio.get_running_loop().create_future()
        self._answers[query_id] = waiter
        return waiter

    def _bump(self, message: ChatMessage) -> None:
        super()._bump(message)
        # Edits and deletions of older messages are not the answer to a new message.
        if message.from_bot and message.edits == 0 and not message.deleted:
            waiter = self._replies.pop(message.chat_id, None)
            if waiter is not None and not waiter.done():
                waiter.set_result(message)

    async def _answer_callback_query(self, query: Query) -> bool:
        answered = await super()._answer_callback_query(query)
        waiter = self._answers.pop(query.arg("callback_query_id"), None)
        if waiter is not None and not waiter.done():
            waiter.set_result(query.arg("text"))
        return answered


@dataclass
class Record:
    latencies: list[float] = field(default_factory=list)
    unexpected: list[str] = field(default_factory=list)
    unanswered: int = 0


class Player:
    """One user: plays sessions step by step, waiting for each answer."""

    def __init__(
        self, telegram: WatchedTelegram, side: UserSide, rng: random.Random, echo: bool
    ) -> None:
        self.telegram = telegram
        self.side = side
        self.rng = rng
        self.echo = echo
        self.menu = 0  # the message whose buttons the user presses next

    async def play(self, sessions: list[list[Step]], record: Record) -> None:
        for steps in sessions:
            for step in steps:
                started = time.perf_counter()
                try:
                    seen = await asyncio.wait_for(
                        self._send(step) if step.action is None else self._press(step),
                        ANSWER_TIMEOUT,
                    )
                except TimeoutError:
                    record.unanswered += 1
                    break  # the rest of the session would not make sense
                record.latencies.append(time.perf_counter() - started)
                if not self.echo and (seen is None or step.expect not in seen):
                    record.unexpected.append(f"{step.label}: {seen!r}")
                if seen is None:
                    break  # the menu did not show the button: the rest of the session is moot

    async def _send(self, step: Step) -> str:
        reply = self.telegram.expect_message(self.side.chat_id)
        await self.side.send(step.text)
        message = await reply
        if step.text == "/buy" or self.echo:
            self.menu = message.message_id
        return message.text

    async def _press(self, step: Step) -> str | None:
        assert step.action is not None
        if self.echo:
            data = ECHO_DATA[step.action].pack()
            query_id = await self.side.press_data(self.menu, data)
        else:
            picked = self._pick(step.action)
            if picked is None:
                return None
            query_id = await self.side.press(picked, self.menu)
        # press() queues the update without yielding, so the bot cannot have answered yet.
        answer = await self.telegram.expect_answer(query_id)
        menu = self.side.chat_state.messages[self.menu]
        return f"{answer}\n{menu.text}"

    def _pick(self, action: Press) -> str | None:
        """The callback data of a random button of this kind on the menu, as a user picks."""
        menu = self.side.chat_state.messages.get(self.menu)
        if menu is None:
            return None
        found = []
        for row in menu.buttons:
            for text, data in row:
                # A sort button already ticked would change nothing.
                if _is_kind(data, action) and not text.startswith("✓"):
                    found.append(data)
        return self.rng.choice(found) if found else None


def _is_kind(data: str, action: Press) -> bool:
    echo = ECHO_DATA[action]
    try:
        button = type(echo).unpack(data)
    except (TypeError, ValueError):
        return False
    # Plain steps share one class: the step itself tells them apart.
    return not isinstance(button, BuyCallback) or button == echo


async def play_all(players: list[Player], scripts: list[list[list[Step]]], record: Record) -> None:
    await asyncio.gather(*(p.play(s, record) for p, s in zip(players, scripts, strict=True)))


def plan(seed: int, users: int, per_user: int, rounds: int) -> list[list[list[list[Step]]]]:
    """Scripts for the warm-up, then for each round: per user, a list of sessions."""
    # The same seed for both bots: they get exactly the same steps.
    rng = random.Random(seed)
    warmup = [script(rng, max(4, per_user // 5)) for _ in range(users)]
    measured = [
        [script(rng, max(1, per_user // rounds)) for _ in range(users)] for _ in range(rounds)
    ]
    return [warmup, *measured]


# --- the bot under test, in a child process ---


class BotProcess:
    """``python -m bench.updates --child``: a bot that polls until its stdin closes."""

    def __init__(self, process: asyncio.subprocess.Process) -> None:
        self.process = process

    @property
    def pid(self) -> int:
        return self.process.pid

    @classmethod
    async def start(cls, config: dict[str, Any]) -> BotProcess:
        process = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "bench.updates",
            "--child",
            cwd=REPO,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
        )
        assert process.stdin is not None
        assert process.stdout is not None
        # The configuration goes through stdin: the Redis URL carries a password.
        process.stdin.write(json.dumps(config).encode() + b"\n")
        await process.stdin.drain()
        line = await asyncio.wait_for(process.stdout.readline(), START_TIMEOUT)
        if line.strip() != b"ready":
            process.stdin.close()  # lets a child that failed to start exit
            await process.wait()
            raise RuntimeError(f"the {config['kind']} bot did not start ({line!r})")
        return cls(process)

    async def sent(self) -> Sent:
        """What the bot's Redis client has sent so far (see ``count_sent``)."""
        assert self.process.stdout is not None
        self.process.send_signal(signal.SIGUSR1)
        line = await asyncio.wait_for(self.process.stdout.readline(), START_TIMEOUT)
        commands, round_trips = json.loads(line)["sent"]
        return Sent(commands, round_trips)

    async def stop(self) -> None:
        assert self.process.stdin is not None
        self.process.stdin.close()
        await wait_or_kill(self.process, 30)


def echo_bot(config: dict[str, Any]) -> tuple[Bot, Dispatcher]:
    session = AiohttpSession(api=TelegramAPIServer.from_base(config["telegram"]))
    bot = Bot(config["token"], session=session)
    router = Router(name="echo")

    @router.message()
    async def echo(message: Message) -> None:
        await message.answer(message.text or "?")

    @router.callback_query()
    async def pressed(query: CallbackQuery) -> None:
        await query.answer()

    dispatcher = Dispatcher()
    dispatcher.include_router(router)
    return bot, dispatcher


@dataclass
class Sent:
    """What the bot's Redis client sent: commands (a script call is one), in round trips."""

    commands: int = 0
    round_trips: int = 0


def count_sent(redis: Redis) -> Sent:
    """Count every command ``redis`` sends, alone or in a pipeline (commandstats cannot tell
    them apart: it also counts what each script runs inside Redis)."""
    sent = Sent()
    execute = redis.execute_command
    pipeline = redis.pipeline

    async def one(*args: Any, **options: Any) -> Any:
        sent.commands += 1
        sent.round_trips += 1
        return await execute(*args, **options)  # type: ignore[no-untyped-call]

    def counted_pipeline(transaction: bool = True, shard_hint: Any = None) -> Any:
        pipe = pipeline(transaction, shard_hint)
        run, immediate = pipe.execute, pipe.immediate_execute_command

        async def batch(raise_on_error: bool = True) -> Any:
            if pipe.command_stack:
                sent.commands += len(pipe.command_stack) + (2 if pipe.is_transaction else 0)
                sent.round_trips += 1
            return await run(raise_on_error)

        async def watched(*args: Any, **options: Any) -> Any:  # WATCH and the reads after it
            sent.commands += 1
            sent.round_trips += 1
            return await immediate(*args, **options)  # type: ignore[no-untyped-call]

        pipe.execute = batch  # type: ignore[method-assign]
        pipe.immediate_execute_command = watched  # type: ignore[method-assign]
        return pipe

    redis.execute_command = one  # type: ignore[method-assign]
    redis.pipeline = counted_pipeline  # type: ignore[method-assign]
    return sent


async def real_bot(
    config: dict[str, Any],
) -> tuple[Bot, Dispatcher, Callable[[], Awaitable[None]]]:
    emulator = Emulator(EmulatorConfig(seed=config["seed"], max_recorded_calls=0))
    settings = Settings(
        _env_file=None,
        BOT_TOKEN=config["token"],
        TELEGRAM_API_BASE=config["telegram"],
        REDIS_URL=config["redis"],
        DATA_DIR=Path(config["data_dir"]),
        SMS_PROVIDERS=f"{PROVIDER}={PROVIDER_URL}",
        SECRET_KEY="benchmark-secret-key-value",
        RUN_WORKER=False,
        HTTP_PORT=0,
        # Users here act as fast as the bot answers; the default limit would drop their
        # updates. The door (bot/door.py) still counts every update on arrival.
        THROTTLE_RATE=1_000_000,
        LOG_LEVEL="WARNING",
    )
    resources = await open_resources(
        settings, http=build_http_client(transport=EmulatorTransport(emulator))
    )
    first = config["first_user"]
    for user_id in range(first, first + config["users"]):
        key = f"bench-key-{user_id}"
        emulator.add_account(key, balance=Decimal(1_000))
        await resources.users.register(user_id)
        await resources.users.set_credentials(user_id, PROVIDER, key)
    dispatcher = build_dispatcher(resources)
    sent = count_sent(resources.redis)
    # SIGUSR1: print what was sent so far, for the measuring process to read between rounds.
    asyncio.get_running_loop().add_signal_handler(
        signal.SIGUSR1,
        lambda: print(json.dumps({"sent": [sent.commands, sent.round_trips]}), flush=True),
    )

    async def cleanup() -> None:
        await close_resources(resources)

    return build_bot(settings), dispatcher, cleanup


async def serve(config: dict[str, Any]) -> None:
    cleanup: Callable[[], Awaitable[None]] | None = None
    if config["kind"] == "echo":
        bot, dispatcher = echo_bot(config)
    else:
        bot, dispatcher, cleanup = await real_bot(config)

    async def ready() -> None:
        print("ready", flush=True)

    async def stop_at_eof() -> None:
        await asyncio.to_thread(sys.stdin.read)
        await dispatcher.stop_polling()

    # Registered last, so it runs after the bot's own startup (commands menu, getMe).
    dispatcher.startup.register(ready)
    stopper = asyncio.create_task(stop_at_eof())
    try:
        await dispatcher.start_polling(bot, handle_signals=False)
    finally:
        # Done already after a normal stop; after a failed start it would wait for ever.
        stopper.cancel()
        await asyncio.gather(stopper, return_exceptions=True)
        if cleanup is not None:
            await cleanup()


def child_main() -> int:
    logging.basicConfig(level=logging.WARNING, stream=sys.stderr)
    config = json.loads(sys.stdin.readline())
    # BENCH_PROFILE=<dir>: a cProfile of each child, to see where its CPU goes.
    profile_dir = os.environ.get("BENCH_PROFILE")
    if not profile_dir:
        asyncio.run(serve(config))
        return 0
    import cProfile

    profiler = cProfile.Profile()
    profiler.runcall(asyncio.run, serve(config))
    profiler.dump_stats(Path(profile_dir) / f"{config['kind']}-{os.getpid()}.prof")
    return 0


# --- measuring ---

_TICKS = os.sysconf("SC_CLK_TCK")


def cpu_seconds(pid: int) -> float:
    """User + system CPU of a process (all its threads), from /proc/<pid>/stat."""
    with open(f"/proc/{pid}/stat") as stat:
        # The command name may contain spaces; the fields after it are fixed.
        fields = stat.read().rpartition(")")[2].split()
    return (int(fields[11]) + int(fields[12])) / _TICKS


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))] if ordered else float("nan")


@dataclass
class Totals:
    """One bot's figures, added up over the measured rounds."""

    updates: int = 0
    wall: float = 0.0
    cpu: float = 0.0
    redis_cpu: float = 0.0
    here_cpu: float = 0.0
    commands: Counter[str] = field(default_factory=Counter)
    sent: Sent = field(default_factory=Sent)
    mix: Counter[str] = field(default_factory=Counter)
    record: Record = field(default_factory=Record)

    @property
    def rate(self) -> float:
        return self.updates / self.wall

    def per_1000(self, seconds: float) -> float:
        return seconds / self.updates * 1000


@dataclass
class Contender:
    """A bot under test: its process, its own fake Telegram server, its users."""

    kind: str
    telegram: WatchedTelegram
    child: BotProcess
    players: list[Player]
    totals: Totals = field(default_factory=Totals)


async def enter(kind: str, redis_url: str, data_dir: Path, args: argparse.Namespace) -> Contender:
    # One fake server per bot (a server serves one token), so both bots stay up and polling
    # while the rounds alternate; the idle one just waits in its long poll.
    telegram = WatchedTelegram(TOKEN)
    await telegram.start()
    first = FIRST_USER[kind]
    config = {
        "kind": kind,
        "token": telegram.token,
        "telegram": telegram.base_url,
        "redis": redis_url,
        "data_dir": str(data_dir / kind),
        "first_user": first,
        "users": args.users,
        "seed": args.seed,
    }
    try:
        child = await BotProcess.start(config)
    except BaseException:
        await telegram.stop()
        raise
    players = [
        Player(
            telegram, telegram.user(first + n), random.Random(f"{args.seed}:{n}"), kind == "echo"
        )
        for n in range(args.users)
    ]
    return Contender(kind, telegram, child, players)


async def measure_round(
    contender: Contender, scripts: list[list[list[Step]]], redis: Redis, redis_pid: int
) -> None:
    totals = contender.totals
    cpu_bot, cpu_redis = cpu_seconds(contender.child.pid), cpu_seconds(redis_pid)
    cpu_here = time.process_time()
    commands = await redis_commands(redis)
    real = contender.kind == "bot"
    sent = await contender.child.sent() if real else Sent()
    started = time.perf_counter()
    await play_all(contender.players, scripts, totals.record)
    totals.wall += time.perf_counter() - started
    totals.cpu += cpu_seconds(contender.child.pid) - cpu_bot
    totals.redis_cpu += cpu_seconds(redis_pid) - cpu_redis
    totals.here_cpu += time.process_time() - cpu_here
    totals.commands += await redis_commands(redis) - commands
    totals.commands["info"] -= 1  # our own reading
    if real:
        after = await contender.child.sent()
        totals.sent.commands += after.commands - sent.commands
        totals.sent.round_trips += after.round_trips - sent.round_trips
    steps = [step for sessions in scripts for steps in sessions for step in steps]
    totals.updates += len(steps)
    totals.mix.update(step.label for step in steps)


async def run(args: argparse.Namespace) -> list[Totals]:
    with tempfile.TemporaryDirectory(prefix="bench-updates-") as tmp:
        data_dir = Path(tmp)
        embedded = EmbeddedRedis(data_dir / "redis")
        redis_url = await embedded.start()
        assert embedded.info is not None
        redis = Redis.from_url(redis_url)
        contenders: list[Contender] = []
        try:
            for kind in ("echo", "bot"):
                contenders.append(await enter(kind, redis_url, data_dir, args))
            per_user = max(1, args.updates // args.users)
            plans = [plan(args.seed, args.users, per_user, args.rounds) for _ in contenders]
            for contender, scripts in zip(contenders, plans, strict=True):
                await play_all(contender.players, scripts[0], Record())
            # Rounds alternate between the bots, so drift on a shared machine hits both alike.
            for round_ in range(1, args.rounds + 1):
                for contender, scripts in zip(contenders, plans, strict=True):
                    await measure_round(contender, scripts[round_], redis, embedded.info.pid)
            return [contender.totals for contender in contenders]
        finally:
            for contender in contenders:
                await contender.child.stop()
                await contender.telegram.stop()
            await redis.aclose()
            await embedded.stop()


def report(results: list[Totals], args: argparse.Namespace) -> str:
    echo, real = results
    mix = ", ".join(f"{label} {count}" for label, count in sorted(real.mix.items()))
    lines = [
        f"{real.updates} updates per bot from {args.users} users at once, in {args.rounds} "
        f"alternating rounds; mix: {mix}"
    ]
    for totals, title in ((echo, "echo bot (bare aiogram)"), (real, "the bot")):
        latencies = totals.record.latencies
        lines.append(
            f"{title}: {totals.rate:.0f} updates/s ({totals.updates} in {totals.wall:.1f} s); "
            f"answer p50 {percentile(latencies, 0.5) * 1000:.0f} ms, "
            f"p99 {percentile(latencies, 0.99) * 1000:.0f} ms; "
            f"CPU {totals.per_1000(totals.cpu):.2f} s per 1,000 updates "
            f"(busy {totals.cpu / totals.wall:.0%} of the time); "
            f"fake Telegram + users {totals.here_cpu / totals.wall:.0%} busy"
        )
    commands = sum(real.commands.values())
    top = ", ".join(
        f"{name} {calls / real.updates:.2f}" for name, calls in real.commands.most_common(8)
    )
    lines.append(
        f"the bot's Redis: the bot sent {real.sent.commands / real.updates:.1f} commands per "
        f"update in {real.sent.round_trips / real.updates:.1f} round trips; Redis ran "
        f"{commands / real.updates:.1f} commands per update, counting those inside scripts "
        f"({top}); redis-server CPU {real.per_1000(real.redis_cpu):.2f} s per 1,000 updates"
    )
    cpu_ratio = real.cpu / real.updates / (echo.cpu / echo.updates)
    with_redis = (real.cpu + real.redis_cpu) / real.updates / (echo.cpu / echo.updates)
    lines.append(
        f"ratio echo/bot: {echo.rate / real.rate:.1f}x the updates per second; the bot spends "
        f"{cpu_ratio:.1f}x the CPU per update ({with_redis:.1f}x with redis-server's)"
    )
    unexpected = real.record.unexpected
    lines.append(
        f"updates left without an answer: echo {echo.record.unanswered}, the bot "
        f"{real.record.unanswered}; unexpected answers from the bot: {len(unexpected)}"
    )
    lines.extend(f"  {line}" for line in unexpected[:5])
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--users", type=int, default=50)
    parser.add_argument("--updates", type=int, default=6_000, help="measured, per bot")
    parser.add_argument("--rounds", type=int, default=4)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        return child_main()
    results = asyncio.run(run(args))
    print(report(results, args))
    failed = any(totals.record.unexpected or totals.record.unanswered for totals in results)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
