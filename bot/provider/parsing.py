"""Reading provider answers: decide by the body, never by the header or the status code.

SMS-Activate answered HTTP 200 with ``text/html`` for text tokens and JSON alike; compatible
providers (HeroSMS, privatesms) answer real HTTP codes with a token or a ``{"title", ...}``
envelope. So a body is classified by its content first, and the status code is only a hint.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from bot.provider.errors import MalformedResponse, ProviderAPIError, ProviderHTTPError, StateAnswer
from bot.provider.tokens import TOKEN_CLASSES, error_for_token, is_cut_short, is_token

# The coercers moved to bot.provider.values; code outside the package still imports them here.
from bot.provider.values import (
    indexed_values,
    text_list,
    to_bool,
    to_datetime,
    to_decimal,
    to_int,
)

__all__ = [
    "Answer",
    "Body",
    "Token",
    "classify",
    "indexed_values",
    "raise_token",
    "read_answer",
    "text_list",
    "to_bool",
    "to_datetime",
    "to_decimal",
    "to_int",
]

_JSON_ERROR_KEYS = ("message", "msg", "error", "title")
_SUCCESS_STATUSES = {"success", "ok", "true"}
_FAILURE_STATUSES = {"error", "false", "fail", "failed"}


@dataclass(frozen=True, slots=True)
class Token:
    """A text answer: ``WORD`` or ``WORD:payload`` (payload split on the first colon only)."""

    word: str
    payload: str | None


Body = Token | dict[str, Any] | list[Any]


def classify(text: str) -> Body | None:
    """A token, parsed JSON, or None for anything else (garbage, HTML pages)."""
    stripped = text.strip().lstrip("\ufeff")
    if not stripped:
        return None
    if stripped[0] in "{[":
        try:
            value = json.loads(stripped)
        except ValueError:
            return None
        return value if isinstance(value, dict | list) else None
    word, sep, payload = stripped.partition(":")
    word = word.strip()
    if not is_token(word):
        return None
    return Token(word, payload if sep else None)


def _error_from_json(data: dict[str, Any]) -> tuple[str, dict[str, Any]] | None:
    """The error token of a JSON error answer, in any of the shapes providers use.

    ``{"status":"error","message"|"msg"|"error": TOKEN}`` (rent, operators, active list),
    ``{"status":"ERROR","error": TOKEN}`` (mail) and HeroSMS's ``{"title": TOKEN, "info": ...}``.
    A bare success object (getPrices, getCountries) has no ``status`` and none of these keys.
    """
    status = str(data.get("status", "")).strip().lower()
    if status in _SUCCESS_STATUSES:
        return None
    # getIncomingCallStatus uses "status" for a number: only these words mean failure.
    failed = status in _FAILURE_STATUSES
    raw_info = data.get("info")
    info: dict[str, Any] = dict(raw_info) if isinstance(raw_info, dict) else {}
    for key in _JSON_ERROR_KEYS if failed else ("title", "error"):
        value = data.get(key)
        if isinstance(value, str) and value.strip():
            word = value.strip()
            if is_token(word.partition(":")[0]):
                return word, info
            info.setdefault("details", word)
            return "UNKNOWN_ERROR", info
    return ("UNKNOWN_ERROR", info) if failed else None


@dataclass(frozen=True, slots=True)
class Answer:
    """A successfully classified answer that is not an error."""

    body: Body
    raw: str
    status_code: int


def read_answer(action: str, status_code: int, text: str) -> Answer:
    """Classify a body; raise the typed error for error tokens and unusable answers."""
    body = classify(text)
    if body is None:
        if status_code != 200:
            raise ProviderHTTPError(status_code, text[:500], action=action)
        raise MalformedResponse(f"unreadable answer to {action}", raw=text[:500], action=action)
    if isinstance(body, dict):
        error = _error_from_json(body)
        if error is not None:
            token, info = error
            word, _, payload = token.partition(":")
            raise error_for_token(
                word,
                action=action,
                payload=payload or None,
                info=info,
                raw=text[:2000],
                status_code=status_code,
            )
    if isinstance(body, Token) and is_cut_short(body.word):
        # "ACCESS_NUM": an answer cut off in transit, not a new token; worth another try.
        raise MalformedResponse(f"truncated answer to {action}", raw=text[:500], action=action)
    if isinstance(body, Token):
        cls = TOKEN_CLASSES.get(body.word)
        # STATUS_WAIT_CODE and friends are answers to getStatus, not failures.
        if cls is not None and not issubclass(cls, StateAnswer):
            raise error_for_token(
                body.word,
                action=action,
                payload=body.payload,
                raw=text[:2000],
                status_code=status_code,
            )
    if status_code == 429 and not isinstance(body, Token):
        raise error_for_token("RATE_LIMIT", action=action, raw=text[:500], status_code=429)
    return Answer(body=body, raw=text, status_code=status_code)


def raise_token(action: str, answer: Answer) -> ProviderAPIError:
    """The error for a token answer the action did not expect as success."""
    body = answer.body
    if isinstance(body, Token):
        return error_for_token(
            body.word,
            action=action,
            payload=body.payload,
            raw=answer.raw[:2000],
            status_code=answer.status_code,
        )
    return error_for_token("UNEXPECTED_JSON", action=action, raw=answer.raw[:2000])
