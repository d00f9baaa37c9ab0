"""``python -m bot``: Settings -> resources -> Bot + Dispatcher -> long polling."""

from __future__ import annotations

import asyncio
import logging
import sys

from pydantic import ValidationError

from bot.config import Settings
from bot.factory import build_bot, build_dispatcher, close_resources, open_resources
from bot.logs import setup_logging

log = logging.getLogger("bot")


async def run(settings: Settings) -> None:
    resources = await open_resources(settings)
    try:
        bot = build_bot(settings)
        dispatcher = build_dispatcher(resources)
        # aiogram stops polling on SIGINT/SIGTERM and closes the bot's session itself.
        await dispatcher.start_polling(bot, handle_signals=True, close_bot_session=True)
    finally:
        await close_resources(resources)


def main() -> int:
    try:
        settings = Settings()
    except ValidationError as error:
        print(f"Invalid settings:\n{error}", file=sys.stderr)
        return 2
    setup_logging(settings.log_level)
    if settings.bot_token is None:
        print("BOT_TOKEN is not set: put it in the environment or in .env", file=sys.stderr)
        return 2
    asyncio.run(run(settings))
    return 0


if __name__ == "__main__":
    sys.exit(main())
