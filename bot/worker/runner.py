"""The worker loop: claim due items from the shared schedule, poll them, give them back.

Runs inside ``python -m bot`` by default, or alone as ``python -m bot.worker`` (several
processes may share one Redis). It sends through the Bot API but never reads updates.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import socket
import time
from collections.abc import Awaitable, Callable, Sequence

from redis.exceptions import RedisError

from bot.storage import keys
from bot.storage.schedule import Schedule
from bot.worker.context import WorkerContext

log = logging.getLogger(__name__)

Poll = Callable[[str], Awaitable[float | None]]
HEARTBEAT_TTL = 30
HEARTBEAT_EVERY = 5.0


class Worker:
    def __init__(
        self,
        ctx: WorkerContext,
        schedule: Schedule,
        pollers: dict[str, Poll],
        *,
        batch: int = 64,
        concurrency: int = 32,
        lease: float = 30.0,
        idle: float = 0.25,
        on_start: Sequence[Callable[[], Awaitable[object]]] = (),
    ) -> None:
        self.ctx = ctx
        self.schedule = schedule
        self.pollers = pollers
        self.batch = batch
        self.lease = lease
        self.idle = idle
        self.name = f"{socket.gethostname()}:{os.getpid()}"
        self._semaphore = asyncio.Semaphore(concurrency)
        self._tasks: set[asyncio.Task[None]] = set()
        self._stopping = asyncio.Event()
        self._on_start = list(on_start)
        self._last_loop = time.monotonic()
        self._last_beat = 0.0
        self._last_renewal = time.monotonic()
        # What this worker is polling now: its leases are renewed while it does, so a lease
        # can be short and an item whose worker died comes back soon.
        self._polling: set[str] = set()

    async def run(self) -> None:
        log.info("worker %s started", self.name)
        for job in self._on_start:
            # Catch-up work runs beside the loop: new codes must not wait for it.
            self._track(asyncio.create_task(self._guarded(job)))
        pause = self.idle
        try:
            while not self._stopping.is_set():
                self._last_loop = time.monotonic()
                try:
                    claimed = await self._turn()
                    pause = self.idle
                except (RedisError, OSError) as error:
                    # Redis is restarting or unreachable: nothing is lost (leases run out and
                    # items come back), so wait and try again rather than die.
                    log.warning("worker cannot reach Redis (%s); retrying", type(error).__name__)
                    claimed = []
                    pause = min(pause * 2, 5.0)
                if not claimed:
                    with contextlib.suppress(TimeoutError):
                        await asyncio.wait_for(self._stopping.wait(), pause)
        finally:
            await self._drain()
            log.info("worker %s stopped", self.name)

    async def _turn(self) -> list[str]:
        """One round: claim what is due (while there is room); [] when nothing was."""
        # Every round reads the wall clock against the steady one: a jump is noticed (and
        # shared) before anything due because of it is polled.
        await self.ctx.guard.sync(self.ctx.redis)
        if self._last_loop - self._last_beat >= HEARTBEAT_EVERY:
            await self.heartbeat()
            self._last_beat = self._last_loop
        if self._polling and self._last_loop - self._last_renewal >= self.lease / 3:
            await self.schedule.renew(self._polling, self.lease)
            self._last_renewal = self._last_loop
        free = self.batch - len(self._tasks)
        if free <= 0:
            # Full: go on as soon as one item is done, not after an idle pause.
            await asyncio.wait(self._tasks, timeout=self.idle, return_when=asyncio.FIRST_COMPLETED)
            return ["busy"]
        claimed = await self.schedule.claim(free, self.lease)
        for member in claimed:
            self._track(asyncio.create_task(self._process(member)))
        return claimed

    async def run_once(self) -> int:
        """Claim and process what is due now, and wait for it (tests and benchmarks)."""
        await self.ctx.guard.sync(self.ctx.redis)
        claimed = await self.schedule.claim(self.batch, self.lease)
        await asyncio.gather(*(self._process(member) for member in claimed))
        return len(claimed)

    def stop(self) -> None:
        self._stopping.set()

    def alive(self, within: float = HEARTBEAT_TTL) -> bool:
        """The loop went round recently (a stuck loop fails the health check)."""
        return time.monotonic() - self._last_loop < within

    def _track(self, task: asyncio.Task[None]) -> None:
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    @staticmethod
    async def _guarded(job: Callable[[], Awaitable[object]]) -> None:
        try:
            await job()
        except Exception:
            log.exception("worker start-up job failed")

    async def _drain(self) -> None:
        # Items being polled finish (they are short); their leases would also expire.
        if self._tasks:
            await asyncio.wait(self._tasks, timeout=20)

    async def heartbeat(self) -> None:
        await self.ctx.redis.set(
            keys.worker_heartbeat(self.name), int(self.ctx.clock()), ex=HEARTBEAT_TTL
        )

    async def _process(self, member: str) -> None:
        self._polling.add(member)
        try:
            await self._poll_member(member)
        finally:
            self._polling.discard(member)

    async def _poll_member(self, member: str) -> None:
        kind, _, ref = member.partition(":")
        poll = self.pollers.get(kind)
        if poll is None:
            log.error("no poller for %s; dropping it", member)
            await self.schedule.release(member, None)
            return
        async with self._semaphore:
            try:
                next_at = await poll(ref)
            except asyncio.CancelledError:
                await self.schedule.release(member, self.ctx.clock())
                raise
            except (RedisError, OSError) as error:
                log.warning("polling %s met a Redis failure: %s", kind, type(error).__name__)
                next_at = self.ctx.clock() + self.ctx.settings.poll_interval
            except Exception:
                log.exception("polling %s failed", kind)
                try:
                    next_at = self.ctx.clock() + await self.ctx.backoff(ref)
                except (RedisError, OSError):
                    next_at = self.ctx.clock() + self.ctx.settings.poll_interval
        self.ctx.events.polled(kind)
        try:
            await self.schedule.release(member, next_at)
        except Exception:
            # Redis is away: the lease runs out and another pass picks the item up again.
            log.exception("could not give %s back to the schedule", kind)
