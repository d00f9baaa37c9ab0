"""One pager for every list: a page of items, and the ◀ n/N ▶ row under it.

The caller's own ``CallbackData`` carries the page (``page: int``), so a pressed arrow lands on
that list's handler; a page out of range (an old or forged button) shows the nearest one.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Generic, TypeVar

from bot.keyboards.callback_data import CallbackData
from bot.keyboards.markup import Button

T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class Page(Generic[T]):
    items: Sequence[T]
    page: int  # from 0, within range
    pages: int  # at least 1


def paginate(items: Sequence[T], page: int, size: int) -> Page[T]:
    pages = max(1, math.ceil(len(items) / size))
    page = min(max(page, 0), pages - 1)
    return Page(items[page * size : (page + 1) * size], page, pages)


def pager_row(
    page: int, pages: int, to_page: Callable[[int], CallbackData], *, counter: bool = True
) -> list[Button]:
    """◀, the page of pages (it redraws the page; left out without ``counter``), ▶; nothing
    for a single page."""
    if pages <= 1:
        return []
    row = []
    if page > 0:
        row.append(Button(text="◀", callback_data=to_page(page - 1).pack()))
    if counter:
        row.append(Button(text=f"{page + 1}/{pages}", callback_data=to_page(page).pack()))
    if page < pages - 1:
        row.append(Button(text="▶", callback_data=to_page(page + 1).pack()))
    return row
