"""What every action family shares: the transport to call through, and readers that hold an
answer to the shape its action promises (raising the typed error when it does not).
"""

from __future__ import annotations

import functools
import inspect
from collections.abc import Awaitable, Callable, Sequence
from decimal import Decimal
from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError

from bot.provider.errors import MalformedResponse, ProviderError
from bot.provider.models import Number
from bot.provider.parsing import Answer, Token, raise_token
from bot.provider.transport import Transport
from bot.provider.values import indexed_values, to_decimal, to_int

M = TypeVar("M", bound=BaseModel)


def flag(value: bool) -> str | None:
    return "true" if value else None


def comma_list(values: str | Sequence[str] | None) -> str | None:
    if values is None:
        return None
    if isinstance(values, str):
        return values.strip() or None
    joined = ",".join(v.strip() for v in values if v and v.strip())
    return joined or None


def money(value: Decimal | float | str | None) -> str | None:
    if value is None:
        return None
    return format(to_decimal(value), "f")


# What reading a body of the wrong shape raises (int("x"), Decimal("x"), None["id"], ...).
_UNREADABLE = (ValueError, TypeError, KeyError, IndexError, AttributeError, ArithmeticError)


def _action_name(method_name: str) -> str:
    """``get_number_v2`` -> ``getNumberV2``: the protocol's name, for errors and logs."""
    head, *rest = method_name.split("_")
    return head + "".join(part[:1].upper() + part[1:] for part in rest if part)


def _typed_errors(method: Callable[..., Awaitable[Any]]) -> Callable[..., Awaitable[Any]]:
    action = _action_name(method.__name__)

    @functools.wraps(method)
    async def read(*args: Any, **kwargs: Any) -> Any:
        try:
            return await method(*args, **kwargs)
        except ProviderError:
            raise
        except _UNREADABLE as exc:
            raise MalformedResponse(
                f"{action}: unreadable answer ({type(exc).__name__})", "", action=action
            ) from exc

    return read


class ActionBase:
    """Every family's base; :class:`~bot.provider.client.ProviderClient` sets the transport.

    Every public action of a family raises only :class:`ProviderError`: an answer of the wrong
    shape that slips past the readers below (a list where an object was due, a key that is not
    a number) becomes :class:`MalformedResponse`, which the paid path reads as "outcome
    unknown" (look it up, never pay again) and never as a crash.
    """

    _transport: Transport

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        for name, member in list(vars(cls).items()):
            if not name.startswith("_") and inspect.iscoroutinefunction(member):
                setattr(cls, name, _typed_errors(member))

    async def _call(self, action: str, **params: Any) -> Answer:
        return await self._transport.call(action, **params)

    @staticmethod
    def _token(action: str, answer: Answer, *expected: str) -> Token:
        body = answer.body
        if isinstance(body, Token) and body.word in expected:
            return body
        raise raise_token(action, answer)

    @staticmethod
    def _object(action: str, answer: Answer) -> dict[str, Any]:
        if isinstance(answer.body, dict):
            return answer.body
        if isinstance(answer.body, Token):
            raise raise_token(action, answer)
        raise MalformedResponse(
            f"{action}: expected a JSON object", answer.raw[:500], action=action
        )

    @staticmethod
    def _list(action: str, answer: Answer) -> list[Any]:
        body = answer.body
        if isinstance(body, list):
            return body
        if isinstance(body, dict):
            return indexed_values(body)
        raise raise_token(action, answer)

    @staticmethod
    def _model(action: str, model: type[M], data: Any, raw: str = "") -> M:
        try:
            return model.model_validate(data)
        except ValidationError as exc:
            raise MalformedResponse(
                f"{action}: unexpected {model.__name__} ({exc.error_count()} problems)",
                raw[:500],
                action=action,
            ) from None

    def _models(self, action: str, model: type[M], items: Sequence[Any], raw: str) -> list[M]:
        return [self._model(action, model, item, raw) for item in items]

    @staticmethod
    def _id_and_phone(action: str, token: Token, answer: Answer) -> Number:
        activation_id, _, phone = (token.payload or "").partition(":")
        try:
            return Number(activation_id=to_int(activation_id), phone=phone.strip())
        except ValueError:
            raise MalformedResponse(
                f"{action}: unreadable {token.word}", answer.raw[:500], action=action
            ) from None
