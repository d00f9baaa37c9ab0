"""Benchmark of the worker against the naive poller, in real time over loopback HTTP.

    .venv/bin/python -m bench.worker [--sizes 1000:100,10000:1000] [--intervals 5,1]
        [--providers batching,getstatus] [--designs naive,worker] [--window 120]
        [--worker-env TELEGRAM_RATE=1000] [--json results.json]

Each configuration (every size x interval x provider given) runs both designs one after the
other on the same seeded schedule; see bench/realtime.py for what runs and what is measured.
Prints one line per run and then the table of BENCHMARKS.md's Worker section. Exits 1 when
any code was lost or sent twice.

``--simulated`` runs instead the quick check in simulated time (bench/simulated.py, its own
flags); ``scaling`` measures how throughput grows with worker processes (bench/scaling.py).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import sys
import tempfile
from pathlib import Path

from bench import realtime


def _pairs(text: str) -> list[tuple[int, int]]:
    pairs = []
    for item in text.split(","):
        activations, _, users = item.partition(":")
        pairs.append((int(activations), int(users or max(1, int(activations) // 10))))
    return pairs


def _env(items: list[str]) -> dict[str, str]:
    env = {}
    for item in items:
        name, sep, value = item.partition("=")
        if not sep:
            raise argparse.ArgumentTypeError(f"--worker-env wants NAME=VALUE, got {item!r}")
        env[name] = value
    return env


def parse(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m bench.worker", description=__doc__.split("\n\n")[0]
    )
    parser.add_argument(
        "--sizes", default="1000:100,10000:1000", help="ACTIVATIONS:USERS pairs, comma-separated"
    )
    parser.add_argument("--intervals", default="5,1", help="poll intervals in seconds")
    parser.add_argument("--providers", default="batching,getstatus")
    parser.add_argument("--designs", default="naive,worker")
    parser.add_argument("--window", type=float, default=120.0, help="codes arrive within it")
    parser.add_argument(
        "--grace", type=float, help="seconds after the window (default 3 intervals + 10)"
    )
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument(
        "--worker-env", action="append", default=[], help="NAME=VALUE for the worker process"
    )
    parser.add_argument("--json", type=Path, help="also write the results there")
    parser.add_argument("--logs", type=Path, help="keep the processes' logs there")
    args = parser.parse_args(argv)
    args.size_pairs = _pairs(args.sizes)
    args.interval_list = [float(value) for value in args.intervals.split(",")]
    args.provider_list = args.providers.split(",")
    args.design_list = args.designs.split(",")
    unknown = set(args.provider_list) - set(realtime.PROVIDERS)
    unknown |= set(args.design_list) - set(realtime.DESIGNS)
    if unknown:
        parser.error(f"unknown providers or designs: {sorted(unknown)}")
    args.options = realtime.Options(args.window, args.grace, args.seed, _env(args.worker_env))
    return args


async def run(args: argparse.Namespace, logs: Path) -> list[realtime.Result]:
    print(f"machine: {os.cpu_count()} cores, load {os.getloadavg()[0]:.1f}", flush=True)
    results: list[realtime.Result] = []
    for activations, users in args.size_pairs:
        for interval in args.interval_list:
            for provider in args.provider_list:
                config = realtime.RunConfig(activations, users, interval, provider)
                print(config.label, flush=True)
                results += await realtime.run_config(config, args.design_list, args.options, logs)
    return results


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if argv[:1] == ["scaling"]:
        from bench import scaling

        return scaling.main(argv[1:])
    if "--simulated" in argv:
        from bench import simulated

        return simulated.main([arg for arg in argv if arg != "--simulated"])
    args = parse(argv)
    if args.logs is not None:
        results = asyncio.run(run(args, args.logs))
    else:
        with tempfile.TemporaryDirectory(prefix="bench-worker-") as tmp:
            results = asyncio.run(run(args, Path(tmp)))
    print(realtime.table(results))
    if args.json is not None:
        args.json.write_text(json.dumps([r.summary() for r in results], indent=2))
    return 1 if any(r.lost or r.duplicated for r in results) else 0


if __name__ == "__main__":
    sys.exit(main())
