"""Benchmark of the provider client: ProviderClient against a bare httpx GET, same requests.

    .venv/bin/python -m bench.client [--requests 6000] [--concurrency 32] [--rounds 6]

The emulator (``bot.sandbox.create_app``) is served over loopback HTTP by an aiohttp runner in
this process. ``concurrency`` tasks share the work and cycle through three actions: getBalance,
getStatus of an existing activation and getPrices of one service (what the bot's catalogue
asks for). Two callers make the same requests through the same ``httpx.AsyncClient`` (the one
``build_http_client`` builds for the bot): ``ProviderClient`` (query building, retry loop,
parsing into typed answers) and a bare ``http.get`` that only reads the body. The same pair
runs again in-process, through ``EmulatorTransport`` instead of the network.

Everything shares one event loop, so each figure includes the emulator's own time (and, over
loopback, the aiohttp server's), equally for both callers: the difference between them is what
the ProviderClient layer costs. Variants alternate over several rounds, after a warm-up, so
drift on a noisy machine hits them alike.

Prints requests/s, µs of wall time per call (1 / throughput) and µs of CPU per call for each
variant, the emulator's share, and the ProviderClient's overhead per call (difference, ratio).
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import sys
import time
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from decimal import Decimal

import httpx
from aiohttp import web

from bot.provider.client import ProviderClient, build_http_client
from bot.sandbox import Emulator, EmulatorConfig, EmulatorTransport, Outcome, create_app

KEY = "bench-client-key"
SERVICE = "tg"
COUNTRY = 6
IN_PROCESS_URL = "https://provider.bench/stubs/handler_api.php"
ACTIONS = ("getBalance", "getStatus", "getPrices")

Call = Callable[[int], Awaitable[object]]


class TimedEmulator(Emulator):
    """The emulator, adding up the CPU it spends serving requests (the same in all variants)."""

    cpu = 0.0

    def serve(self, params: Mapping[str, str]) -> Outcome:
        started = time.process_time()
        try:
            return super().serve(params)
        finally:
            self.cpu += time.process_time() - started


@dataclass
class Totals:
    requests: int = 0
    wall: float = 0.0
    cpu: float = 0.0
    emulator_cpu: float = 0.0

    @property
    def rate(self) -> float:
        return self.requests / self.wall

    @property
    def wall_us(self) -> float:
        return self.wall / self.requests * 1e6

    @property
    def cpu_us(self) -> float:
        return self.cpu / self.requests * 1e6

    @property
    def emulator_us(self) -> float:
        return self.emulator_cpu / self.requests * 1e6


def provider_calls(
    client: ProviderClient, activation_id: int, actions: tuple[str, ...] = ACTIONS
) -> Call:
    async def call(n: int) -> object:
        action = actions[n % len(actions)]
        if action == "getBalance":
            return await client.get_balance()
        if action == "getStatus":
            return await client.get_status(activation_id)
        return await client.get_prices(SERVICE)

    return call


def bare_calls(
    http: httpx.AsyncClient, url: str, activation_id: int, actions: tuple[str, ...] = ACTIONS
) -> Call:
    # The very queries ProviderClient sends, built once: only the HTTP round trip is left.
    every = {
        "getBalance": {"api_key": KEY, "action": "getBalance"},
        "getStatus": {"api_key": KEY, "action": "getStatus", "id": str(activation_id)},
        "getPrices": {"api_key": KEY, "action": "getPrices", "service": SERVICE},
    }
    queries = [every[action] for action in actions]

    async def call(n: int) -> object:
        response = await http.get(url, params=queries[n % len(queries)])
        return response.text

    return call


async def drive(call: Call, requests: int, concurrency: int) -> None:
    """``concurrency`` tasks make ``requests`` calls in all, in the order of a shared counter."""
    counter = itertools.count()

    async def worker() -> None:
        while (n := next(counter)) < requests:
            await call(n)

    await asyncio.gather(*(worker() for _ in range(concurrency)))


async def measure(
    call: Call, requests: int, concurrency: int, emulator: TimedEmulator, totals: Totals
) -> None:
    emulator_started = emulator.cpu
    cpu_started = time.process_time()
    wall_started = time.perf_counter()
    await drive(call, requests, concurrency)
    totals.wall += time.perf_counter() - wall_started
    totals.cpu += time.process_time() - cpu_started
    totals.emulator_cpu += emulator.cpu - emulator_started
    totals.requests += requests


async def run(args: argparse.Namespace) -> dict[str, Totals]:
    emulator = TimedEmulator(EmulatorConfig(seed=1, max_recorded_calls=0))
    emulator.add_account(KEY, balance=Decimal(1_000_000))
    runner = web.AppRunner(create_app(emulator), access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    host, port = runner.addresses[0][:2]
    url = f"http://{host}:{port}/stubs/handler_api.php"
    loopback = build_http_client()
    in_process = build_http_client(transport=EmulatorTransport(emulator))
    try:
        setup = ProviderClient(loopback, url, KEY)
        activation_id = (await setup.get_number(SERVICE, COUNTRY)).activation_id
        local = ProviderClient(in_process, IN_PROCESS_URL, KEY)
        variants: dict[str, Call] = {
            "ProviderClient, loopback HTTP": provider_calls(setup, activation_id),
            "bare httpx GET, loopback HTTP": bare_calls(loopback, url, activation_id),
            "ProviderClient, in-process": provider_calls(local, activation_id),
            "bare httpx GET, in-process": bare_calls(in_process, IN_PROCESS_URL, activation_id),
        }
        # One action at a time, in-process (steady enough to tell them apart), to show where
        # the ProviderClient's time goes; a third of the requests each.
        for action in ACTIONS:
            variants[f"ProviderClient, in-process, {action}"] = provider_calls(
                local, activation_id, (action,)
            )
            variants[f"bare httpx GET, in-process, {action}"] = bare_calls(
                in_process, IN_PROCESS_URL, activation_id, (action,)
            )
        warmup = max(args.concurrency * 3, args.requests // 10)
        for call in variants.values():
            await drive(call, warmup, args.concurrency)
        totals = {name: Totals() for name in variants}
        per_round = max(1, args.requests // args.rounds)
        for _ in range(args.rounds):
            for name, call in variants.items():
                count = per_round if name.count(",") == 1 else max(1, per_round // len(ACTIONS))
                await measure(call, count, args.concurrency, emulator, totals[name])
        return totals
    finally:
        await loopback.aclose()
        await in_process.aclose()
        await runner.cleanup()


def report(totals: dict[str, Totals], args: argparse.Namespace) -> str:
    lines = [
        f"{next(iter(totals.values())).requests} requests per variant, concurrency "
        f"{args.concurrency}, {args.rounds} alternating rounds; actions: "
        f"{', '.join(ACTIONS)} (getPrices of {SERVICE!r})"
    ]
    for name, result in totals.items():
        lines.append(
            f"{name:42} {result.rate:6.0f} requests/s {result.wall_us:6.0f} µs per call, "
            f"CPU {result.cpu_us:6.0f} µs (emulator {result.emulator_us:3.0f} µs)"
        )
    pairs = ["loopback HTTP", "in-process", *(f"in-process, {action}" for action in ACTIONS)]
    for where in pairs:
        client, bare = totals[f"ProviderClient, {where}"], totals[f"bare httpx GET, {where}"]
        lines.append(
            f"ProviderClient overhead, {where + ':':23} {client.wall_us - bare.wall_us:+5.0f} µs "
            f"per call (x{client.wall_us / bare.wall_us:.2f}); CPU "
            f"{client.cpu_us - bare.cpu_us:+5.0f} µs (x{client.cpu_us / bare.cpu_us:.2f})"
        )
    lines.append(
        "The emulator's own time (and, over loopback, the aiohttp server's) is inside every "
        "figure, equally for both callers."
    )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--requests", type=int, default=6_000, help="measured, per variant")
    parser.add_argument("--concurrency", type=int, default=32)
    parser.add_argument("--rounds", type=int, default=6)
    args = parser.parse_args(argv)
    totals = asyncio.run(run(args))
    print(report(totals, args))
    return 0


if __name__ == "__main__":
    sys.exit(main())
