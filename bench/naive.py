"""The naive poller: the design almost every public SMS bot uses, as the worker's yardstick.

    python -m bench.naive --provider URL --telegram URL --interval 5 --activations FILE

One asyncio task per activation asks getStatus every ``interval`` seconds over one shared
``httpx.AsyncClient``, and when the code is there sends it to the chat with one sendMessage and
stops. Nothing is stored anywhere: a restart forgets every activation. Each task starts at a
random phase of the interval, as purchases made at random moments would.

``FILE`` is JSON: a list of ``{"id": activation id, "key": API key, "chat": chat id}``. The
file named by ``--ready`` is created once every task runs; SIGTERM ends the process
at once.
It imports nothing from the bot, so its memory and CPU are the design's own.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import signal
from pathlib import Path

import httpx

#: httpx's default pool size. Requests beyond it wait here, not in httpcore's pool, whose
#: queue costs time quadratic in its length: 400 requests at once took 40 s on this machine.
CONCURRENCY = 100


async def follow(
    client: httpx.AsyncClient,
    gate: asyncio.Semaphore,
    provider: str,
    send_url: str,
    item: dict[str, int | str],
    interval: float,
    phase: float,
) -> None:
    """Poll one activation until its code came (and is sent) or it ended."""
    params = {"api_key": str(item["key"]), "action": "getStatus", "id": str(item["id"])}
    await asyncio.sleep(phase)
    while True:
        try:
            async with gate:
                text = (await client.get(provider, params=params)).text
        except httpx.HTTPError:
            text = ""  # a lost answer: ask again next time
        if text.startswith("STATUS_OK:"):
            code = text.partition(":")[2]
            message = {"chat_id": str(item["chat"]), "text": f"Your code: {code}"}
            for _attempt in range(3):
                try:
                    async with gate:
                        (await client.post(send_url, data=message)).raise_for_status()
                    return
                except httpx.HTTPError:
                    await asyncio.sleep(1)
            return
        if text.startswith("STATUS_CANCEL"):
            return
        await asyncio.sleep(interval)


async def run(args: argparse.Namespace, items: list[dict[str, int | str]]) -> None:
    rng = random.Random(args.seed)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    send_url = f"{args.telegram}/bot{args.token}/sendMessage"
    gate = asyncio.Semaphore(args.concurrency)
    async with httpx.AsyncClient(timeout=httpx.Timeout(30.0)) as client:
        tasks = [  # kept: the loop holds tasks only weakly
            asyncio.create_task(
                follow(
                    client,
                    gate,
                    args.provider,
                    send_url,
                    item,
                    args.interval,
                    rng.uniform(0, args.interval),
                )
            )
            for item in items
        ]
        if args.ready:
            await asyncio.to_thread(Path(args.ready).touch)
        await stop.wait()
        # Nothing to save, so leave at once: cancelling thousands of requests queued in the
        # connection pool one by one takes minutes.
        del tasks
        os._exit(0)


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.naive", description=__doc__)
    parser.add_argument("--provider", required=True, help="the handler_api.php URL")
    parser.add_argument("--telegram", required=True, help="the Bot API base URL")
    parser.add_argument("--token", required=True)
    parser.add_argument("--interval", type=float, default=5.0)
    parser.add_argument("--activations", required=True, help="JSON file of activations")
    parser.add_argument("--ready", help="a file to create once every task runs")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--concurrency", type=int, default=CONCURRENCY, help="requests at once")
    args = parser.parse_args()
    asyncio.run(run(args, json.loads(Path(args.activations).read_text())))


if __name__ == "__main__":
    main()
