"""What every action family shares: the transport to call through, and readers that hold an
answer to the shape its action promises (raising the typed error when it does not).
"""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal
from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError

from bot.provider.errors import MalformedResponse
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


class ActionBase:
    """Every family's base; :class:`~bot.provider.client.ProviderClient` sets the transport."""

    _transport: Transport

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
