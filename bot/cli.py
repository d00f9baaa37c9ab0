"""What ``python -m bot`` and ``python -m bot.worker`` share: help, settings, logging, the run,
and one clear line (not a traceback) for each way a start can fail.

Nothing here loads aiogram (the worker runs without it): Telegram is reached through
``bot.botapi``, and the bot's own command builds its aiogram ``Bot`` in what it serves.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import signal
import sys
from collections.abc import Awaitable, Callable, Coroutine
from typing import Any, TypeVar

from pydantic import ValidationError

from bot.botapi import TokenRejected, reach_telegram
from bot.config import Settings
from bot.logs import setup_logging
from bot.resources import Resources, close_resources, open_resources
from bot.storage.secrets import SecretKeyMismatch

T = TypeVar("T")
#: What a command does once Telegram answers; it returns when the command is to stop.
Serve = Callable[[Resources], Coroutine[Any, Any, None]]

SETTINGS_HELP = """\
Settings come from the environment and from .env in the current directory. Every setting
is listed with its default in README.md ("Settings") and in .env.example. The first ones:

  BOT_TOKEN          the bot's token from @BotFather (required)
  SMS_PROVIDERS      the providers users may choose (SANDBOX=1 adds two demo ones)
  REDIS_URL          the Redis to use; unset: an embedded Redis under DATA_DIR/redis,
                     shared by the bot and the workers of this host that use the same DATA_DIR
  DATA_DIR           generated secret key, embedded Redis, sandbox state (default ./data)
  SECRET_KEY         encrypts the stored API keys (unset: generated in DATA_DIR)
  TELEGRAM_API_BASE  another Bot API server (default https://api.telegram.org)
  LOG_LEVEL, LOG_FORMAT

Exit status: 0 when stopped (SIGTERM, Ctrl-C), 2 when the settings or BOT_TOKEN are unusable.
"""


def parse_arguments(prog: str, description: str, settings_help: str) -> None:
    """``--help`` prints what the command does and the settings that matter, and exits 0."""
    parser = argparse.ArgumentParser(
        prog=prog,
        description=description,
        epilog=settings_help + SETTINGS_HELP,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.parse_args()


def start(
    serve: Serve,
    *,
    prog: str,
    description: str,
    settings_help: str = "",
    no_token: str,
) -> int:
    """Read the settings, set up logging and ``run``; 2 when the settings are unusable."""
    parse_arguments(prog, description, settings_help)
    try:
        settings = Settings()
    except ValidationError as error:
        print(f"Invalid settings:\n{error}", file=sys.stderr)
        return 2
    setup_logging(settings)
    if settings.bot_token is None:
        print(no_token, file=sys.stderr)
        return 2
    if not token_shaped(settings.bot_token.get_secret_value()):
        print(
            "BOT_TOKEN is malformed: it looks like 123456789:AAE... (ask @BotFather for it)",
            file=sys.stderr,
        )
        return 2
    try:
        asyncio.run(run(settings, serve))
    except TokenRejected as error:
        print(f"Cannot start: {error}. Check BOT_TOKEN (ask @BotFather).", file=sys.stderr)
        return 2
    except SecretKeyMismatch as error:
        print(f"Cannot start: {error}", file=sys.stderr)
        return 2
    return 0


def token_shaped(token: str) -> bool:
    """``123456789:AAE...``, as @BotFather gives it (the check aiogram makes before a call)."""
    bot_id, colon, secret = token.partition(":")
    return bool(colon and bot_id.isdigit() and secret) and not any(c.isspace() for c in token)


async def run(settings: Settings, serve: Serve) -> None:
    """Open the resources, wait until Telegram answers, ``serve``, close them."""
    resources = await open_resources(settings)
    try:
        # Telegram unreachable at start: a line per try and a growing delay, until stopped.
        if await unless_stopped(reach_telegram(resources.bot_api)) is None:
            return
        await serve(resources)
    finally:
        await close_resources(resources)


def stop_event() -> asyncio.Event:
    """Set by SIGTERM or SIGINT: what a command waits on to stop cleanly."""
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    return stop


async def unless_stopped(awaitable: Awaitable[T]) -> T | None:
    """``awaitable``'s result, or None when SIGTERM or SIGINT comes first (it is cancelled).

    For what a start waits on before the run installs its own signal handling.
    """
    task = asyncio.ensure_future(awaitable)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    signals = (signal.SIGTERM, signal.SIGINT)
    for sig in signals:
        loop.add_signal_handler(sig, stop.set)
    stopped = asyncio.ensure_future(stop.wait())
    try:
        await asyncio.wait([task, stopped], return_when=asyncio.FIRST_COMPLETED)
    finally:
        for sig in signals:
            loop.remove_signal_handler(sig)
        stopped.cancel()
        if not task.done():
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
    return None if task.cancelled() else task.result()
