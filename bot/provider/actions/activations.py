"""Activation actions: buying numbers, reading codes, changing status, calls and extras."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime
from decimal import Decimal
from typing import TypedDict, Unpack

from bot.provider.actions.base import ActionBase, comma_list, flag, money
from bot.provider.errors import Empty, MalformedResponse
from bot.provider.models import (
    ActivationAction,
    ActivationState,
    ActivationStatus,
    ActiveActivation,
    CallTask,
    ExtraActivationInfo,
    HistoryEntry,
    IncomingCallStatus,
    MultiServiceActivation,
    Number,
    NumberV2,
    OutgoingCall,
    SetStatusResult,
)
from bot.provider.values import indexed_values


class ActivationActions(ActionBase):
    async def get_number(
        self, service: str, country: int | None = None, **options: Unpack[NumberOptions]
    ) -> Number:
        action = "getNumber"
        answer = await self._call(action, **_purchase_params(service, country, options))
        return self._id_and_phone(action, self._token(action, answer, "ACCESS_NUMBER"), answer)

    async def get_number_v2(
        self,
        service: str,
        country: int | None = None,
        *,
        order_id: str | None = None,
        **options: Unpack[NumberOptions],
    ) -> NumberV2:
        action = "getNumberV2"
        params = _purchase_params(service, country, options)
        answer = await self._call(action, **params, orderId=order_id)
        return self._model(action, NumberV2, self._object(action, answer), answer.raw)

    async def get_multi_service_number(
        self,
        services: Sequence[str],
        country: int | None = None,
        *,
        operator: str | Sequence[str] | None = None,
        forward_index: int | None = None,
        ref: str | None = None,
    ) -> list[MultiServiceActivation]:
        """One number for several services. ``forward_index``: the one service to forward."""
        action = "getMultiServiceNumber"
        multi_forward = None
        if forward_index is not None:
            multi_forward = ",".join(
                "1" if index == forward_index else "0" for index in range(len(services))
            )
        answer = await self._call(
            action,
            multiService=comma_list(services),
            multiForward=multi_forward,
            country=country,
            operator=comma_list(operator),
            ref=ref,
        )
        items = self._list(action, answer)
        return self._models(action, MultiServiceActivation, items, answer.raw)

    async def set_status(
        self, activation_id: int, status: ActivationAction, *, forward_phone: str | None = None
    ) -> SetStatusResult:
        action = "setStatus"
        answer = await self._call(
            action, id=activation_id, status=int(status), forward=forward_phone
        )
        words = [result.value for result in SetStatusResult]
        return SetStatusResult(self._token(action, answer, *words).word)

    async def get_status(self, activation_id: int) -> ActivationStatus:
        action = "getStatus"
        answer = await self._call(action, id=activation_id)
        words = [state.value for state in ActivationState]
        token = self._token(action, answer, *words)
        code = None
        if token.payload is not None:
            # The code may contain ':' or be a URL: everything after the first colon is it.
            code = token.payload.strip().strip("'\"").strip() or None
        state = ActivationState(token.word)
        if state is ActivationState.CODE_RECEIVED and code is None:
            # "Code received" without the code would close the card with nothing to show.
            raise MalformedResponse(
                f"{action}: STATUS_OK without a code", answer.raw[:500], action=action
            )
        return ActivationStatus(state=state, code=code)

    async def get_active_activations(
        self, *, start: int | None = None, limit: int | None = None
    ) -> list[ActiveActivation]:
        action = "getActiveActivations"
        try:
            answer = await self._call(action, start=start, limit=limit)
        except Empty:
            return []
        data = self._object(action, answer)
        items = data.get("activeActivations", data.get("data"))
        if items is None:
            return []
        return self._models(action, ActiveActivation, indexed_values(items), answer.raw)

    async def get_history(
        self,
        *,
        start: datetime | int | None = None,
        end: datetime | int | None = None,
        offset: int | None = None,
        limit: int | None = None,
    ) -> list[HistoryEntry]:
        action = "getHistory"
        answer = await self._call(
            action, start=_timestamp(start), end=_timestamp(end), offset=offset, limit=limit
        )
        return self._models(action, HistoryEntry, self._list(action, answer), answer.raw)

    async def get_incoming_call_status(self, activation_id: int) -> IncomingCallStatus:
        action = "getIncomingCallStatus"
        answer = await self._call(action, activationId=activation_id)
        return self._model(action, IncomingCallStatus, self._object(action, answer), answer.raw)

    async def get_additional_service(self, parent_id: int, service: str) -> Number:
        action = "getAdditionalService"
        answer = await self._call(action, id=parent_id, service=service)
        return self._id_and_phone(action, self._token(action, answer, "ADDITIONAL"), answer)

    async def check_extra_activation(self, activation_id: int) -> ExtraActivationInfo:
        action = "checkExtraActivation"
        answer = await self._call(action, activationId=activation_id)
        return self._model(action, ExtraActivationInfo, self._object(action, answer), answer.raw)

    async def get_extra_activation(self, activation_id: int) -> Number:
        action = "getExtraActivation"
        answer = await self._call(action, activationId=activation_id)
        return self._id_and_phone(action, self._token(action, answer, "ACCESS_NUMBER"), answer)

    async def create_task_for_call(self, activation_id: int, phone: str | None = None) -> CallTask:
        action = "createTaskForCall"
        answer = await self._call(action, activationId=activation_id, phone=phone)
        data = self._object(action, answer)
        return CallTask(message=str(data.get("msg") or data.get("message") or ""))

    async def get_outgoing_calls(
        self, activation_id: int | None = None, day: date | None = None
    ) -> list[OutgoingCall]:
        action = "getOutgoingCalls"
        answer = await self._call(
            action,
            activationId=activation_id,
            date=day.isoformat() if day is not None else None,
        )
        calls = []
        for key, value in self._object(action, answer).items():
            if isinstance(value, dict):
                calls.append(
                    self._model(action, OutgoingCall, {**value, "activation_id": key}, answer.raw)
                )
        return calls


class NumberOptions(TypedDict, total=False):
    """What getNumber and getNumberV2 take besides the service and the country."""

    operator: str | Sequence[str] | None
    max_price: Decimal | None
    phone_exception: str | Sequence[str] | None
    verification: bool
    forward: bool
    use_cashback: bool
    ref: str | None


def _purchase_params(
    service: str, country: int | None, options: NumberOptions
) -> dict[str, str | int | None]:
    return {
        "service": service,
        "country": country,
        "operator": comma_list(options.get("operator")),
        "maxPrice": money(options.get("max_price")),
        "phoneException": comma_list(options.get("phone_exception")),
        "verification": flag(options.get("verification", False)),
        "ref": options.get("ref"),
        "forward": "1" if options.get("forward") else None,
        "useCashBack": flag(options.get("use_cashback", False)),
    }


def _timestamp(value: datetime | int | None) -> int | None:
    if value is None or isinstance(value, int):
        return value
    return int(value.timestamp())
