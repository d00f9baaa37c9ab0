"""What the operator sees: Prometheus metrics per process, and daily totals shared in Redis.

Prometheus scrapes each process (bot and workers) on its own ``/metrics``. The operator's
``/stats`` needs totals across processes, so each process also adds its counts to Redis every
few seconds (``stats:<day>`` hashes), cheaply and off the hot path.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections import Counter
from datetime import UTC, datetime

from prometheus_client import CollectorRegistry, Gauge, Histogram
from prometheus_client import Counter as PromCounter
from redis.asyncio import Redis

from bot.events import Delivery
from bot.storage import keys
from bot.storage.activations import Activation
from bot.storage.schedule import DUE, LEASES, Schedule

log = logging.getLogger(__name__)

STATS_TTL = 40 * 24 * 3600
GAUGES_EVERY = 15.0


def day_key(moment: float | None = None) -> str:
    when = datetime.fromtimestamp(time.time() if moment is None else moment, UTC)
    return keys.stats(when)


class Metrics:
    """One set of metrics per process (its own registry, so tests can build several)."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self.updates = PromCounter(
            "bot_updates_total", "Telegram updates handled", ["type"], registry=self.registry
        )
        self.provider_requests = PromCounter(
            "bot_provider_requests_total",
            "Requests to providers",
            ["action"],
            registry=self.registry,
        )
        self.provider_errors = PromCounter(
            "bot_provider_errors_total",
            "Provider requests that failed, by action and error",
            ["action", "error"],
            registry=self.registry,
        )
        self.provider_seconds = Histogram(
            "bot_provider_request_seconds",
            "Time a provider request took",
            ["action"],
            registry=self.registry,
        )
        self.delivered = PromCounter(
            "bot_codes_delivered_total",
            "Codes, rent SMS and letters pushed to users",
            ["kind"],
            registry=self.registry,
        )
        self.delivery_delay = Histogram(
            "bot_delivery_delay_seconds",
            "From when the bot learned of a code to when Telegram took the push",
            buckets=(0.1, 0.25, 0.5, 1, 2, 5, 10, 30, 60, 300),
            registry=self.registry,
        )
        self.polls = PromCounter(
            "bot_polls_total",
            "Items the worker polled (its throughput)",
            ["kind"],
            registry=self.registry,
        )
        self.auto_cancels = PromCounter(
            "bot_auto_cancelled_total",
            "Numbers cancelled for the user just before they expired without a code",
            registry=self.registry,
        )
        self.open_items = Gauge(
            "bot_open_items",
            "Activations, rents and mailboxes being followed",
            ["kind"],
            registry=self.registry,
        )
        self.queue_lag = Gauge(
            "bot_queue_lag_seconds",
            "How late the most overdue item of the schedule is",
            registry=self.registry,
        )
        self._pending: Counter[str] = Counter()
        self._gauges_at = 0.0  # when open items were last counted
        self._counting: asyncio.Task[None] | None = None

    # --- hooks called by the provider client and the worker ---

    def provider_request(self, action: str, outcome: str, seconds: float) -> None:
        self.provider_requests.labels(action).inc()
        self.provider_seconds.labels(action).observe(seconds)
        self._pending["provider_requests"] += 1
        if outcome != "ok":
            self.provider_errors.labels(action, outcome).inc()
            self._pending["provider_errors"] += 1

    def code_delivered(self, kind: str, learned_at: float | None, now: float) -> None:
        self.delivered.labels(kind).inc()
        self._pending[f"delivered_{kind}"] += 1
        if learned_at is not None:
            self.delivery_delay.observe(max(0.0, now - learned_at))

    # --- the worker's events (bot.events.WorkerEvents) ---

    def polled(self, kind: str) -> None:
        self.polls.labels(kind).inc()

    def pushed(self, delivery: Delivery) -> None:
        self.code_delivered(delivery.kind, delivery.learned_at, delivery.at)

    def auto_cancelled(self, activation: Activation) -> None:
        self.auto_cancels.inc()

    def update_handled(self, kind: str) -> None:
        self.updates.labels(kind).inc()
        self._pending["updates"] += 1

    # --- sharing totals ---

    async def flush(self, redis: Redis) -> None:
        """Add what was counted since the last flush to today's totals in Redis."""
        if not self._pending:
            return
        pending, self._pending = self._pending, Counter()
        key = day_key()
        try:
            async with redis.pipeline(transaction=False) as pipe:
                for field, count in pending.items():
                    pipe.hincrby(key, field, count)
                pipe.expire(key, STATS_TTL)
                await pipe.execute()
        except Exception:
            self._pending.update(pending)  # try again with the next flush
            raise

    async def keep_flushing(self, redis: Redis, interval: float = 5.0) -> None:
        while True:
            await asyncio.sleep(interval)
            try:
                await self.flush(redis)
            except Exception as error:
                log.warning("could not share statistics: %s", type(error).__name__)

    async def refresh_gauges(self, redis: Redis, schedule: Schedule) -> None:
        """Open items by kind and the queue lag, read from the shared schedule at scrape time.

        Counting walks the whole schedule, so it is redone at most every GAUGES_EVERY seconds
        however often the process is scraped, one count at a time, and a scrape does not wait
        for it once there is an earlier count to show: in a busy worker a count of 50,000
        items takes a while, and a scrape must still answer.
        """
        self.queue_lag.set(await schedule.lag())
        stale = time.monotonic() - self._gauges_at >= GAUGES_EVERY
        if stale and (self._counting is None or self._counting.done()):
            self._counting = asyncio.create_task(self._count(redis))
        if self._gauges_at == 0.0 and self._counting is not None:
            await asyncio.shield(self._counting)

    async def _count(self, redis: Redis) -> None:
        try:
            counts = await count_followed(redis)
        except Exception as error:
            log.warning("could not count open items: %s", type(error).__name__)
            return
        self._gauges_at = time.monotonic()
        for kind in ("act", "rent", "mail"):
            self.open_items.labels(kind).set(counts.get(kind, 0))


async def count_followed(redis: Redis) -> Counter[str]:
    """Items on the shared schedule by kind (act, rent, mail): what is being followed."""
    counts: Counter[str] = Counter()
    for key in (DUE, LEASES):
        # Large pages: each is a round trip, and in a busy process every round trip waits
        # for its turn in the event loop.
        async for member, _score in redis.zscan_iter(key, count=1000):
            text = member.decode() if isinstance(member, bytes) else str(member)
            counts[text.partition(":")[0]] += 1
    return counts


async def daily_totals(redis: Redis, moment: float | None = None) -> dict[str, int]:
    raw = await redis.hgetall(day_key(moment))
    totals: dict[str, int] = {}
    for field, value in raw.items():
        name = field.decode() if isinstance(field, bytes) else str(field)
        with contextlib.suppress(ValueError):
            totals[name] = int(value)
    return totals
