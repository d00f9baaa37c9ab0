"""One provider's lane: how many requests the bot has waiting on that provider at once.

A provider that hangs keeps every request to it for its full timeout. Without a bound, its
users' updates (and the worker's polls) would pile up there and hold the capacity every other
provider's users need: the dispatcher's updates in flight, the worker's slots, connections.
A lane admits ``calls`` requests at once; the others wait briefly for a free place. While the
provider answers in its usual time, places turn over fast and any number may wait: a burst of
users (and the worker's polls) is served, not refused. Once the oldest request in the lane has
waited ``slow`` seconds for its answer the provider counts as slow: only ``waiting`` more may
wait and anything beyond is refused at once with :class:`ProviderBusy`, so a hung provider
holds a bounded share and its users hear "busy" instead of silence.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from bot.provider.errors import ProviderConnectError

#: Requests to one provider in flight at once, per process.
LANE_CALLS = 16
#: Requests allowed to wait for a place, and for how long.
LANE_WAITING = 4
LANE_WAIT = 2.0
#: How long the oldest request in a full lane may go unanswered before the provider counts as
#: slow (a getNumber at a busy provider takes a second or two).
LANE_SLOW = 3.0


class ProviderBusy(ProviderConnectError):
    """Not sent: as many requests to this provider as the bot allows are already waiting for
    it (it is slow or hung), so this one is refused at once instead of queueing too."""


class ProviderLane:
    def __init__(
        self,
        calls: int = LANE_CALLS,
        waiting: int = LANE_WAITING,
        wait: float = LANE_WAIT,
        slow: float = LANE_SLOW,
    ) -> None:
        self._places = asyncio.Semaphore(calls)
        self._capacity = calls
        self._waiting_limit = waiting
        self._wait = wait
        self._waiting = 0
        self._busy = 0
        self._slow = slow
        self._started: dict[object, float] = {}  # when each request in the lane was sent

    @property
    def in_flight(self) -> int:
        """Requests holding a place now."""
        return self._busy

    @property
    def capacity(self) -> int:
        return self._capacity + self._waiting_limit

    @asynccontextmanager
    async def place(self, action: str) -> AsyncIterator[None]:
        """Hold a place for one request, or raise ``ProviderBusy`` (nothing was sent)."""
        if self._places.locked():
            if self._waiting >= self._waiting_limit and self._is_slow():
                raise ProviderBusy("too many requests waiting for the provider", action=action)
            self._waiting += 1
            try:
                await asyncio.wait_for(self._places.acquire(), self._wait)
            except TimeoutError:
                raise ProviderBusy(
                    "no place freed up for the provider in time", action=action
                ) from None
            finally:
                self._waiting -= 1
        else:
            await self._places.acquire()
        self._busy += 1
        ticket = object()
        self._started[ticket] = asyncio.get_running_loop().time()
        try:
            yield
        finally:
            del self._started[ticket]
            self._busy -= 1
            self._places.release()

    def _is_slow(self) -> bool:
        if not self._started:
            return False
        oldest = min(self._started.values())
        return asyncio.get_running_loop().time() - oldest >= self._slow
