"""Inline keyboards as plain data: what views build and both senders take.

The bot hands a ``Keyboard`` to aiogram (``bot.telegram.inline_markup``); the worker sends
``Keyboard.to_api()`` as it is (``bot.botapi``), so it never loads aiogram's ~300 Telegram
models (about 150 MB of memory). ``KeyboardBuilder`` lays rows out exactly as aiogram's
``InlineKeyboardBuilder`` does: the screens look the same whichever way they are sent.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from itertools import chain, repeat
from typing import Any, Protocol

#: Telegram shows at most eight buttons in a row.
MAX_WIDTH = 8


class Packable(Protocol):
    """A button's callback data (``bot.keyboards.callback_data.CallbackData``)."""

    def pack(self) -> str: ...


@dataclass(frozen=True, slots=True)
class Button:
    text: str
    callback_data: str | None = None
    url: str | None = None

    def to_api(self) -> dict[str, str]:
        data = {"text": self.text}
        if self.callback_data is not None:
            data["callback_data"] = self.callback_data
        if self.url is not None:
            data["url"] = self.url
        return data


@dataclass(frozen=True, slots=True)
class Keyboard:
    """Rows of buttons under a message (the Bot API's ``InlineKeyboardMarkup``)."""

    inline_keyboard: list[list[Button]] = field(default_factory=list)

    def to_api(self) -> dict[str, Any]:
        return {
            "inline_keyboard": [
                [button.to_api() for button in row] for row in self.inline_keyboard
            ]
        }


class KeyboardBuilder:
    """Rows put together a button at a time, laid out like aiogram's ``InlineKeyboardBuilder``:
    ``button`` fills the last row up to eight, ``row`` starts rows of its own, ``adjust``
    lays every button out again in rows of the given sizes (the last size repeats)."""

    def __init__(self) -> None:
        self._rows: list[list[Button]] = []

    def button(
        self, *, text: str, callback_data: Packable | str | None = None, url: str | None = None
    ) -> KeyboardBuilder:
        if callback_data is not None and not isinstance(callback_data, str):
            callback_data = callback_data.pack()
        return self.add(Button(text=text, callback_data=callback_data, url=url))

    def add(self, *buttons: Button) -> KeyboardBuilder:
        pending = list(buttons)
        if self._rows and len(self._rows[-1]) < MAX_WIDTH:
            room = MAX_WIDTH - len(self._rows[-1])
            self._rows[-1].extend(pending[:room])
            pending = pending[room:]
        while pending:
            self._rows.append(pending[:MAX_WIDTH])
            pending = pending[MAX_WIDTH:]
        return self

    def row(self, *buttons: Button, width: int = MAX_WIDTH) -> KeyboardBuilder:
        """``buttons`` in new rows of ``width``; with no buttons, nothing (as aiogram's)."""
        self._rows.extend(list(buttons[i : i + width]) for i in range(0, len(buttons), width))
        return self

    def adjust(self, *sizes: int) -> KeyboardBuilder:
        sizes = sizes or (MAX_WIDTH,)
        if not all(1 <= size <= MAX_WIDTH for size in sizes):
            raise ValueError(f"rows hold 1 to {MAX_WIDTH} buttons, not {sizes}")
        widths = chain(sizes, repeat(sizes[-1]))
        width = next(widths)
        rows: list[list[Button]] = []
        current: list[Button] = []
        for button in chain.from_iterable(self._rows):
            if len(current) >= width:
                rows.append(current)
                width = next(widths)
                current = []
            current.append(button)
        if current:
            rows.append(current)
        self._rows = rows
        return self

    def as_markup(self) -> Keyboard:
        return Keyboard(inline_keyboard=[list(row) for row in self._rows])
