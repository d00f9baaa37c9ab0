"""What happens when polling (or the webhook server) starts and stops."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from typing import TYPE_CHECKING

from aiogram import Bot
from aiogram.exceptions import TelegramAPIError

from bot.commands import bot_commands
from bot.config import SUPPORTED_LOCALES

if TYPE_CHECKING:
    from bot.factory import Resources

log = logging.getLogger(__name__)


async def set_commands(bot: Bot, resources: Resources) -> None:
    """The commands menu in each language; the default scope in the default language."""
    i18n = resources.i18n
    default = resources.settings.default_locale
    await bot.set_my_commands(bot_commands(i18n, default))
    for locale in SUPPORTED_LOCALES:
        await bot.set_my_commands(bot_commands(i18n, locale), language_code=locale)


async def start_worker(bot: Bot, resources: Resources) -> None:
    from bot.worker import build_worker

    worker = build_worker(resources, bot)
    resources.worker = worker
    resources.worker_task = asyncio.create_task(worker.run(), name="worker")


async def stop_worker(resources: Resources) -> None:
    if resources.worker is None or resources.worker_task is None:
        return
    resources.worker.stop()
    with contextlib.suppress(asyncio.CancelledError):
        await resources.worker_task
    resources.worker = resources.worker_task = None


async def on_startup(bot: Bot, resources: Resources) -> None:
    if resources.settings.run_worker:
        await start_worker(bot, resources)
    try:
        await set_commands(bot, resources)
    except TelegramAPIError as error:
        # A menu is a nicety: the bot works without it.
        log.warning("could not set the commands menu: %s", type(error).__name__)
    with contextlib.suppress(TelegramAPIError):
        me = await bot.get_me()
        log.info("bot @%s started", me.username)


async def on_shutdown(bot: Bot, resources: Resources) -> None:
    log.info("bot stopping")
    await stop_worker(resources)
