"""Injected failures: lost answers, 5xx pages, garbage, ERROR_SQL and rate limits.

``when="before"`` fails the request without carrying it out; ``"after"`` carries it out and then
loses or replaces the answer, which is how a client's "never repeat a paid call after an
ambiguous outcome" rule gets tested. Decisions come from a generator seeded by the emulator's
seed and re-seeded by every :meth:`Faults.configure`, so a test sees the same sequence each run.
"""

from __future__ import annotations

import random
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Literal

__all__ = ["FAULT_KINDS", "FaultPlan", "Faults", "When"]

FAULT_KINDS = ("timeout", "http_5xx", "garbage", "error_sql", "rate_limit")
When = Literal["before", "after", "random"]


@dataclass(frozen=True, slots=True)
class FaultPlan:
    """What happens to one request: ``kind`` is None for a healthy answer."""

    kind: str | None
    when: Literal["before", "after"]
    latency: float


_HEALTHY = FaultPlan(None, "before", 0.0)

_GARBAGE = (
    "<!DOCTYPE html><html><head><title>Just a moment...</title></head><body>Checking your "
    "browser before accessing the site.</body></html>",
    '{"status":"succ',
    "\ufffd\ufffdPK\x03\x04\x14",
    "",
    "ACCESS_NUM",
)

_5XX = {
    500: "Internal Server Error",
    502: "Bad Gateway",
    503: "Service Unavailable",
    504: "Gateway Time-out",
}


class Faults:
    def __init__(self, seed: int) -> None:
        self._seed = seed
        self._rng = random.Random(f"{seed}-faults")
        self.rate = 0.0
        self.kinds: tuple[str, ...] = ()
        self.latency = 0.0
        self.when: When = "before"
        self.actions: frozenset[str] | None = None

    def configure(
        self,
        rate: float,
        kinds: Sequence[str],
        latency: float = 0.0,
        when: When = "before",
        actions: Iterable[str] | None = None,
    ) -> None:
        """Fail ``rate`` of the matching requests with one of ``kinds``.

        ``latency`` delays every matching request, failed or not; ``actions`` limits all of it to
        those action names (None: every action).
        """
        unknown = set(kinds) - set(FAULT_KINDS)
        if unknown:
            raise ValueError(f"unknown fault kinds {sorted(unknown)}; known: {FAULT_KINDS}")
        if not 0.0 <= rate <= 1.0:
            raise ValueError("rate must be between 0 and 1")
        if rate > 0 and not kinds:
            raise ValueError("a positive rate needs at least one fault kind")
        if when not in ("before", "after", "random"):
            raise ValueError("when must be 'before', 'after' or 'random'")
        if latency < 0:
            raise ValueError("latency cannot be negative")
        self.rate = rate
        self.kinds = tuple(kinds)
        self.latency = latency
        self.when = when
        self.actions = frozenset(actions) if actions is not None else None
        self._rng = random.Random(f"{self._seed}-faults")

    def clear(self) -> None:
        self.configure(0.0, ())

    @property
    def active(self) -> bool:
        return self.rate > 0 or self.latency > 0

    def plan(self, action: str) -> FaultPlan:
        if not self.active or (self.actions is not None and action not in self.actions):
            return _HEALTHY
        if self.rate <= 0 or self._rng.random() >= self.rate:
            return FaultPlan(None, "before", self.latency)
        kind = self._rng.choice(self.kinds)
        when = self.when if self.when != "random" else self._rng.choice(("before", "after"))
        return FaultPlan(kind, when, self.latency)

    def http_error(self) -> tuple[int, str]:
        status = self._rng.choice(sorted(_5XX))
        title = f"{status} {_5XX[status]}"
        return status, (
            f"<html><head><title>{title}</title></head><body><center><h1>{title}</h1></center>"
            "<hr><center>nginx</center></body></html>"
        )

    def garbage(self) -> str:
        return self._rng.choice(_GARBAGE)
