"""Stored records as tests build them: what a test does not name is filled in the same way."""

from __future__ import annotations

from typing import Any

from bot.storage.activations import Activation
from bot.storage.mails import Mailbox
from bot.storage.rents import Rent

NOW = 1_800_000_000.0


def _fields(record_id: int, user_id: int, at: float, **named: Any) -> dict[str, Any]:
    """The fields every record has, then the kind's own (defaults overridden by the test)."""
    return {"id": record_id, "user_id": user_id, "provider": "sandbox", "created_at": at, **named}


def activation_record(
    activation_id: int, user_id: int = 1, at: float = NOW, **extra: Any
) -> Activation:
    defaults = {"service": "tg", "phone": "79990001122", "expires_at": at + 1200}
    return Activation(**_fields(activation_id, user_id, at, **{**defaults, **extra}))


def mailbox_record(mail_id: int, user_id: int = 1, at: float = NOW, **extra: Any) -> Mailbox:
    defaults = {
        "site": "example.com",
        "email": "a@example.org",
        "domain": "example.org",
        "mail_type": 0,
        "expires_at": at + 1800,
    }
    return Mailbox(**_fields(mail_id, user_id, at, **{**defaults, **extra}))


def rent_record(rent_id: int, user_id: int = 1, at: float = NOW, **extra: Any) -> Rent:
    defaults = {
        "service": "full",
        "phone": "79990001122",
        "term_started_at": at,
        "ends_at": at + 4 * 3600,
    }
    return Rent(**_fields(rent_id, user_id, at, **{**defaults, **extra}))
