"""What ``python -m bot`` and ``python -m bot.worker`` share: settings, logging, the run."""

from __future__ import annotations

import asyncio
import sys
from collections.abc import Callable, Coroutine
from typing import Any

from pydantic import ValidationError

from bot.config import Settings
from bot.logs import setup_logging
from bot.storage.secrets import SecretKeyMismatch


def start(run: Callable[[Settings], Coroutine[Any, Any, None]], *, no_token: str) -> int:
    """Read the settings, set up logging and run; 2 when the settings are unusable."""
    try:
        settings = Settings()
    except ValidationError as error:
        print(f"Invalid settings:\n{error}", file=sys.stderr)
        return 2
    setup_logging(settings)
    if settings.bot_token is None:
        print(no_token, file=sys.stderr)
        return 2
    try:
        asyncio.run(run(settings))
    except SecretKeyMismatch as error:
        print(f"Cannot start: {error}", file=sys.stderr)
        return 2
    return 0
