"""A small Bot API client on httpx, for processes that must not load aiogram.

The worker only sends and edits messages, yet importing any aiogram module builds about 300
pydantic models (some 150 MB of memory per process). This client covers the few methods the
worker calls and raises errors classified the way aiogram's ``check_response`` classifies
them, so the worker's retry logic reads the same with either client.
"""

from __future__ import annotations

import asyncio
import json
import logging
from dataclasses import dataclass
from typing import Any

import httpx

from bot.keyboards.markup import Keyboard
from bot.provider.fast_http import AiohttpTransport

log = logging.getLogger(__name__)

#: Where the Bot API is when TELEGRAM_API_BASE is not set.
TELEGRAM_API = "https://api.telegram.org"

#: 400 descriptions that only mean the message changed or vanished meanwhile (a double press,
#: a user who deleted it): nothing to report. aiogram's errors are read with it too
#: (``bot.telegram.is_harmless``).
_HARMLESS = (
    "message is not modified",
    "message to edit not found",
    "message to delete not found",
    "message can't be edited",
    "message can't be deleted",
)

#: What every message the bot sends looks like (aiogram's defaults in the bot process).
_MESSAGE_DEFAULTS: dict[str, Any] = {
    "parse_mode": "HTML",
    "link_preview_options": {"is_disabled": True},
}


class TelegramError(Exception):
    """Telegram refused a call; ``message`` is its description."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class TelegramNetworkError(TelegramError):
    """No usable answer: the connection failed, timed out, or the body is not the Bot API's."""


class TelegramRetryAfter(TelegramError):
    def __init__(self, message: str, retry_after: float) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class TelegramMigrateToChat(TelegramError):
    def __init__(self, message: str, migrate_to_chat_id: int) -> None:
        super().__init__(message)
        self.migrate_to_chat_id = migrate_to_chat_id


class TelegramBadRequest(TelegramError):
    """400: a wrong call, or a message that changed meanwhile (see ``is_harmless``)."""


class TelegramUnauthorized(TelegramError):
    """401: the token is wrong or revoked; retrying cannot help."""


class TelegramForbidden(TelegramError):
    """403: the user blocked the bot, or never wrote to it."""


class TelegramNotFound(TelegramError):
    """404: no such method, or a malformed token."""


class TelegramConflict(TelegramError):
    """409: another process polls or a webhook is set."""


class TelegramServerError(TelegramError):
    """5xx: Telegram is down or restarting; a send may still have arrived."""


_BY_STATUS: dict[int, type[TelegramError]] = {
    400: TelegramBadRequest,
    401: TelegramUnauthorized,
    403: TelegramForbidden,
    404: TelegramNotFound,
    409: TelegramConflict,
}


def is_harmless(message: str) -> bool:
    """True for a 400 that only reports a race with the user (see ``_HARMLESS``)."""
    return any(phrase in message for phrase in _HARMLESS)


@dataclass(frozen=True, slots=True)
class BotUser:
    id: int
    username: str | None
    first_name: str


class BotApi:
    """The Bot API methods the worker calls, over one pooled httpx client."""

    def __init__(
        self,
        token: str,
        base: str = TELEGRAM_API,
        *,
        transport: httpx.AsyncBaseTransport | None = None,
        timeout: float = 30.0,
    ) -> None:
        self._token = token
        self._base = base.rstrip("/")
        # Through aiohttp, as aiogram sends: httpx's own transport spends about ten times
        # the CPU per request (bot/provider/fast_http.py), and aiohttp never sends a POST
        # twice by itself, so a push is not repeated behind the notifier's back. The URL
        # carries the token: httpx logs it at INFO, which bot.logs silences.
        limits = httpx.Limits(
            max_connections=100, max_keepalive_connections=20, keepalive_expiry=30.0
        )
        self._client = httpx.AsyncClient(
            transport=transport or AiohttpTransport(limits), timeout=timeout, trust_env=False
        )

    def __repr__(self) -> str:
        return f"BotApi(base={self._base!r})"

    @property
    def base(self) -> str:
        return self._base

    async def call(self, method: str, params: dict[str, Any]) -> Any:
        """``result`` of the call, or the matching ``TelegramError``."""
        body = {name: value for name, value in params.items() if value is not None}
        try:
            response = await self._client.post(
                f"{self._base}/bot{self._token}/{method}", json=body
            )
        except httpx.TransportError as error:
            # httpx errors may quote the URL, token included: keep only a scrubbed summary,
            # and drop the cause so no traceback prints it either.
            detail = str(error).replace(self._token, "<token>")
            summary = f"{type(error).__name__}: {detail}" if detail else type(error).__name__
            raise TelegramNetworkError(f"{method}: {summary}") from None
        return _result(method, response.status_code, response.content)

    async def send_message(
        self,
        chat_id: int,
        text: str,
        *,
        reply_markup: Keyboard | None = None,
        reply_to: int | None = None,
    ) -> int:
        """Send ``text`` (HTML) and return the new message's id."""
        reply = None
        if reply_to is not None:
            # A reply to a message the user deleted is still worth sending.
            reply = {"message_id": reply_to, "allow_sending_without_reply": True}
        sent = await self.call(
            "sendMessage",
            {
                "chat_id": chat_id,
                "text": text,
                **_MESSAGE_DEFAULTS,
                "reply_markup": reply_markup.to_api() if reply_markup is not None else None,
                "reply_parameters": reply,
            },
        )
        return int(sent["message_id"])

    async def edit_message_text(
        self, chat_id: int, message_id: int, text: str, *, reply_markup: Keyboard | None = None
    ) -> None:
        """Replace a message's text; without ``reply_markup`` Telegram drops its buttons."""
        await self.call(
            "editMessageText",
            {
                "chat_id": chat_id,
                "message_id": message_id,
                "text": text,
                **_MESSAGE_DEFAULTS,
                "reply_markup": reply_markup.to_api() if reply_markup is not None else None,
            },
        )

    async def get_me(self) -> BotUser:
        me = await self.call("getMe", {})
        return BotUser(id=int(me["id"]), username=me.get("username"), first_name=me["first_name"])

    async def aclose(self) -> None:
        await self._client.aclose()


def _result(method: str, status: int, content: bytes) -> Any:
    """Read the Bot API's envelope, in the order of aiogram's ``check_response``."""
    try:
        envelope = json.loads(content)
    except ValueError:
        envelope = None
    if not isinstance(envelope, dict) or "ok" not in envelope:
        # Not Telegram speaking: a proxy or load balancer in front of it. A 5xx there is
        # Telegram being unavailable, like any 5xx; anything else is a broken link.
        what = f"{method}: HTTP {status} with a body that is not a Bot API answer"
        if status >= 500:
            raise TelegramServerError(what)
        raise TelegramNetworkError(what)
    if 200 <= status <= 226 and envelope["ok"]:
        return envelope.get("result")
    message = str(envelope.get("description") or f"HTTP {status}")
    parameters = envelope.get("parameters")
    if not isinstance(parameters, dict):
        parameters = {}
    if parameters.get("retry_after"):
        raise TelegramRetryAfter(message, float(parameters["retry_after"]))
    if parameters.get("migrate_to_chat_id"):
        raise TelegramMigrateToChat(message, int(parameters["migrate_to_chat_id"]))
    if status in _BY_STATUS:
        raise _BY_STATUS[status](message)
    if status >= 500:
        raise TelegramServerError(message)
    raise TelegramError(message)


class TokenRejected(Exception):
    """Telegram refuses BOT_TOKEN: retrying cannot help."""


async def reach_telegram(
    api: BotApi, *, first_delay: float = 1.0, max_delay: float = 60.0
) -> BotUser:
    """The bot's own user, once Telegram answers.

    Unreachable (no network, Telegram down, a wrong TELEGRAM_API_BASE): one line per try,
    and tries again after a delay that doubles up to ``max_delay``, until cancelled.
    """
    delay = first_delay
    while True:
        try:
            return await api.get_me()
        except (TelegramUnauthorized, TelegramNotFound) as error:
            message = f"BOT_TOKEN is rejected by Telegram at {api.base}: {error.message}"
            raise TokenRejected(message) from None
        except (TelegramNetworkError, TelegramServerError, TelegramRetryAfter) as error:
            log.warning(
                "Telegram cannot be reached at %s (%s); trying again in %.0f s",
                api.base,
                error.message,
                delay,
            )
        await asyncio.sleep(delay)
        delay = min(delay * 2, max_delay)
