"""The door: which updates of a user are let in, decided the moment they arrive.

Before any lock and without awaiting anything (so a chat's updates still reach its lock in
Telegram's order), each message or tap of a user is counted in that user's window:

* beyond ``rate`` per ``window`` seconds (THROTTLE_RATE, THROTTLE_WINDOW) it is turned away;
* beyond ``per_user`` of the user's updates being handled at once, it is turned away too:
  a flood of slow commands would otherwise queue behind the user's chat lock, each update
  holding one of the places every other user's updates need.

Counting on arrival, in memory, cuts a flood before it costs a lock, a Redis round trip or a
place in flight. The count is per bot process: with several webhook replicas behind a balancer
a user may get up to ``rate`` per replica. The user hears "slow down" once per window, however
many updates are turned away in it.
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass

#: Updates of one user handled at once by this process; more are turned away.
PER_USER_IN_FLIGHT = 4
#: Windows kept before the ones already over are swept out.
_SWEEP_AT = 10_000


@dataclass(slots=True)
class _Window:
    start: float
    arrived: int = 0
    warned: bool = False


class Door:
    def __init__(
        self,
        *,
        rate: int = 8,
        window: float = 4.0,
        per_user: int = PER_USER_IN_FLIGHT,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._rate = rate
        self._window = window
        self._per_user = per_user
        self._clock = clock
        self._windows: dict[int, _Window] = {}
        self._in_flight: Counter[int] = Counter()

    def enter(self, user_id: int) -> bool:
        """Count an arrival; True when the update may go in (then ``leave`` it once done)."""
        now = self._clock()
        window = self._windows.get(user_id)
        if window is None or now - window.start >= self._window:
            if window is None and len(self._windows) >= _SWEEP_AT:
                self._sweep(now)
            window = self._windows[user_id] = _Window(now)
        window.arrived += 1
        if window.arrived > self._rate or self._in_flight[user_id] >= self._per_user:
            return False
        self._in_flight[user_id] += 1
        return True

    def leave(self, user_id: int) -> None:
        self._in_flight[user_id] -= 1
        if self._in_flight[user_id] <= 0:
            del self._in_flight[user_id]

    def warn(self, user_id: int) -> bool:
        """Whether a turned-away update should say "slow down": the first in each window."""
        window = self._windows.get(user_id)
        if window is None or window.warned:
            return False
        window.warned = True
        return True

    def in_flight(self, user_id: int) -> int:
        return self._in_flight[user_id]

    def _sweep(self, now: float) -> None:
        self._windows = {
            user: window
            for user, window in self._windows.items()
            if now - window.start < self._window or user in self._in_flight
        }
