"""Keyboards shared by several features. Pure: data and translated labels in, markup out."""

from __future__ import annotations

from collections.abc import Callable, Sequence

from bot.keyboards.callback_data import CallbackData
from bot.keyboards.callbacks import (
    DialogCallback,
    KeyAction,
    KeyCallback,
    LanguageCallback,
    ProviderCallback,
)
from bot.keyboards.markup import Button, Keyboard, KeyboardBuilder

LANGUAGE_NAMES = {"en": "English", "ru": "Русский"}

CHOSEN = "✓ "


def button(text: str, data: CallbackData) -> Button:
    """One button, for rows put together by hand (``KeyboardBuilder.button`` packs too)."""
    return Button(text=text, callback_data=data.pack())


def operators_keyboard(
    operators: Sequence[str],
    current: str | None,
    any_label: str,
    pick: Callable[[str], CallbackData],
    back: Button,
) -> Keyboard:
    """The "any operator" button, then each operator (the current one ticked), then ``back``.

    ``pick("")`` stands for any operator.
    """
    builder = KeyboardBuilder()
    builder.button(text=(CHOSEN if not current else "") + any_label, callback_data=pick(""))
    for name in operators:
        builder.button(text=(CHOSEN if name == current else "") + name, callback_data=pick(name))
    builder.adjust(3)
    builder.row(back)
    return builder.as_markup()


def providers_keyboard(
    providers: Sequence[tuple[str, str]], cancel_label: str | None = None
) -> Keyboard:
    """One button per (name, title)."""
    builder = KeyboardBuilder()
    for name, title in providers:
        builder.button(text=title, callback_data=ProviderCallback(name=name))
    builder.adjust(2)
    if cancel_label:
        builder.row()
        builder.button(text=cancel_label, callback_data=DialogCallback())
    return builder.as_markup()


def connect_keyboard(label: str) -> Keyboard:
    builder = KeyboardBuilder()
    builder.button(text=label, callback_data=KeyCallback(action=KeyAction.CONNECT))
    return builder.as_markup()


def languages_keyboard(current: str) -> Keyboard:
    builder = KeyboardBuilder()
    for locale, name in LANGUAGE_NAMES.items():
        mark = "✓ " if locale == current else ""
        builder.button(text=f"{mark}{name}", callback_data=LanguageCallback(locale=locale))
    return builder.as_markup()


def cancel_keyboard(label: str) -> Keyboard:
    builder = KeyboardBuilder()
    builder.button(text=label, callback_data=DialogCallback())
    return builder.as_markup()
