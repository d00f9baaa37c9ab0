"""The bot's own domain errors (the provider's live in ``bot.provider.errors``)."""

from __future__ import annotations


class BotError(Exception):
    """An expected failure the errors router explains to the user."""


class NoKeyConnected(BotError):
    """The command needs a provider key and the user has none (or it cannot be read)."""


class ProviderUnavailable(BotError):
    """The user's provider is no longer offered by this bot (SMS_PROVIDERS changed)."""

    def __init__(self, provider: str) -> None:
        super().__init__(provider)
        self.provider = provider


class StaleButton(BotError):
    """A button that names something the user does not own, or that no longer exists."""
