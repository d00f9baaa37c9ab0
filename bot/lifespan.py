"""What happens when polling (or the webhook server) starts and stops."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from typing import TYPE_CHECKING

from aiogram import Bot
from aiogram.exceptions import TelegramAPIError
from aiohttp import web

from bot.commands import bot_commands
from bot.config import SUPPORTED_LOCALES
from bot.web import create_web_app
from bot.worker import build_activation_poller, build_context, build_worker
from bot.worker.context import WorkerContext

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


async def start_worker(bot: Bot, resources: Resources, ctx: WorkerContext) -> None:
    worker = build_worker(resources, bot, ctx)
    resources.worker = worker
    resources.worker_task = asyncio.create_task(worker.run(), name="worker")


async def start_web(resources: Resources, ctx: WorkerContext) -> None:
    """Provider webhooks (and health) on HTTP_HOST:HTTP_PORT; HTTP_PORT=0 turns it off."""
    settings = resources.settings
    if settings.http_port == 0:
        return
    secret = settings.provider_webhook_secret
    app = create_web_app(
        build_activation_poller(resources, ctx),
        providers=frozenset(p.name for p in resources.hub.presets),
        webhook_secret=secret.get_secret_value() if secret else None,
        rent_hook=resources.rent_service.record_webhook,
    )
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    await web.TCPSite(runner, settings.http_host, settings.http_port).start()
    resources.web_runner = runner
    log.info("HTTP endpoint on %s:%s", settings.http_host, settings.http_port)


async def stop_web(resources: Resources) -> None:
    if resources.web_runner is not None:
        await resources.web_runner.cleanup()
        resources.web_runner = None


async def stop_worker(resources: Resources) -> None:
    if resources.worker is None or resources.worker_task is None:
        return
    resources.worker.stop()
    with contextlib.suppress(asyncio.CancelledError):
        await resources.worker_task
    resources.worker = resources.worker_task = None


async def on_startup(bot: Bot, resources: Resources) -> None:
    ctx = build_context(resources, bot)
    if resources.settings.run_worker:
        await start_worker(bot, resources, ctx)
    await start_web(resources, ctx)
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
    await stop_web(resources)
    await stop_worker(resources)
