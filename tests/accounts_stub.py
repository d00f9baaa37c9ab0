"""A stand-in for the account h7's multi-account model hands the offers screen: today's
``UserAccount`` plus ``account_id`` and ``label`` (tests only; bot/accounts.py is h7's)."""

from __future__ import annotations

from dataclasses import dataclass

from bot.provider.client import ProviderClient
from bot.provider.presets import Feature


@dataclass(frozen=True)
class LabelledAccount:
    account_id: str
    label: str
    provider: str
    client: ProviderClient
    features: frozenset[Feature]
    #: Names the account's key; empty: a key of its own (the id stands for it).
    key: str = ""

    @property
    def identity(self) -> str:
        return f"{self.provider}:{self.key or self.account_id}"

    def supports(self, feature: Feature) -> bool:
        return feature in self.features
