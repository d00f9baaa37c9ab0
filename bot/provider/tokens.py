"""The provider's vocabulary: what a token looks like, which words mean success, and which
error class every error word stands for.

Each error class in :mod:`bot.provider.errors` names its own words in ``tokens``; this module
turns them into one table, so adding a word to a class is all it takes to recognise it.
"""

from __future__ import annotations

import re
from typing import Any, TypedDict, Unpack

from bot.provider.errors import ProviderAPIError, UnknownProviderError

_TOKEN_RE = re.compile(r"^[A-Z][A-Z0-9_]*$")

SUCCESS_WORDS = frozenset(
    {
        "ACCESS_BALANCE",
        "ACCESS_NUMBER",
        "ACCESS_READY",
        "ACCESS_RETRY_GET",
        "ACCESS_ACTIVATION",
        "ACCESS_CANCEL",
        "STATUS_WAIT_CODE",
        "STATUS_WAIT_RETRY",
        "STATUS_WAIT_RESEND",
        "STATUS_CANCEL",
        "STATUS_OK",
        "ADDITIONAL",
        "FULL_SMS",
    }
)


def _all_subclasses(cls: type[ProviderAPIError]) -> list[type[ProviderAPIError]]:
    found: list[type[ProviderAPIError]] = []
    for sub in cls.__subclasses__():
        found.append(sub)
        found.extend(_all_subclasses(sub))
    return found


TOKEN_CLASSES: dict[str, type[ProviderAPIError]] = {
    token: cls for cls in _all_subclasses(ProviderAPIError) for token in cls.tokens
}


def is_token(word: str) -> bool:
    return bool(_TOKEN_RE.match(word))


def is_cut_short(word: str) -> bool:
    """A prefix of a known word that is no word itself: an answer cut off in transit."""
    if word in SUCCESS_WORDS or word in TOKEN_CLASSES:
        return False
    return any(known.startswith(word) for known in (*SUCCESS_WORDS, *TOKEN_CLASSES))


class ErrorDetails(TypedDict, total=False):
    """What a provider error carries besides its token (see ProviderAPIError)."""

    action: str | None
    payload: str | None
    info: dict[str, Any] | None
    raw: str
    status_code: int


def error_for_token(token: str, **details: Unpack[ErrorDetails]) -> ProviderAPIError:
    """The typed exception for a provider token (unknown tokens give UnknownProviderError)."""
    cls = TOKEN_CLASSES.get(token.upper(), UnknownProviderError)
    return cls(token.upper(), **details)
