"""Provider webhooks are hints, the provider is the truth.

An event a provider POSTs (an SMS for an activation or a rent) never writes a code or an SMS
by itself: it makes the bot read that object from the provider at once, one request per
event, and record what the provider says. A forged event can at most cause that one read;
nothing it claims reaches a chat or changes a card (which would hide Cancel and stop the
auto-cancel refund), and the caller learns nothing about which ids exist.

Each event comes through one user's URL (``bot.webhook_urls``) and counts only while that URL
still names the user's account (same provider, same key) and only for an activation or rent
that user owns on that provider; anything else is dropped without a read.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable
from dataclasses import dataclass

from bot.accounts import Accounts, UserAccount
from bot.provider import errors as pe
from bot.services.rents import RentService
from bot.storage.records import make_ref
from bot.webhook_urls import HookClaim, WebhookUrls
from bot.worker.activations import ActivationPoller

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class ProviderHints:
    activations: ActivationPoller
    rents: RentService
    accounts: Accounts
    urls: WebhookUrls

    async def _owner(self, claim: HookClaim) -> UserAccount | None:
        """The URL owner's account the URL names, while it is connected (a removed account or
        a new key retires the URL)."""
        owned = await self.accounts.all(claim.user_id)
        return next((account for account in owned if self.urls.owns(claim, account)), None)

    async def activation(self, claim: HookClaim, activation_id: int) -> None:
        """Read the activation's status from the provider now, if it is the URL owner's."""
        if await self._owner(claim) is None:
            return
        ref = make_ref(claim.provider, activation_id)
        record = await self.activations.service.activations.get(ref)
        if record is not None and record.user_id == claim.user_id:
            await _read_now(self.activations.poll_fresh(ref, activation_id))

    async def rent(self, claim: HookClaim, rent_id: int) -> None:
        """Read the rent's messages from the provider now, if it is the URL owner's."""
        account = await self._owner(claim)
        if account is None:
            return
        rent = await self.rents.rents.get(make_ref(claim.provider, rent_id))
        if rent is not None and rent.user_id == claim.user_id:
            await _read_now(self.rents.refresh(account, rent))


async def _read_now(read: Awaitable[object]) -> None:
    """The hint's one read from the provider; one that fails is left to the regular poll."""
    try:
        await read
    except pe.ProviderError as error:
        log.info("webhook hint not read (%s); the next poll will", type(error).__name__)
