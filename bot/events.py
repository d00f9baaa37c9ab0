"""What the worker reports as it goes: a typed protocol, implemented by the process's metrics
(``bot.metrics.Metrics``) and by benchmarks that time deliveries."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal, Protocol

from bot.storage.activations import Activation

ItemKind = Literal["activation", "rent", "mail"]


@dataclass(frozen=True, slots=True)
class Delivery:
    """One code, rent SMS or letter that Telegram took."""

    kind: ItemKind
    ref: str
    index: int  # which of the item's codes, SMS or letters
    learned_at: float | None  # when the bot learned of it, where that is known
    at: float


class WorkerEvents(Protocol):
    def polled(self, kind: str) -> None: ...

    def pushed(self, delivery: Delivery) -> None: ...

    def auto_cancelled(self, activation: Activation) -> None: ...


class NoEvents:
    """For a worker nobody watches (tests, tools)."""

    def polled(self, kind: str) -> None:
        pass

    def pushed(self, delivery: Delivery) -> None:
        pass

    def auto_cancelled(self, activation: Activation) -> None:
        pass
