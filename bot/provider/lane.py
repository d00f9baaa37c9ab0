"""One provider's lane: how many requests the bot has waiting on that provider at once.

A provider that hangs keeps every request to it for its full timeout. Without a bound, its
users' updates would pile up there and hold the capacity every other provider's users need:
the dispatcher's updates in flight, connections. A lane admits ``calls`` requests at once; a
few more may wait briefly for a free place, and anything beyond is refused at once with
:class:`ProviderBusy`, so a hung provider holds a bounded share and its users hear "busy"
instead of silence.

How many may wait follows how fast places turn over. A place freed ``r`` times a second in
the last ``window`` seconds serves about ``r × wait`` waiters within their ``wait``: that many
may queue (never fewer than ``waiting``). A provider answering in milliseconds serves a burst
of any size; one that stops answering frees no place, so within one window only ``waiting``
more may queue. Judging by turnover rather than by how old the oldest request is means a
provider that has just hung is not taken for a healthy one while its first requests age.

The worker polls through lanes of its own (``ProviderHub.background``): its steady polling
never takes the places a user's /buy needs.
"""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from bot.provider.errors import ProviderConnectError

#: Requests to one provider in flight at once, per process and lane.
LANE_CALLS = 16
#: Requests that may always wait for a place, and for how long.
LANE_WAITING = 4
LANE_WAIT = 2.0
#: Over how many seconds the lane's turnover is counted.
LANE_WINDOW = 1.0


class ProviderBusy(ProviderConnectError):
    """Not sent: as many requests to this provider as the bot allows are already waiting for
    it (it is slow or hung), so this one is refused at once instead of queueing too."""


class ProviderLane:
    def __init__(
        self,
        calls: int = LANE_CALLS,
        waiting: int = LANE_WAITING,
        wait: float = LANE_WAIT,
        window: float = LANE_WINDOW,
    ) -> None:
        self._places = asyncio.Semaphore(calls)
        self._capacity = calls
        self._waiting_limit = waiting
        self._wait = wait
        self._window = window
        self._waiting = 0
        self._busy = 0
        self._freed: deque[float] = deque()  # when places were freed, within the window

    @property
    def in_flight(self) -> int:
        """Requests holding a place now."""
        return self._busy

    @property
    def capacity(self) -> int:
        """What a hung provider can hold at most: its places and the waiters it still admits."""
        return self._capacity + self._waiting_limit

    def may_wait(self) -> int:
        """How many requests may wait for a place now, given how fast places turn over."""
        now = asyncio.get_running_loop().time()
        while self._freed and now - self._freed[0] > self._window:
            self._freed.popleft()
        served_in_wait = int(len(self._freed) / self._window * self._wait)
        return max(self._waiting_limit, served_in_wait)

    @asynccontextmanager
    async def place(self, action: str) -> AsyncIterator[None]:
        """Hold a place for one request, or raise ``ProviderBusy`` (nothing was sent)."""
        if self._places.locked():
            if self._waiting >= self.may_wait():
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
        try:
            yield
        finally:
            self._busy -= 1
            self._freed.append(asyncio.get_running_loop().time())
            self._places.release()
