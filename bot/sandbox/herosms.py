"""The HeroSMS dialect of errors (protocol.md §12.3): real HTTP codes and a JSON envelope
``{"title": TOKEN, "details": "...", "info": {...}}``.

States that the protocol sends in error shape (STATUS_WAIT_CODE, WAIT_LINK, NO_ACTIVATIONS, ...)
are answers, not failures, and keep their classic shape; so does NO_NUMBERS when buying an
activation, which HeroSMS still sends as a 200 text token.
"""

from __future__ import annotations

from typing import Any

from bot.sandbox.wire import ApiError, dump_json

__all__ = ["render_error"]

_STATUS = {
    **dict.fromkeys(("BAD_KEY", "NO_KEY"), 401),
    **dict.fromkeys(("NO_BALANCE", "NO_BALANCE_FORWARD", "BAD_BALANCE"), 402),
    **dict.fromkeys(("BANNED", "CHANNELS_LIMIT", "ACCOUNT_INACTIVE", "BLOCKED_SITE"), 403),
    **dict.fromkeys(
        (
            "BAD_ACTION",
            "NO_ACTIVATION",
            "WRONG_ACTIVATION_ID",
            "INVALID_ACTIVATION_ID",
            "NOT_INCOMING",
            "NO_ID_RENT",
            "INVALID_PHONE",
            "ACTIVATION_NOT_FOUND",
            "NO_NUMBERS",
            "OUT_OF_STOCK",
        ),
        404,
    ),
    **dict.fromkeys(
        (
            "EARLY_CANCEL_DENIED",
            "BAD_STATUS",
            "ALREADY_FINISH",
            "ALREADY_CANCEL",
            "CANT_CANCEL",
            "RENT_DIE",
            "REPEAT_ADDITIONAL_SERVICE",
            "CALL_TASK_ALREADY_EXIST",
            "ORDER_ALREADY_EXISTS",
            "RENEW_ACTIVATION_NOT_AVAILABLE",
            "NEW_ACTIVATION_IMPOSSIBLE",
        ),
        409,
    ),
    "RATE_LIMIT": 429,
    **dict.fromkeys(("ERROR_SQL", "SQL_ERROR", "SERVER_ERROR"), 500),
}

_DETAILS = {
    "BAD_KEY": "Invalid API key",
    "NO_KEY": "API key is required",
    "BAD_ACTION": "Method Not Found",
    "NO_BALANCE": "Insufficient funds",
    "NO_NUMBERS": "No numbers available",
    "BANNED": "Account is banned",
    "CHANNELS_LIMIT": "Too many active activations",
    "EARLY_CANCEL_DENIED": "Activation cannot be cancelled yet",
    "BAD_STATUS": "The activation does not allow this status now",
    "NO_ACTIVATION": "Activation not found",
    "WRONG_MAX_PRICE": "maxPrice is below the current price",
    "RATE_LIMIT": "Too many requests",
    "ERROR_SQL": "Internal server error",
    "SERVER_ERROR": "Internal server error",
}

# Answers in error shape that are not failures.
_PASSTHROUGH = frozenset(
    {
        "STATUS_WAIT_CODE",
        "STATUS_FINISH",
        "STATUS_CANCEL",
        "STATUS_REVOKE",
        "WAIT_LINK",
        "NO_ACTIVATIONS",
        "OPERATORS_NOT_FOUND",
    }
)
_TEXT_NO_NUMBERS = frozenset({"getNumber", "getNumberV2", "getMultiServiceNumber"})


def render_error(error: ApiError, action: str) -> tuple[int, str] | None:
    """The (HTTP status, JSON body) HeroSMS would send, or None to keep the classic answer."""
    if error.token in _PASSTHROUGH:
        return None
    if error.token == "NO_NUMBERS" and action in _TEXT_NO_NUMBERS:
        return None
    info: dict[str, Any] = dict(error.info or {})
    details = _DETAILS.get(error.token, error.token.replace("_", " ").capitalize())
    body = {"title": error.token, "details": details, "info": info}
    return _STATUS.get(error.token, 400), dump_json(body)
