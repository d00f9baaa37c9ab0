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
from collections.abc import Awaitable, Callable, Mapping, Sequence

from redis.exceptions import RedisError

from bot.storage import keys
from bot.storage.records import Stored
from bot.storage.schedule import Schedule
from bot.worker.context import WorkerContext

log = logging.getLogger(__name__)

#: Polls one item (its ref, and its record when the turn read it); when to poll it next.
Poll = Callable[[str, Stored | None], Awaitable[float | None]]
HEARTBEAT_TTL = 30
HEARTBEAT_EVERY = 5.0
#: How long a woken loop lets other items come due (or polls end) before its turn, and the
#: shortest pause between two turns.
GATHER = 0.01


class Worker:
    """Claims due items, polls each in its own task, and gives them back in batches.

    One script call per turn gives back every item polled since the last turn and claims what
    is due now or within ``ahead`` seconds (see Schedule.turn); each claimed item's poll starts
    when it is due, not earlier, and takes one of ``batch`` slots only from then on (items
    waiting for their moment in the slots would hold up items due). Between turns the loop
    sleeps until the next item is due (at most ``idle``: items another process adds are seen
    that soon), and wakes early when an item is added in this process, when a poll ends while
    every slot is taken, or on stop. So a turn serves every item falling due within ``ahead``:
    measured with 100 users on their own moments (pacing.py), a turn per due moment was five
    turns per code delivered, each a script of a dozen Redis commands. A polled item goes back
    with the next turn (at most ``idle`` later): nobody else may poll it meanwhile anyway.
    """

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
        ahead: float = 0.25,
        on_start: Sequence[Callable[[], Awaitable[object]]] = (),
        records: Mapping[str, str] | None = None,
    ) -> None:
        self.ctx = ctx
        self.schedule = schedule
        self.pollers = pollers
        self.batch = batch
        self.lease = lease
        self.idle = idle
        self.ahead = ahead
        # Kinds whose record each turn reads with the claim (kind -> record key prefix).
        self.records = dict(records or {})
        self.name = f"{socket.gethostname()}:{os.getpid()}"
        self._semaphore = asyncio.Semaphore(concurrency)
        self._tasks: set[asyncio.Task[None]] = set()
        # Claimed items still waiting for their due time: they take no slot of ``batch``.
        self._waiting: set[str] = set()
        self._stopping = asyncio.Event()
        self._on_start = list(on_start)
        self._last_loop = time.monotonic()
        self._last_beat = 0.0
        self._last_renewal = time.monotonic()
        # What this worker is polling now: its leases are renewed while it does, so a lease
        # can be short and an item whose worker died comes back soon.
        self._polling: set[str] = set()
        # Polled items waiting to go back (member, next due time), with the next turn.
        self._released: list[tuple[str, float | None]] = []
        self._wake = asyncio.Event()

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
                    wait = await self._turn()
                    pause = self.idle
                except (RedisError, OSError) as error:
                    # Redis is restarting or unreachable: nothing is lost (leases run out and
                    # items come back), so wait and try again rather than die.
                    log.warning("worker cannot reach Redis (%s); retrying", type(error).__name__)
                    with contextlib.suppress(TimeoutError):
                        await asyncio.wait_for(self._stopping.wait(), pause)
                    pause = min(pause * 2, 5.0)
                    continue
                if wait > 0:
                    await self._sleep(wait)
        finally:
            await self._drain()
            try:
                await self._flush()
            except (RedisError, OSError):
                # Redis is away: the leases run out and another worker picks the items up.
                log.warning("worker %s could not give its last items back", self.name)
            log.info("worker %s stopped", self.name)

    async def _sleep(self, seconds: float) -> None:
        """Until ``seconds`` pass, or something wakes the loop (an item added here, a slot
        freed while all were taken, a stop)."""
        self._wake.clear()
        self.schedule.added.clear()
        waits = [
            asyncio.ensure_future(event.wait())
            for event in (self._stopping, self._wake, self.schedule.added)
        ]
        try:
            done, _ = await asyncio.wait(
                waits, timeout=seconds, return_when=asyncio.FIRST_COMPLETED
            )
        finally:
            for waiting in waits:
                waiting.cancel()
        if done and not self._stopping.is_set():
            # A snapshot makes a user's items due one after another: one turn claims them.
            await asyncio.sleep(GATHER)

    async def _turn(self) -> float:
        """One round: give back what was polled, claim what is due (while there is room);
        how long to sleep before the next round."""
        # Every round reads the wall clock against the steady one: a jump is noticed (and
        # shared) before anything due because of it is polled.
        await self.ctx.guard.sync(self.ctx.redis)
        if self._last_loop - self._last_beat >= HEARTBEAT_EVERY:
            await self.heartbeat()
            self._last_beat = self._last_loop
        if self._polling and self._last_loop - self._last_renewal >= self.lease / 3:
            await self.schedule.renew(self._polling, self.lease)
            self._last_renewal = self._last_loop
        free = self.batch - self._busy
        if free <= 0 and not self._released:
            # Full: go on as soon as one item is done.
            return self.idle
        claimed, next_in = await self._claim(max(free, 0), self.ahead)
        if free > 0 and len(claimed) == free:
            return 0.0  # more may be due
        if free <= 0 or next_in is None:
            return self.idle
        # Woken when the next item is due, the turn claims it with those due ``ahead`` after
        # it. Items due but held by a poll elsewhere (next_in 0) come back with its release.
        return min(self.idle, max(next_in, GATHER))

    async def _claim(self, limit: int, ahead: float = 0.0) -> tuple[list[str], float | None]:
        """Give back the polled items and claim up to ``limit``, in one schedule call."""
        released, self._released = self._released, []
        views = self.ctx.views
        try:
            turn = await self.schedule.turn(
                limit, self.lease, released, since=views.seq, ahead=ahead, records=self.records
            )
        except BaseException:
            self._released[:0] = released  # given back with the next turn
            raise
        views.synced(turn.changes_seq, turn.changed_users)
        for member in turn.claimed:
            due_in, stored = turn.due_in.get(member, 0.0), turn.records.get(member)
            if due_in > 0:
                self._waiting.add(member)  # counted from now: the next turn may come first
            self._track(asyncio.create_task(self._process(member, due_in, stored)))
        return turn.claimed, turn.next_in

    async def _flush(self) -> None:
        """Give back what was polled (stopping: nothing more is claimed)."""
        if self._released:
            released, self._released = self._released, []
            await self.schedule.turn(0, self.lease, released)

    async def run_once(self) -> int:
        """Claim and process what is due now, and wait for it (tests and benchmarks)."""
        await self.ctx.guard.sync(self.ctx.redis)
        before = set(self._tasks)
        claimed, _next_in = await self._claim(self.batch)
        await asyncio.gather(*(self._tasks - before))
        await self._flush()
        await self.ctx.outbox.drain()
        return len(claimed)

    def stop(self) -> None:
        self._stopping.set()

    def alive(self, within: float = HEARTBEAT_TTL) -> bool:
        """The loop went round recently (a stuck loop fails the health check)."""
        return time.monotonic() - self._last_loop < within

    @property
    def _busy(self) -> int:
        """Items being polled (or given back) now, not waiting for their due time."""
        return len(self._tasks) - len(self._waiting)

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
        await self.ctx.outbox.drain(timeout=10)

    async def heartbeat(self) -> None:
        await self.ctx.redis.set(
            keys.worker_heartbeat(self.name), int(self.ctx.clock()), ex=HEARTBEAT_TTL
        )

    async def _process(
        self, member: str, due_in: float = 0.0, stored: Stored | None = None
    ) -> None:
        self._polling.add(member)
        # Whatever goes wrong, the item comes back: at once when the poll was cancelled.
        next_at: float | None = self.ctx.clock()
        try:
            if due_in > 0:
                # Claimed ahead with the items of its turn; polled on time, never early (a
                # stop meanwhile gives it back unpolled, due at once).
                await asyncio.sleep(due_in)
                self._waiting.discard(member)
            if not self._stopping.is_set():
                next_at = await self._poll_member(member, stored)
        finally:
            self._waiting.discard(member)
            self._polling.discard(member)
            self._released.append((member, next_at))
            if self._busy >= self.batch:
                self._wake.set()  # a slot is free: claim what waits for one

    async def _poll_member(self, member: str, stored: Stored | None = None) -> float | None:
        kind, _, ref = member.partition(":")
        poll = self.pollers.get(kind)
        if poll is None:
            log.error("no poller for %s; dropping it", member)
            return None
        async with self._semaphore:
            try:
                next_at = await poll(ref, stored)
            except asyncio.CancelledError:
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
        return next_at
