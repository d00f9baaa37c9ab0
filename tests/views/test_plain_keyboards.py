"""Keyboards and callback data as plain data (bot/keyboards/markup.py, callback_data.py) lay
out and pack exactly as aiogram's own builder and CallbackData: buttons already in chats keep
working, and a screen looks the same whether the bot or the worker draws it."""

from __future__ import annotations

import inspect
from decimal import Decimal
from enum import StrEnum
from typing import Any

import pytest
from aiogram import F
from aiogram.filters.callback_data import CallbackData as AiogramCallbackData
from aiogram.types import CallbackQuery, InlineKeyboardButton, User
from aiogram.utils.keyboard import InlineKeyboardBuilder
from pydantic import BaseModel

from bot.keyboards import callbacks
from bot.keyboards.callback_data import CallbackData
from bot.keyboards.markup import Button, Keyboard, KeyboardBuilder
from bot.telegram import inline_markup


def ours() -> list[type[CallbackData]]:
    found = [
        value
        for value in vars(callbacks).values()
        if inspect.isclass(value) and issubclass(value, CallbackData) and value is not CallbackData
    ]
    assert len(found) > 20
    return found


def twin(cls: type[CallbackData]) -> type[AiogramCallbackData]:
    """aiogram's CallbackData with the same prefix and fields."""
    fields = {name: (info.annotation, info) for name, info in cls.model_fields.items()}
    namespace: dict[str, Any] = {"__annotations__": {n: a for n, (a, _) in fields.items()}}
    namespace.update({n: info for n, (_, info) in fields.items()})
    return type(f"Aiogram{cls.__name__}", (AiogramCallbackData,), namespace, prefix=cls.__prefix__)


def sample(cls: type[BaseModel]) -> dict[str, Any]:
    values: dict[str, Any] = {}
    for name, info in cls.model_fields.items():
        annotation = info.annotation
        if inspect.isclass(annotation) and issubclass(annotation, StrEnum):
            values[name] = list(annotation)[-1]
        elif annotation is int:
            values[name] = 1234567
        elif annotation is Decimal:
            values[name] = Decimal("12.5")
        elif annotation is bool:
            values[name] = True
        elif not info.is_required():
            continue  # its default
        else:
            values[name] = "x1"
    return values


@pytest.mark.parametrize("cls", ours(), ids=lambda cls: cls.__name__)
def test_every_callback_packs_and_unpacks_as_aiogram_does(cls: type[CallbackData]) -> None:
    values = sample(cls)
    packed = cls(**values).pack()
    assert packed == twin(cls)(**values).pack()
    assert cls.unpack(packed) == cls(**values)


def test_a_default_left_empty_comes_back_as_the_default() -> None:
    packed = callbacks.AccountCallback(action=callbacks.AccountAction.LIST).pack()
    assert packed == "acct:list:"
    assert callbacks.AccountCallback.unpack(packed).account == ""


@pytest.mark.parametrize("data", ["a:rd", "a:rd:1:2", "x:rd:1", "a:nope:1", "a:rd:one", ""])
async def test_a_forged_or_foreign_button_matches_no_filter(data: str) -> None:
    check = callbacks.ActCallback.filter()
    assert await check(query(data)) is False


async def test_the_filter_hands_over_the_data_and_applies_its_rule() -> None:
    show = callbacks.ActCallback(action=callbacks.ActAction.SHOW, id=5).pack()
    only_show = callbacks.ActCallback.filter(F.action == callbacks.ActAction.SHOW)
    assert await only_show(query(show)) == {
        "callback_data": callbacks.ActCallback(action=callbacks.ActAction.SHOW, id=5)
    }
    finish = callbacks.ActCallback(action=callbacks.ActAction.FINISH, id=5).pack()
    assert await only_show(query(finish)) is False
    # aiogram awaits coroutine functions only: an object with an async __call__ would be run
    # in a thread and its coroutine taken for a match.
    assert inspect.iscoroutinefunction(only_show)


def test_packing_refuses_what_telegram_would() -> None:
    with pytest.raises(ValueError, match="64 bytes"):
        callbacks.BuyServiceCallback(code="s" * 70).pack()
    with pytest.raises(ValueError, match="separator"):
        callbacks.BuyServiceCallback(code="a:b").pack()


def query(data: str) -> CallbackQuery:
    user = User(id=1, is_bot=False, first_name="A")
    return CallbackQuery(id="1", from_user=user, chat_instance="c", data=data)


LAYOUTS: list[tuple[str, list[Any]]] = [
    ("a row of ten wraps at eight", [("add", 10)]),
    ("adjust then a row of its own", [("add", 5), ("adjust", (2,)), ("row", 1)]),
    ("an empty row adds nothing", [("add", 3), ("adjust", (2,)), ("row", 0), ("add", 1)]),
    ("sizes, the last one repeating", [("add", 9), ("adjust", (1, 3))]),
    ("rows then adjust lays all out again", [("row", 3), ("row", 2), ("adjust", (4,))]),
    ("adjust with no sizes", [("add", 12), ("adjust", ())]),
]


@pytest.mark.parametrize(("steps"), [steps for _, steps in LAYOUTS], ids=[n for n, _ in LAYOUTS])
def test_the_builder_lays_out_rows_as_aiogram_does(steps: list[Any]) -> None:
    plain, theirs = KeyboardBuilder(), InlineKeyboardBuilder()
    made = 0
    for step, arg in steps:
        if step == "adjust":
            plain.adjust(*arg)
            theirs.adjust(*arg)
            continue
        labels = [f"b{made + n}" for n in range(arg)]
        made += arg
        if step == "add":
            for label in labels:
                plain.button(text=label, callback_data=label)
                theirs.button(text=label, callback_data=label)
        else:
            plain.row(*(Button(text=label, callback_data=label) for label in labels))
            theirs.row(
                *(InlineKeyboardButton(text=label, callback_data=label) for label in labels)
            )
    assert inline_markup(plain.as_markup()) == theirs.as_markup()


def test_a_keyboard_is_sent_as_the_bot_api_reads_it() -> None:
    keyboard = Keyboard(
        [[Button(text="Open", url="https://example.org")], [Button(text="Go", callback_data="g")]]
    )
    api = keyboard.to_api()
    assert api == {
        "inline_keyboard": [
            [{"text": "Open", "url": "https://example.org"}],
            [{"text": "Go", "callback_data": "g"}],
        ]
    }
    converted = inline_markup(keyboard)
    assert converted is not None
    assert converted.model_dump(exclude_none=True) == api


URL = "https://example.org"


def test_a_keyboard_met_before_is_converted_once() -> None:
    def menu(last: str) -> Keyboard:
        return Keyboard([[Button(text="A", callback_data="a")], [Button(text=last, url=URL)]])

    first = inline_markup(menu("Site"))
    assert inline_markup(menu("Site")) is first  # the same buttons: the same model
    other = inline_markup(menu("Other"))
    assert other is not first
    assert other is not None
    assert other.inline_keyboard[1][0].text == "Other"


@pytest.mark.parametrize("sizes", [(0,), (9,), (2, 0)])
def test_the_builder_refuses_rows_telegram_would_not_show(sizes: tuple[int, ...]) -> None:
    builder = KeyboardBuilder().button(text="a", callback_data="a")
    with pytest.raises(ValueError, match="rows hold 1 to 8 buttons"):
        builder.adjust(*sizes)
