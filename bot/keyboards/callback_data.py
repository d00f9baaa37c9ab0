"""Typed callback data, packed as aiogram's ``CallbackData`` packs it, without aiogram.

The worker draws cards whose buttons carry callback data; importing aiogram for that would
load all of its Telegram models (see bot/keyboards/markup.py). The packed form is aiogram's
("prefix:value:value", at most 64 bytes), so buttons sent before this module existed still
work; ``filter`` gives handlers the same filter aiogram's class gives.
"""

from __future__ import annotations

import typing
from collections.abc import Awaitable, Callable
from decimal import Decimal
from enum import Enum
from fractions import Fraction
from types import UnionType
from typing import Any, ClassVar, Literal, Self
from uuid import UUID

from magic_filter import MagicFilter
from pydantic import BaseModel
from pydantic.fields import FieldInfo
from pydantic_core import PydanticUndefined

#: Telegram's limit on a button's callback data, in bytes.
MAX_LENGTH = 64

#: A handler filter: the unpacked data under ``callback_data``, or False.
CallbackFilter = Callable[[Any], Awaitable[dict[str, Any] | Literal[False]]]


class CallbackData(BaseModel):
    """``class Pick(CallbackData, prefix="p"): id: int`` packs as ``"p:42"``."""

    __prefix__: ClassVar[str]
    __separator__: ClassVar[str]

    def __init_subclass__(cls, **kwargs: Any) -> None:
        if "prefix" not in kwargs:
            raise ValueError(f"{cls.__name__} needs a prefix: class {cls.__name__}(..., prefix=)")
        cls.__separator__ = kwargs.pop("sep", ":")
        cls.__prefix__ = kwargs.pop("prefix")
        if cls.__separator__ in cls.__prefix__:
            raise ValueError(f"{cls.__name__}'s prefix holds its separator")
        super().__init_subclass__(**kwargs)

    def pack(self) -> str:
        parts = [self.__prefix__]
        for name, value in self.model_dump(mode="python").items():
            encoded = _encode(name, value)
            if self.__separator__ in encoded:
                raise ValueError(f"{name}={encoded!r} holds the separator {self.__separator__!r}")
            parts.append(encoded)
        packed = self.__separator__.join(parts)
        if len(packed.encode()) > MAX_LENGTH:
            raise ValueError(f"callback data over {MAX_LENGTH} bytes: {packed!r}")
        return packed

    @classmethod
    def unpack(cls, value: str) -> Self:
        """The data of a pressed button; TypeError or ValueError when it is not one of ours."""
        prefix, *parts = value.split(cls.__separator__)
        names = list(cls.model_fields)
        if len(parts) != len(names):
            raise TypeError(f"{cls.__name__} takes {len(names)} values, got {len(parts)}")
        if prefix != cls.__prefix__:
            raise ValueError(f"prefix {prefix!r} is not {cls.__prefix__!r}")
        payload: dict[str, Any] = {}
        for name, part in zip(names, parts, strict=True):
            field = cls.model_fields[name]
            if part == "" and _nullable(field) and field.default != "":
                payload[name] = None if field.default is PydanticUndefined else field.default
            else:
                payload[name] = part
        return cls(**payload)

    @classmethod
    def filter(cls, rule: MagicFilter | None = None) -> CallbackFilter:
        """A callback query filter: this class's data, matching ``rule`` (``F.action == ...``),
        handed to the handler as ``callback_data``."""

        # A coroutine function, not an object: aiogram awaits only those (and its own Filter).
        async def matches(query: Any, /) -> dict[str, Any] | Literal[False]:
            data = getattr(query, "data", None)
            if not isinstance(data, str) or not data:
                return False
            try:
                unpacked = cls.unpack(data)
            except (TypeError, ValueError):  # pydantic's ValidationError is a ValueError
                return False
            if rule is None or rule.resolve(unpacked):
                return {"callback_data": unpacked}
            return False

        return matches


def _encode(name: str, value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, Enum):
        return str(value.value)
    if isinstance(value, UUID):
        return value.hex
    if isinstance(value, bool):
        return str(int(value))
    if isinstance(value, int | str | float | Decimal | Fraction):
        return str(value)
    raise ValueError(f"{name}={value!r} cannot be packed into callback data")


def _nullable(field: FieldInfo) -> bool:
    if not field.is_required():
        return True
    origin = typing.get_origin(field.annotation)
    return origin in (typing.Union, UnionType) and type(None) in typing.get_args(field.annotation)
