"""What runs beside the bot and the worker: the worker loop, the HTTP endpoint, the metrics
flusher. ``python -m bot.worker`` starts a ``SideServices`` itself; ``python -m bot`` through
the dispatcher's hooks (lifespan.py). Nothing here loads aiogram: the worker runs without it.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time

from aiohttp import web
from redis.exceptions import RedisError

from bot.resources import Resources
from bot.storage import keys
from bot.web import SERVER_LOG, Mount, create_web_app
from bot.worker import Worker, build_activation_poller, build_context, build_worker
from bot.worker.context import WorkerContext
from bot.worker.hints import ProviderHints

log = logging.getLogger(__name__)


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

    async def start(self, *, run_worker: bool, telegram: Mount | None = None) -> None:
        """``telegram``: the routes of Telegram's webhook, when this process takes updates."""
        resources = self.resources
        ctx = build_context(resources)
        watch_metrics(ctx, resources)
        if run_worker:
            self.worker = build_worker(resources, ctx)
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
        await self._start_web(ctx, telegram)

    async def _start_web(self, ctx: WorkerContext, telegram: Mount | None) -> None:
        """Health, metrics, provider webhooks (and Telegram's webhook) on HTTP_HOST:http_port."""
        resources = self.resources
        settings = resources.settings
        if self.http_port == 0:
            return
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
