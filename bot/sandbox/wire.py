"""The wire format: replies, error tokens with their encodings, parameters, numbers and dates.

An action handler returns a ``str`` (a text reply) or a JSON-able ``dict``/``list``, and raises
:class:`ApiError` for an error token; the emulator turns both into a :class:`Reply` in the
configured dialect.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from enum import Enum
from typing import Any

__all__ = [
    "Answer",
    "ApiError",
    "Encoding",
    "Params",
    "Reply",
    "dump_json",
    "money",
    "num",
]

Answer = str | dict[str, Any] | list[Any]


@dataclass(frozen=True, slots=True)
class Reply:
    status: int
    body: str
    content_type: str

    @property
    def is_json(self) -> bool:
        return self.body.startswith(("{", "["))


class Encoding(Enum):
    """How an error token travels (protocol.md §2)."""

    TEXT = "T"  # BAD_KEY, NO_NUMBERS, WRONG_MAX_PRICE:<min>
    J_MSG = "J-msg"  # rent: {"status":"error","message":TOKEN[,"info":{...}]}
    J_ERR = "J-err"  # getOperators, getActiveActivations: {"status":"error","error":TOKEN}
    J_MAIL = "J-mail"  # mail: {"status":"ERROR","error":TOKEN}
    J_CALL = "J-call"  # createTaskForCall: {"status":"error","msg":TOKEN}


class ApiError(Exception):
    """An error token the handler answers with instead of a result."""

    def __init__(
        self,
        token: str,
        *,
        payload: str | None = None,
        encoding: Encoding = Encoding.TEXT,
        info: dict[str, Any] | None = None,
    ) -> None:
        super().__init__(token if payload is None else f"{token}:{payload}")
        self.token = token
        self.payload = payload
        self.encoding = encoding
        self.info = info

    def classic_body(self) -> str:
        match self.encoding:
            case Encoding.TEXT:
                return self.token if self.payload is None else f"{self.token}:{self.payload}"
            case Encoding.J_MSG:
                body: dict[str, Any] = {"status": "error", "message": self.token}
                if self.info is not None:
                    body["info"] = self.info
                return dump_json(body)
            case Encoding.J_ERR:
                return dump_json({"status": "error", "error": self.token})
            case Encoding.J_MAIL:
                return dump_json({"status": "ERROR", "error": self.token})
            case Encoding.J_CALL:
                return dump_json({"status": "error", "msg": self.token})


def num(value: Decimal) -> int | float:
    """A Decimal as a JSON number: ``9`` stays an integer, ``12.50`` becomes ``12.5``."""
    return int(value) if value == value.to_integral_value() else float(value)


def money(value: Decimal) -> str:
    """Two decimals unless more are needed: ``100.00``, ``17.154``."""
    cents = value.quantize(Decimal("0.01"))
    return str(cents) if cents == value else format(value.normalize(), "f")


def _default(value: object) -> object:
    if isinstance(value, Decimal):
        return num(value)
    raise TypeError(f"{type(value).__name__} is not JSON serialisable")


def dump_json(value: object) -> str:
    # PHP's json_encode style: compact separators.
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"), default=_default)


class Params:
    """Request parameters, read leniently the way the live service read them.

    Names are stripped (one public client sends ``"country "``), empty values count as absent,
    and unknown parameters are ignored.
    """

    def __init__(self, raw: Mapping[str, str]) -> None:
        self._raw = {str(k).strip(): str(v).strip() for k, v in raw.items()}

    def __contains__(self, name: object) -> bool:
        return self.get(str(name)) is not None

    def get(self, name: str) -> str | None:
        value = self._raw.get(name)
        return value if value else None

    def require(self, name: str, error: ApiError) -> str:
        value = self.get(name)
        if value is None:
            raise error
        return value

    def integer(self, name: str, default: int | None, error: ApiError) -> int:
        value = self.get(name)
        if value is None:
            if default is None:
                raise error
            return default
        try:
            return int(value)
        except ValueError:
            raise error from None

    def count(self, name: str, default: int, low: int = 0, high: int | None = None) -> int:
        """A paging number clamped to [low, high]; junk reads as the default, as PHP's intval."""
        try:
            value = int(self.get(name) or default)
        except ValueError:
            value = default
        value = max(value, low)
        return value if high is None else min(value, high)

    def decimal(self, name: str) -> Decimal | None:
        """A decimal, or None when absent or unreadable (live servers ignored junk here)."""
        value = self.get(name)
        if value is None:
            return None
        try:
            number = Decimal(value)
        except InvalidOperation:
            return None
        return number if number.is_finite() else None

    def flag(self, name: str) -> bool:
        return (self.get(name) or "").lower() in {"1", "true", "yes", "on"}

    def csv(self, name: str) -> list[str]:
        return [item.strip() for item in (self.get(name) or "").split(",") if item.strip()]

    def masked(self) -> dict[str, str]:
        """The parameters with the API key cut to two characters, for logs and assertions."""
        return {k: (mask_key(v) if k == "api_key" else v) for k, v in self._raw.items()}


def mask_key(key: str) -> str:
    return f"{key[:2]}***"
