"""Times come in a few shapes: each is read, and anything else is refused, not guessed."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from bot.provider.values import to_datetime


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2024-01-05 03:04:05", datetime(2024, 1, 5, 3, 4, 5)),
        ("2024-01-05T03:04:05", datetime(2024, 1, 5, 3, 4, 5)),
        ("2024-01-05 03:04", datetime(2024, 1, 5, 3, 4)),
        ("2024-01-05", datetime(2024, 1, 5)),
        ("2024-1-5 3:04:05", datetime(2024, 1, 5, 3, 4, 5)),
        (" 2024-01-05 03:04:05 ", datetime(2024, 1, 5, 3, 4, 5)),
        ("2024-01-05T03:04:05Z", datetime(2024, 1, 5, 3, 4, 5, tzinfo=UTC)),
    ],
)
def test_every_shape_providers_send_is_read(text: str, expected: datetime) -> None:
    assert to_datetime(text) == expected


@pytest.mark.parametrize("text", ["yesterday", "05.01.2024", "2024-13-01 00:00:00", ""])
def test_anything_else_is_refused(text: str) -> None:
    with pytest.raises(ValueError, match="not a date"):
        to_datetime(text)
