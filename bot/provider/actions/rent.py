"""Rent actions: offers, renting a number, its messages, extending and ending it."""

from __future__ import annotations

from collections.abc import Sequence

from bot.provider.actions.base import ActionBase, comma_list, flag
from bot.provider.errors import OutOfStock, StateAnswer
from bot.provider.models import (
    RentAction,
    RentListEntry,
    RentNumber,
    RentOffer,
    RentPrice,
    RentSms,
    RentState,
    RentStatus,
)
from bot.provider.parsing import Answer
from bot.provider.values import indexed_values, to_int


class RentActions(ActionBase):
    async def get_rent_services_and_countries(
        self,
        rent_time: int | None = None,
        *,
        country: int | None = None,
        operator: str | Sequence[str] | None = None,
        incoming_call: bool = False,
    ) -> RentOffer:
        action = "getRentServicesAndCountries"
        answer = await self._call(action, **_where(rent_time, country, operator, incoming_call))
        data = self._object(action, answer)
        offer = {
            "countries": [to_int(c) for c in indexed_values(data.get("countries"))],
            "operators": [str(o) for o in indexed_values(data.get("operators"))],
            "services": data.get("services") or {},
            "currency": data.get("currency"),
        }
        return self._model(action, RentOffer, offer, answer.raw)

    async def get_rent_number(
        self,
        service: str,
        rent_time: int | None = None,
        *,
        country: int | None = None,
        operator: str | Sequence[str] | None = None,
        webhook_url: str | None = None,
        incoming_call: bool = False,
    ) -> RentNumber:
        action = "getRentNumber"
        where = _where(rent_time, country, operator, incoming_call)
        answer = await self._call(action, service=service, url=webhook_url, **where)
        return self._rent_number(action, answer)

    def _rent_number(self, action: str, answer: Answer) -> RentNumber:
        phone = self._object(action, answer).get("phone")
        return self._model(action, RentNumber, phone, answer.raw)

    async def get_rent_status(
        self, rent_id: int, *, page: int | None = None, size: int | None = None
    ) -> RentStatus:
        action = "getRentStatus"
        try:
            answer = await self._call(action, id=rent_id, page=page, size=size)
        except StateAnswer as state:
            # In this protocol "no SMS yet", "finished" and "cancelled" come as errors.
            try:
                return RentStatus(state=RentState(state.token))
            except ValueError:
                raise state from None
        data = self._object(action, answer)
        messages = self._models(action, RentSms, indexed_values(data.get("values")), answer.raw)
        messages.reverse()  # the wire lists newest first
        quantity = data.get("quantity")
        return RentStatus(
            state=RentState.ACTIVE,
            quantity=to_int(quantity) if quantity not in (None, "") else len(messages),
            messages=messages,
        )

    async def set_rent_status(self, rent_id: int, status: RentAction) -> None:
        action = "setRentStatus"
        answer = await self._call(action, id=rent_id, status=int(status))
        self._object(action, answer)

    async def get_rent_list(self) -> list[RentListEntry]:
        action = "getRentList"
        try:
            answer = await self._call(action)
        except OutOfStock as exc:
            if exc.token == "NO_NUMBERS":
                return []  # here NO_NUMBERS means "you rent nothing"
            raise
        values = indexed_values(self._object(action, answer).get("values"))
        return self._models(action, RentListEntry, values, answer.raw)

    async def continue_rent_number(self, rent_id: int, rent_time: int | None = None) -> RentNumber:
        """Extend a rent. On a finished rent the provider re-orders it: the id may change."""
        action = "continueRentNumber"
        answer = await self._call(action, id=rent_id, rent_time=rent_time)
        return self._rent_number(action, answer)

    async def get_continue_rent_price_number(self, rent_id: int, rent_time: int) -> RentPrice:
        action = "getContinueRentPriceNumber"
        answer = await self._call(action, id=rent_id, rent_time=rent_time)
        return self._model(action, RentPrice, self._object(action, answer), answer.raw)


def _where(
    rent_time: int | None,
    country: int | None,
    operator: str | Sequence[str] | None,
    incoming_call: bool,
) -> dict[str, str | int | None]:
    """The offer a rent is asked about or bought from: duration, country, operator, calls."""
    return {
        "rent_time": rent_time,
        "country": country,
        "operator": comma_list(operator),
        "incomingCall": flag(incoming_call),
    }
