"""One account's line to the provider: building requests, timeouts, retries, and hooks.

:class:`Transport` turns ``(action, params)`` into a GET on the shared ``httpx.AsyncClient`` and
the answer into an :class:`~bot.provider.parsing.Answer` or a typed error; it knows nothing of
what the actions mean beyond which of them only read.

Retries: reads are retried with backoff on transient failures. Calls that spend money or change
an activation are retried only when the request certainly did not run (the connection failed);
after an ambiguous outcome (timeout, 5xx, garbage, ERROR_SQL, a 429) the caller must look at the
provider's state instead of buying again.

A 429 (or ``RATE_LIMIT``) on a paid call counts as ambiguous: the protocol publishes no rate
limits or their semantics, only HeroSMS documents the answer at all, and a 429 may come from
a proxy or gateway behind which the purchase already ran (the emulator's ``rate_limit`` fault
with ``when="after"`` is exactly that). Reading it as "refused" and retrying once bought four
numbers for one tap; reading it as "unknown" costs one look at the active list.
"""

from __future__ import annotations

import asyncio
import hashlib
import random
import time
from collections.abc import Awaitable, Callable, Mapping
from typing import Any, TypedDict

import httpx
from pydantic import SecretStr

from bot.provider.errors import (
    ProviderConnectError,
    ProviderError,
    ProviderTimeout,
    RateLimited,
    TransportError,
)
from bot.provider.fast_http import ReadsThroughAiohttp
from bot.provider.lane import LANE_CALLS, ProviderBusy, ProviderLane
from bot.provider.parsing import Answer, read_answer

#: Actions that only read: safe to repeat after any failure.
READ_ACTIONS = frozenset(
    {
        "getBalance",
        "getBalanceAndCashBack",
        "getNumbersStatus",
        "getTopCountriesByService",
        "getOperators",
        "getActiveActivations",
        "getStatus",
        "getHistory",
        "getListOfTopCountriesByService",
        "getIncomingCallStatus",
        "getPrices",
        "getPricesVerification",
        "getCountries",
        "getServicesList",
        "checkExtraActivation",
        "getOutgoingCalls",
        "getRentServicesAndCountries",
        "getRentStatus",
        "getRentList",
        "getContinueRentPriceNumber",
        "getDomains",
        "getMailHistory",
        "checkMailActivation",
    }
)

#: Actions that spend money. Never repeated after an ambiguous outcome.
PAID_ACTIONS = frozenset(
    {
        "getNumber",
        "getNumberV2",
        "getMultiServiceNumber",
        "getAdditionalService",
        "getExtraActivation",
        "getRentNumber",
        "continueRentNumber",
        "buyMailActivation",
        "reorderMailActivation",
        "buyPartnerProduct",
    }
)

DEFAULT_TIMEOUT = httpx.Timeout(15.0, connect=5.0)

#: Called after every request with (action, outcome, seconds); outcome is "ok" or an error
#: class name. Used for metrics and per-key budgets; must not raise.
RequestObserver = Callable[[str, str, float], None]
#: Awaited before every request (a per-key rate budget, for example).
RequestGate = Callable[[], Awaitable[None]]


#: httpcore walks every pooled connection (a readability poll on each idle one, and a count
#: of all of them per connection) twice per request. A provider's lane lets LANE_CALLS
#: requests in flight per process, so more connections than that are never used at once: the
#: pool is held to that and the walk stays short (measured on loopback: ~0.2-0.3 ms more CPU
#: per request with 50 idle connections than with one). A process has two lanes per provider
#: (the users' and the worker's, see ProviderHub.background) sharing the pool: it holds both.
POOL_LIMITS = httpx.Limits(max_connections=2 * LANE_CALLS, max_keepalive_connections=LANE_CALLS)


def build_http_client(**overrides: Any) -> httpx.AsyncClient:
    """The HTTP client of one provider (or of all without one of their own)."""
    options: dict[str, Any] = {
        "timeout": DEFAULT_TIMEOUT,
        "limits": POOL_LIMITS,
        "headers": {"User-Agent": "sms-activate-telegram-bot/0.1"},
        "follow_redirects": True,
    }
    options.update(overrides)
    if "transport" not in options:
        # Reads through aiohttp (see fast_http.py): httpcore cost a fifth of the worker's CPU.
        options["transport"] = ReadsThroughAiohttp(READ_ACTIONS, options["limits"])
    return httpx.AsyncClient(**options)


def fingerprint(api_key: str) -> str:
    return hashlib.sha256(api_key.encode()).hexdigest()[:16]


class TransportOptions(TypedDict, total=False):
    """How a transport retries and reports (see Transport)."""

    read_retries: int
    backoff: float
    observer: RequestObserver | None
    gate: RequestGate | None
    lane: ProviderLane | None


class Transport:
    """Sends one account's requests; cheap to make, the ``httpx.AsyncClient`` is shared."""

    def __init__(
        self,
        http: httpx.AsyncClient,
        endpoint: str,
        api_key: SecretStr | str,
        *,
        read_retries: int = 3,
        backoff: float = 0.25,
        observer: RequestObserver | None = None,
        gate: RequestGate | None = None,
        lane: ProviderLane | None = None,
    ) -> None:
        self._http = http
        self._endpoint = endpoint
        self._key = api_key if isinstance(api_key, SecretStr) else SecretStr(api_key)
        self._read_retries = read_retries
        self._backoff = backoff
        self._observer = observer
        self._gate = gate
        self._lane = lane

    def __repr__(self) -> str:
        return f"Transport({self._endpoint!r}, api_key=SecretStr('**********'))"

    @property
    def endpoint(self) -> str:
        return self._endpoint

    @property
    def key_fingerprint(self) -> str:
        """Names the key without revealing it (to tell whether it changed)."""
        return fingerprint(self._key.get_secret_value())

    async def call(self, action: str, **params: Any) -> Answer:
        """One action, retried as far as is safe for it (see the module docstring)."""
        repeatable = action in READ_ACTIONS
        attempt = 0
        while True:
            try:
                return await self._send(action, params)
            except ProviderError as exc:
                certainly_not_run = isinstance(exc, ProviderConnectError)
                # A full lane stays full for a while: refuse now rather than queue again.
                may_retry = (
                    exc.transient
                    and (repeatable or certainly_not_run)
                    and not isinstance(exc, ProviderBusy)
                )
                if not may_retry or attempt >= self._read_retries:
                    raise
                delay = self._backoff * (2**attempt) * (0.5 + random.random())
                if isinstance(exc, RateLimited) and exc.retry_after is not None:
                    delay = max(delay, exc.retry_after)
                attempt += 1
                await asyncio.sleep(delay)

    async def _send(self, action: str, params: Mapping[str, Any]) -> Answer:
        query = {"api_key": self._key.get_secret_value(), "action": action}
        query.update({k: str(v) for k, v in params.items() if v is not None})
        if self._gate is not None:
            await self._gate()
        started = time.monotonic()
        outcome = "ok"
        try:
            try:
                if self._lane is None:
                    response = await self._http.get(self._endpoint, params=query)
                else:
                    async with self._lane.place(action):
                        response = await self._http.get(self._endpoint, params=query)
            except (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout) as exc:
                # The request never left: no part of it ran at the provider.
                raise ProviderConnectError(
                    f"cannot reach the provider ({type(exc).__name__})", action=action
                ) from None
            except httpx.TimeoutException as exc:
                raise ProviderTimeout(
                    f"the provider did not answer in time ({type(exc).__name__})", action=action
                ) from None
            except httpx.HTTPError as exc:
                raise TransportError(
                    f"the connection to the provider failed ({type(exc).__name__})",
                    action=action,
                ) from None
            return read_answer(action, response.status_code, response.text)
        except ProviderError as exc:
            if exc.failure:
                outcome = type(exc).__name__
            raise
        finally:
            if self._observer is not None:
                self._observer(action, outcome, time.monotonic() - started)
