"""Lenient coercion of values that arrive as numbers, strings or booleans.

The protocol sends the same field as ``5`` in one answer and ``"5"`` or ``'5'`` in the next, so
every reader strips quotes and accepts either. Raising readers are for fields the caller needs;
:func:`decimal_or_none` is for optional details an error may carry.
"""

from __future__ import annotations

import json
from datetime import datetime
from decimal import Decimal, InvalidOperation
from typing import Any

_TRUE = {"1", "true", "yes", "y", "on"}
_FALSE = {"0", "false", "no", "n", "off", ""}


def to_int(value: Any) -> int:
    if isinstance(value, bool):
        return int(value)
    if isinstance(value, int):
        return value
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, str):
        text = value.strip().strip("'\"")
        try:
            return int(text)
        except ValueError:
            pass
        try:
            number = Decimal(text)  # "12.0" and "1e3" are whole numbers written oddly
        except InvalidOperation:
            raise ValueError(f"not an integer: {value!r}") from None
        if number.is_finite() and number == number.to_integral_value():
            return int(number)
    raise ValueError(f"not an integer: {value!r}")


def to_decimal(value: Any) -> Decimal:
    if isinstance(value, bool) or value is None:
        raise ValueError(f"not a number: {value!r}")
    if isinstance(value, float):
        # repr() keeps the shortest exact form: 0.105 stays 0.105, not 0.10499999...
        return Decimal(repr(value))
    try:
        number = Decimal(str(value).strip().strip("'\""))
    except InvalidOperation as exc:
        raise ValueError(f"not a number: {value!r}") from exc
    if not number.is_finite():
        raise ValueError(f"not a number: {value!r}")
    return number


def to_bool(value: Any) -> bool:
    if isinstance(value, bool):
        return value
    if value is None:
        return False
    if isinstance(value, int | float):
        return value != 0
    text = str(value).strip().lower()
    if text in _TRUE:
        return True
    if text in _FALSE:
        return False
    raise ValueError(f"not a flag: {value!r}")


_DATE_FORMATS = ("%Y-%m-%d %H:%M:%S", "%Y-%m-%dT%H:%M:%S", "%Y-%m-%d %H:%M", "%Y-%m-%d")


def to_datetime(value: Any) -> datetime:
    if isinstance(value, datetime):
        return value
    if isinstance(value, int | float) and not isinstance(value, bool):
        return datetime.fromtimestamp(value)
    text = str(value).strip()
    try:
        # The usual shapes, read in C (strptime costs ~20x more: it showed in the worker's
        # profile, every listing entry carries a time).
        return datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        pass
    for fmt in _DATE_FORMATS:
        try:
            return datetime.strptime(text, fmt)  # e.g. unpadded: 2024-1-5 3:04:05
        except ValueError:
            continue
    raise ValueError(f"not a date: {value!r}")


def indexed_values(value: Any) -> list[Any]:
    """Lists the protocol sends as objects keyed "0", "1", ... (or as real arrays)."""
    if value is None:
        return []
    if isinstance(value, list):
        return value
    if isinstance(value, dict):

        def order(key: str) -> tuple[int, int | str]:
            try:
                return (0, int(key))
            except ValueError:
                return (1, key)

        return [value[key] for key in sorted(value, key=order)]
    raise ValueError(f"not a list: {value!r}")


def text_list(value: Any) -> list[str]:
    """``smsCode``/``sms`` fields: a string, a list, a JSON-encoded list, or null."""
    if value is None or value is False:
        return []
    if isinstance(value, list):
        return [str(item) for item in value if item is not None and str(item) != ""]
    if isinstance(value, str):
        text = value.strip()
        if not text:
            return []
        if text.startswith("["):
            try:
                decoded = json.loads(text)
            except ValueError:
                return [text]
            return text_list(decoded)
        return [text]
    return [str(value)]


def decimal_or_none(value: object) -> Decimal | None:
    """A finite number, or None for anything unreadable (booleans are not numbers here)."""
    if value is None or isinstance(value, bool):
        return None
    text = str(value).strip().strip("'\"")
    if not text:
        return None
    try:
        number = Decimal(text)
    except InvalidOperation:
        return None
    return number if number.is_finite() else None
