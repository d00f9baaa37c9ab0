"""What runs beside the bot and the worker, and how it starts and stops.

``on_startup``/``on_shutdown`` are the dispatcher's hooks in ``python -m bot`` (polling or
webhook mode); ``python -m bot.worker`` starts and stops a ``SideServices`` itself.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from urllib.parse import urlparse

from aiogram import Bot, Dispatcher
from aiogram.exceptions import TelegramAPIError
from aiohttp import web
from redis.exceptions import RedisError

from bot.commands import bot_commands
from bot.config import SUPPORTED_LOCALES
from bot.dispatcher import BotDispatcher
from bot.resources import Resources
from bot.storage import keys
from bot.web import SERVER_LOG, TelegramWebhook, create_web_app
from bot.worker import Worker, build_activation_poller, build_context, build_worker
from bot.worker.context import WorkerContext
from bot.worker.hints import ProviderHints

log = logging.getLogger(__name__)

#: The dispatcher's workflow data key for this process's ``SideServices``.
SIDE_SERVICES = "side_services"


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


async def healthy(resources: Resources, services: SideServices | None = None) -> dict[str, bool]:
    """Redis takes writes, and a worker loop is alive (this process's, or another's heartbeat).

    A write, not a PING: a Redis that answers but refuses writes (disk full, a read-only
    replica) would lose every purchase and code while looking healthy.
    """
    try:
        probe = resources.redis.set(keys.HEALTH_PROBE, int(time.time()), ex=60)
        redis_ok = bool(await asyncio.wait_for(probe, 2))
    except (RedisError, OSError, TimeoutError):
        return {"redis": False, "worker": False}
    if services is not None and services.worker_task is not None:
        task, worker = services.worker_task, services.worker
        worker_ok = not task.done() and worker is not None and worker.alive()
    else:
        found = [key async for key in resources.redis.scan_iter(keys.WORKER_HEARTBEATS, count=100)]
        worker_ok = bool(found)
    return {"redis": redis_ok, "worker": worker_ok}


class SideServices:
    """What runs beside the bot: the worker loop, the HTTP endpoint, the metrics flusher.

    The one mutable part of the application, kept apart from the shared ``Resources``:
    ``start`` fills it in, ``stop`` empties it.
    """

    def __init__(self, resources: Resources, *, http_port: int | None = None) -> None:
        """``http_port``: where the HTTP endpoint listens (0: nowhere); HTTP_PORT if None."""
        self.resources = resources
        self.http_port = resources.settings.http_port if http_port is None else http_port
        self.worker: Worker | None = None
        self.worker_task: asyncio.Task[None] | None = None
        self.web_runner: web.AppRunner | None = None
        self.background: list[asyncio.Task[None]] = []

    async def start(
        self, bot: Bot, *, run_worker: bool, dispatcher: Dispatcher | None = None
    ) -> None:
        resources = self.resources
        ctx = build_context(resources, bot)
        watch_metrics(ctx, resources)
        if run_worker:
            self.worker = build_worker(resources, bot, ctx)
            self.worker_task = asyncio.create_task(self.worker.run(), name="worker")
        self.background.append(
            asyncio.create_task(resources.metrics.keep_flushing(resources.redis), name="stats")
        )
        if resources.embedded is not None:
            # The embedded Redis is shared with the other processes on this host: whichever
            # sees it die starts it again.
            self.background.append(
                asyncio.create_task(resources.embedded.keep_alive(), name="embedded-redis")
            )
        await self._start_web(ctx, dispatcher=dispatcher, bot=bot)

    async def _start_web(
        self, ctx: WorkerContext, *, dispatcher: Dispatcher | None, bot: Bot
    ) -> None:
        """Health, metrics, provider webhooks (and Telegram's webhook) on HTTP_HOST:http_port."""
        resources = self.resources
        settings = resources.settings
        if self.http_port == 0:
            return
        telegram = None
        if settings.webhook_url and dispatcher is not None:
            assert settings.webhook_secret is not None  # the settings insist on it
            telegram = TelegramWebhook(
                dispatcher,
                bot,
                path=urlparse(settings.webhook_url).path or "/",
                secret=settings.webhook_secret.get_secret_value(),
            )
        urls = resources.webhook_urls
        app = create_web_app(
            metrics=resources.metrics,
            health=lambda: healthy(resources, self),
            before_scrape=lambda: resources.metrics.refresh_gauges(
                resources.redis, resources.schedule
            ),
            hints=ProviderHints(
                build_activation_poller(resources, ctx),
                resources.rent_service,
                resources.worker_accounts,
                urls,
            )
            if urls is not None
            else None,
            urls=urls,
            telegram=telegram,
        )
        runner = web.AppRunner(app, access_log=None, logger=SERVER_LOG)
        await runner.setup()
        await web.TCPSite(runner, settings.http_host, self.http_port).start()
        self.web_runner = runner
        log.info("HTTP endpoint on %s:%s", settings.http_host, self.http_port)

    async def stop(self) -> None:
        if self.web_runner is not None:
            await self.web_runner.cleanup()
            self.web_runner = None
        if self.worker is not None and self.worker_task is not None:
            self.worker.stop()
            with contextlib.suppress(asyncio.CancelledError):
                await self.worker_task
            self.worker = self.worker_task = None
        for task in self.background:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
        self.background.clear()
        with contextlib.suppress(Exception):
            await self.resources.metrics.flush(self.resources.redis)


def setup_lifespan(dispatcher: BotDispatcher, resources: Resources) -> SideServices:
    """Give the dispatcher its side services and the hooks that start and stop them.

    They go into the workflow data now, before startup: polling hands both hooks the workflow
    data as it was when polling began.
    """
    services = SideServices(resources)
    dispatcher[SIDE_SERVICES] = services
    dispatcher.startup.register(on_startup)
    dispatcher.shutdown.register(on_shutdown)
    return services


async def on_startup(bot: Bot, side_services: SideServices, dispatcher: Dispatcher) -> None:
    resources = side_services.resources
    await side_services.start(bot, run_worker=resources.settings.run_worker, dispatcher=dispatcher)
    try:
        await set_commands(bot, resources)
    except TelegramAPIError as error:
        # A menu is a nicety: the bot works without it.
        log.warning("could not set the commands menu: %s", type(error).__name__)
    with contextlib.suppress(TelegramAPIError):
        me = await bot.get_me()
        log.info("bot @%s started", me.username)


async def finish_updates(dispatcher: BotDispatcher | None, timeout: float = 20.0) -> None:
    """Let updates already being handled finish before their Redis and clients close."""
    pending = dispatcher.updates_in_flight() if dispatcher is not None else []
    if pending:
        log.info("waiting for %s updates in flight", len(pending))
        await asyncio.wait(pending, timeout=timeout)


async def on_shutdown(
    side_services: SideServices, dispatcher: BotDispatcher | None = None
) -> None:
    log.info("bot stopping")
    await finish_updates(dispatcher)
    await side_services.stop()
