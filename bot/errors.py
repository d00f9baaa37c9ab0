"""The bot's own domain errors (the provider's live in ``bot.provider.errors``)."""

from __future__ import annotations

from enum import StrEnum


class BotError(Exception):
    """An expected failure the errors router explains to the user."""


class NoKeyConnected(BotError):
    """The command needs a provider key and the user has none (or it cannot be read)."""


class ProviderUnavailable(BotError):
    """The user's provider is no longer offered by this bot (SMS_PROVIDERS changed)."""

    def __init__(self, provider: str) -> None:
        super().__init__(provider)
        self.provider = provider


class Item(StrEnum):
    """What a button names, for the words of the refusal."""

    NUMBER = "number"  # an activation or a rent
    MAILBOX = "mailbox"


class StaleButton(BotError):
    """A button that names something the user does not own, or that no longer exists."""


class NotYours(StaleButton):
    """The named object is not in the presser's own lists (forged, or long forgotten).

    Raised before anything is asked of the provider.
    """

    def __init__(self, item: Item) -> None:
        super().__init__(item)
        self.item = item


class OtherAccount(StaleButton):
    """The object was bought with a provider account the user has since removed."""

    def __init__(self, item: Item) -> None:
        super().__init__(item)
        self.item = item


class UnknownAccount(StaleButton):
    """The button names a provider account that is not one of the presser's (forged, or
    removed since)."""
