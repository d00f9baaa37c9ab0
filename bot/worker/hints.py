"""Provider webhooks are hints, the provider is the truth.

An event a provider POSTs (an SMS for an activation or a rent) never writes a code or an SMS
by itself: it makes the bot read that object from the provider at once, one request per
event, and record what the provider says. A forged event can at most cause that one read;
nothing it claims reaches a chat or changes a card (which would hide Cancel and stop the
auto-cancel refund), and the caller learns nothing about which ids exist.
"""

from __future__ import annotations

import logging

from bot.accounts import Accounts
from bot.provider import errors as pe
from bot.services.rents import RentService
from bot.storage.records import make_ref
from bot.worker.activations import ActivationPoller
from bot.worker.context import connected

log = logging.getLogger(__name__)


class ProviderHints:
    def __init__(
        self, activations: ActivationPoller, rents: RentService, accounts: Accounts
    ) -> None:
        self._activations = activations
        self._rents = rents
        self._accounts = accounts

    async def activation(self, provider: str, activation_id: int) -> None:
        """Read the activation's status from the provider now (if the bot follows it)."""
        ref = make_ref(provider, activation_id)
        if await self._activations.service.activations.get(ref) is None:
            return
        try:
            await self._activations.poll_fresh(ref, activation_id)
        except pe.ProviderError as error:
            log.info("webhook hint not read (%s); the next poll will", type(error).__name__)

    async def rent(self, provider: str, rent_id: int) -> None:
        """Read the rent's messages from the provider now (if the bot follows it)."""
        rent = await self._rents.rents.get(make_ref(provider, rent_id))
        if rent is None:
            return
        account = await connected(self._accounts, rent.user_id)
        if account is None or account.provider != provider:
            return
        try:
            await self._rents.refresh(account, rent)
        except pe.ProviderError as error:
            log.info("webhook hint not read (%s); the next poll will", type(error).__name__)
