"""``python -m bot.worker``: the worker alone (several may share one Redis); no long polling."""

from __future__ import annotations

import asyncio
import logging
import signal
import sys

from pydantic import ValidationError

from bot.config import Settings
from bot.factory import build_bot, close_resources, open_resources
from bot.logs import setup_logging
from bot.worker import build_worker

log = logging.getLogger("bot.worker")


async def run(settings: Settings) -> None:
    resources = await open_resources(settings)
    bot = build_bot(settings)
    worker = build_worker(resources, bot)
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, worker.stop)
    try:
        await worker.run()
    finally:
        await bot.session.close()
        await close_resources(resources)


def main() -> int:
    try:
        settings = Settings()
    except ValidationError as error:
        print(f"Invalid settings:\n{error}", file=sys.stderr)
        return 2
    setup_logging(settings.log_level)
    if settings.bot_token is None:
        print("BOT_TOKEN is not set: the worker sends codes through the bot", file=sys.stderr)
        return 2
    asyncio.run(run(settings))
    return 0


if __name__ == "__main__":
    sys.exit(main())
