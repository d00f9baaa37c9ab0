"""An async client for the SMS-Activate ``handler_api.php`` protocol.

One :class:`ProviderClient` is one account (endpoint + API key) over a shared, long-lived
``httpx.AsyncClient``; creating one costs nothing, so the bot makes one per user request.

The client is its action families (:mod:`bot.provider.actions`) over one
:class:`~bot.provider.transport.Transport`, which owns the requests, timeouts and the retry
policy: reads are retried, paid calls only when they certainly did not run.
"""

from __future__ import annotations

from typing import Unpack

import httpx
from pydantic import SecretStr

from bot.provider.actions.account import AccountActions
from bot.provider.actions.activations import ActivationActions
from bot.provider.actions.catalogue import CatalogueActions
from bot.provider.actions.mail import MailActions
from bot.provider.actions.rent import RentActions
from bot.provider.models import RentAction
from bot.provider.transport import (
    DEFAULT_TIMEOUT,
    PAID_ACTIONS,
    READ_ACTIONS,
    RequestGate,
    RequestObserver,
    Transport,
    TransportOptions,
    build_http_client,
    fingerprint,
)

# The client's vocabulary stays importable from here, where callers have always found it.
__all__ = [
    "DEFAULT_TIMEOUT",
    "PAID_ACTIONS",
    "READ_ACTIONS",
    "ProviderClient",
    "RentAction",
    "RequestGate",
    "RequestObserver",
    "build_http_client",
    "fingerprint",
]


class ProviderClient(
    AccountActions, CatalogueActions, ActivationActions, RentActions, MailActions
):
    """Typed access to one provider account."""

    def __init__(
        self,
        http: httpx.AsyncClient,
        endpoint: str,
        api_key: SecretStr | str,
        **options: Unpack[TransportOptions],
    ) -> None:
        self._transport = Transport(http, endpoint, api_key, **options)

    def __repr__(self) -> str:
        return f"ProviderClient({self.endpoint!r}, api_key=SecretStr('**********'))"

    @property
    def endpoint(self) -> str:
        return self._transport.endpoint

    @property
    def key_fingerprint(self) -> str:
        """Names the key without revealing it (to tell whether it changed)."""
        return self._transport.key_fingerprint
