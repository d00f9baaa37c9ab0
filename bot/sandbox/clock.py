"""A movable clock.

Every timer in the emulator (early cancel, expiry, rent end, webhook retries, scheduled SMS) is
evaluated against this clock, so a test can jump twenty minutes ahead in no time.
"""

from __future__ import annotations

import time

__all__ = ["Clock"]


class Clock:
    """Epoch seconds: real time (or a frozen instant) plus an offset moved by :meth:`advance`."""

    def __init__(self, frozen_at: float | None = None, offset: float = 0.0) -> None:
        self._frozen_at = frozen_at
        self._offset = float(offset)

    @property
    def frozen(self) -> bool:
        return self._frozen_at is not None

    @property
    def offset(self) -> float:
        return self._offset

    def now(self) -> float:
        base = self._frozen_at if self._frozen_at is not None else time.time()
        return base + self._offset

    def advance(self, seconds: float) -> float:
        """Move forward; time never runs backwards, because lifecycles assume it does not."""
        if seconds < 0:
            raise ValueError("the clock only moves forward")
        self._offset += seconds
        return self.now()

    def freeze(self, at: float | None = None) -> None:
        self._frozen_at = self.now() if at is None else float(at)
        self._offset = 0.0

    def unfreeze(self) -> None:
        now = self.now()
        self._frozen_at = None
        self._offset = now - time.time()

    def __repr__(self) -> str:
        state = "frozen" if self.frozen else "running"
        return f"Clock({state}, now={self.now():.3f})"
