"""``python -m bot.worker``: the worker alone (several may share one Redis); no long polling.

It sends through the Bot API and serves its own /healthz and /metrics on HTTP_PORT.
"""

from __future__ import annotations

import asyncio
import logging
import signal
import sys

from bot.cli import start
from bot.config import Settings
from bot.factory import build_bot
from bot.lifespan import SideServices
from bot.resources import close_resources, open_resources

log = logging.getLogger("bot.worker")


async def run(settings: Settings) -> None:
    resources = await open_resources(settings)
    bot = build_bot(settings)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    services = SideServices(resources)
    try:
        await services.start(bot, run_worker=True)
        assert services.worker_task is not None
        # Run until asked to stop, or until the worker loop itself ends.
        await asyncio.wait(
            [asyncio.ensure_future(stop.wait()), services.worker_task],
            return_when=asyncio.FIRST_COMPLETED,
        )
    finally:
        await services.stop()
        await bot.session.close()
        await close_resources(resources)


def main() -> int:
    return start(run, no_token="BOT_TOKEN is not set: the worker sends codes through the bot")


if __name__ == "__main__":
    sys.exit(main())
