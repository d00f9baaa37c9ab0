"""Webhook deliveries (protocol.md §10): an outbox filled on each SMS, drained over HTTP.

Anything but HTTP 200 is a failure; a failed delivery is tried again at the next offset of the
schedule (counted from the SMS), on the emulator's clock, and given up after the last one.
"""

from __future__ import annotations

import asyncio
import itertools
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

import httpx

from bot.sandbox.clock import Clock

__all__ = ["WebhookAttempt", "WebhookDelivery", "Webhooks"]


@dataclass
class WebhookAttempt:
    at: float
    status: int | None
    error: str | None = None

    @property
    def ok(self) -> bool:
        return self.status == 200


@dataclass
class WebhookDelivery:
    id: int
    kind: Literal["activation", "rent"]
    url: str
    payload: dict[str, Any]
    created_at: float
    next_at: float | None
    attempts: list[WebhookAttempt] = field(default_factory=list)
    delivered: bool = False

    @property
    def given_up(self) -> bool:
        return not self.delivered and self.next_at is None


class Webhooks:
    def __init__(
        self,
        clock: Clock,
        schedule: Sequence[float],
        timeout: float,
        client: httpx.AsyncClient | None = None,
    ) -> None:
        if not schedule:
            raise ValueError("a webhook schedule needs at least one attempt")
        self._clock = clock
        self._schedule = tuple(sorted(schedule))
        self._timeout = timeout
        self.client = client
        self._own_client: httpx.AsyncClient | None = None
        self.deliveries: list[WebhookDelivery] = []
        self._ids = itertools.count(1)

    def enqueue(
        self, kind: Literal["activation", "rent"], url: str, payload: dict[str, Any]
    ) -> WebhookDelivery:
        now = self._clock.now()
        delivery = WebhookDelivery(
            id=next(self._ids),
            kind=kind,
            url=url,
            payload=payload,
            created_at=now,
            next_at=now + self._schedule[0],
        )
        self.deliveries.append(delivery)
        return delivery

    def pending(self) -> list[WebhookDelivery]:
        return [d for d in self.deliveries if d.next_at is not None]

    def due(self) -> list[WebhookDelivery]:
        now = self._clock.now()
        return sorted(
            (d for d in self.deliveries if d.next_at is not None and d.next_at <= now),
            key=lambda d: (d.next_at or 0.0, d.id),
        )

    async def flush(self) -> int:
        """Try every delivery that is due now; returns the number of attempts made."""
        due = self.due()
        if not due:
            return 0
        client = self._client()
        for delivery in due:
            await self._attempt(client, delivery)
        return len(due)

    async def run(self, interval: float = 1.0) -> None:
        while True:
            await self.flush()
            await asyncio.sleep(interval)

    async def aclose(self) -> None:
        if self._own_client is not None:
            await self._own_client.aclose()
            self._own_client = None

    def _client(self) -> httpx.AsyncClient:
        if self.client is not None:
            return self.client
        if self._own_client is None:
            self._own_client = httpx.AsyncClient(timeout=self._timeout)
        return self._own_client

    async def _attempt(self, client: httpx.AsyncClient, delivery: WebhookDelivery) -> None:
        at = self._clock.now()
        try:
            response = await client.post(
                delivery.url, json=delivery.payload, timeout=self._timeout
            )
        except httpx.HTTPError as exc:
            attempt = WebhookAttempt(at, None, f"{type(exc).__name__}: {exc}")
        else:
            attempt = WebhookAttempt(at, response.status_code)
        delivery.attempts.append(attempt)
        if attempt.ok:
            delivery.delivered = True
            delivery.next_at = None
            return
        tried = len(delivery.attempts)
        delivery.next_at = (
            delivery.created_at + self._schedule[tried] if tried < len(self._schedule) else None
        )
