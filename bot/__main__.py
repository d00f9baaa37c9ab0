"""``python -m bot``: Settings -> resources -> Bot + Dispatcher -> long polling or webhook."""

from __future__ import annotations

import logging
import sys

from aiogram import Bot, Dispatcher

from bot.cli import start, stop_event
from bot.factory import UPDATES_IN_FLIGHT, build_bot, build_dispatcher
from bot.resources import Resources

log = logging.getLogger("bot")


async def run_polling(bot: Bot, dispatcher: Dispatcher) -> None:
    # A webhook left from an earlier deployment would make getUpdates fail with 409.
    await bot.delete_webhook(drop_pending_updates=False)
    # aiogram stops polling on SIGINT/SIGTERM and closes the bot's session itself.
    await dispatcher.start_polling(
        bot,
        handle_signals=True,
        close_bot_session=True,
        tasks_concurrency_limit=UPDATES_IN_FLIGHT,
    )


async def run_webhook(bot: Bot, dispatcher: Dispatcher, resources: Resources) -> None:
    """Telegram pushes updates to WEBHOOK_URL; the bot's HTTP endpoint receives them."""
    settings = resources.settings
    assert settings.webhook_url is not None
    assert settings.webhook_secret is not None
    stop = stop_event()
    await dispatcher.emit_startup(bot=bot, dispatcher=dispatcher, **dispatcher.workflow_data)
    try:
        await bot.set_webhook(
            settings.webhook_url,
            secret_token=settings.webhook_secret.get_secret_value(),
            allowed_updates=dispatcher.resolve_used_update_types(),
        )
        log.info("webhook registered; waiting for updates")
        await stop.wait()
    finally:
        await dispatcher.emit_shutdown(bot=bot, dispatcher=dispatcher, **dispatcher.workflow_data)
        await bot.session.close()


async def serve(resources: Resources) -> None:
    bot = build_bot(resources.settings)  # its HTTP session opens on first use
    try:
        dispatcher = build_dispatcher(resources)
        if resources.settings.webhook_url:
            await run_webhook(bot, dispatcher, resources)
        else:
            await run_polling(bot, dispatcher)
    finally:
        await bot.session.close()


DESCRIPTION = """\
The Telegram bot: receives updates by long polling (or through Telegram's webhook when
WEBHOOK_URL is set) and, unless RUN_WORKER=0, runs the worker that polls the providers and
pushes codes, rents and mails to the chats. Health and metrics on HTTP_HOST:HTTP_PORT
(default 127.0.0.1:8080). Stop it with SIGTERM or Ctrl-C."""

SETTINGS_HELP = """\
More workers on this host: python -m bot.worker (see python -m bot.worker --help).

"""


def main() -> int:
    return start(
        serve,
        prog="python -m bot",
        description=DESCRIPTION,
        settings_help=SETTINGS_HELP,
        no_token="BOT_TOKEN is not set: put it in the environment or in .env",
    )


if __name__ == "__main__":
    sys.exit(main())
