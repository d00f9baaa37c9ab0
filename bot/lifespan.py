"""What runs beside the bot and the worker, and how it starts and stops.

``on_startup``/``on_shutdown`` are the dispatcher's hooks in ``python -m bot`` (polling or
webhook mode); ``python -m bot.worker`` calls ``start_side_services`` itself.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from typing import TYPE_CHECKING
from urllib.parse import urlparse

from aiogram import Bot, Dispatcher
from aiogram.exceptions import TelegramAPIError
from aiohttp import web
from redis.exceptions import RedisError

from bot.commands import bot_commands
from bot.config import SUPPORTED_LOCALES
from bot.storage import keys
from bot.web import TelegramWebhook, create_web_app
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


def watch_metrics(ctx: WorkerContext, resources: Resources) -> None:
    """Feed the worker's events into the process's metrics."""
    ctx.events = resources.metrics


async def healthy(resources: Resources) -> dict[str, bool]:
    """Redis answers, and a worker loop is alive (this process's, or another's heartbeat)."""
    try:
        redis_ok = bool(await asyncio.wait_for(resources.redis.ping(), 2))
    except (RedisError, OSError, TimeoutError):
        return {"redis": False, "worker": False}
    task = resources.worker_task
    if task is not None:
        worker_ok = not task.done() and resources.worker is not None and resources.worker.alive()
    else:
        found = [key async for key in resources.redis.scan_iter(keys.WORKER_HEARTBEATS, count=100)]
        worker_ok = bool(found)
    return {"redis": redis_ok, "worker": worker_ok}


async def start_web(
    resources: Resources,
    ctx: WorkerContext,
    *,
    dispatcher: Dispatcher | None = None,
    bot: Bot | None = None,
) -> None:
    """Health, metrics, provider webhooks (and Telegram's webhook) on HTTP_HOST:HTTP_PORT."""
    settings = resources.settings
    if settings.http_port == 0:
        return
    telegram = None
    if settings.webhook_url and dispatcher is not None and bot is not None:
        assert settings.webhook_secret is not None  # the settings insist on it
        telegram = TelegramWebhook(
            dispatcher,
            bot,
            path=urlparse(settings.webhook_url).path or "/",
            secret=settings.webhook_secret.get_secret_value(),
        )
    provider_secret = settings.provider_webhook_secret
    app = create_web_app(
        metrics=resources.metrics,
        health=lambda: healthy(resources),
        before_scrape=lambda: resources.metrics.refresh_gauges(
            resources.redis, resources.schedule
        ),
        poller=build_activation_poller(resources, ctx),
        providers=frozenset(p.name for p in resources.hub.presets),
        webhook_secret=provider_secret.get_secret_value() if provider_secret else None,
        rent_hook=resources.rent_service.record_webhook,
        telegram=telegram,
    )
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    await web.TCPSite(runner, settings.http_host, settings.http_port).start()
    resources.web_runner = runner
    log.info("HTTP endpoint on %s:%s", settings.http_host, settings.http_port)


async def start_side_services(
    bot: Bot,
    resources: Resources,
    *,
    run_worker: bool,
    dispatcher: Dispatcher | None = None,
) -> None:
    ctx = build_context(resources, bot)
    watch_metrics(ctx, resources)
    if run_worker:
        worker = build_worker(resources, bot, ctx)
        resources.worker = worker
        resources.worker_task = asyncio.create_task(worker.run(), name="worker")
    resources.background.append(
        asyncio.create_task(resources.metrics.keep_flushing(resources.redis), name="stats")
    )
    await start_web(resources, ctx, dispatcher=dispatcher, bot=bot)


async def stop_side_services(resources: Resources) -> None:
    if resources.web_runner is not None:
        await resources.web_runner.cleanup()
        resources.web_runner = None
    if resources.worker is not None and resources.worker_task is not None:
        resources.worker.stop()
        with contextlib.suppress(asyncio.CancelledError):
            await resources.worker_task
        resources.worker = resources.worker_task = None
    for task in resources.background:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
    resources.background.clear()
    with contextlib.suppress(Exception):
        await resources.metrics.flush(resources.redis)


async def on_startup(bot: Bot, resources: Resources, dispatcher: Dispatcher) -> None:
    await start_side_services(
        bot, resources, run_worker=resources.settings.run_worker, dispatcher=dispatcher
    )
    try:
        await set_commands(bot, resources)
    except TelegramAPIError as error:
        # A menu is a nicety: the bot works without it.
        log.warning("could not set the commands menu: %s", type(error).__name__)
    with contextlib.suppress(TelegramAPIError):
        me = await bot.get_me()
        log.info("bot @%s started", me.username)


async def finish_updates(dispatcher: Dispatcher | None, timeout: float = 20.0) -> None:
    """Let updates already being handled finish before their Redis and clients close.

    aiogram stops taking updates on SIGTERM but does not wait for the ones in flight; a
    purchase cut off there would leave a card nothing updates and a tap never answered.
    """
    tasks = set(getattr(dispatcher, "_handle_update_tasks", ()) or ())
    current = asyncio.current_task()
    pending = [task for task in tasks if task is not current and not task.done()]
    if pending:
        log.info("waiting for %s updates in flight", len(pending))
        await asyncio.wait(pending, timeout=timeout)


async def on_shutdown(
    bot: Bot, resources: Resources, dispatcher: Dispatcher | None = None
) -> None:
    log.info("bot stopping")
    await finish_updates(dispatcher)
    await stop_side_services(resources)
