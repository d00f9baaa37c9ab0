"""An async client for the SMS-Activate ``handler_api.php`` protocol.

One :class:`ProviderClient` is one account (endpoint + API key) over a shared, long-lived
``httpx.AsyncClient``; creating one costs nothing, so the bot makes one per user request.

Requests, timeouts and the retry policy belong to :class:`~bot.provider.transport.Transport`:
reads are retried, paid calls only when they certainly did not run.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime
from decimal import Decimal
from enum import IntEnum
from typing import Any, TypeVar

import httpx
from pydantic import BaseModel, SecretStr, ValidationError

from bot.provider.errors import (
    Empty,
    MalformedResponse,
    OutOfStock,
    ProviderError,
    StateAnswer,
)
from bot.provider.models import (
    ActivationAction,
    ActivationState,
    ActivationStatus,
    ActiveActivation,
    Balance,
    CallTask,
    Country,
    CountryShare,
    ExtraActivationInfo,
    HistoryEntry,
    IncomingCallStatus,
    MailActivation,
    MailCheck,
    MailDomains,
    MailHistory,
    MailType,
    MultiServiceActivation,
    Number,
    NumberV2,
    OutgoingCall,
    PartnerProduct,
    PriceInfo,
    RentListEntry,
    RentNumber,
    RentOffer,
    RentPrice,
    RentSms,
    RentState,
    RentStatus,
    ServiceName,
    SetStatusResult,
    TopCountry,
)
from bot.provider.parsing import (
    Answer,
    Token,
    indexed_values,
    raise_token,
    to_decimal,
    to_int,
)
from bot.provider.transport import (
    DEFAULT_TIMEOUT,
    PAID_ACTIONS,
    READ_ACTIONS,
    RequestGate,
    RequestObserver,
    Transport,
    build_http_client,
    fingerprint,
)

# The client's vocabulary stays importable from here, where callers have always found it.
__all__ = [
    "DEFAULT_TIMEOUT",
    "PAID_ACTIONS",
    "READ_ACTIONS",
    "ProviderClient",
    "RentAction",
    "RequestGate",
    "RequestObserver",
    "build_http_client",
    "fingerprint",
]

M = TypeVar("M", bound=BaseModel)


class RentAction(IntEnum):
    FINISH = 1
    CANCEL = 2


def _flag(value: bool) -> str | None:
    return "true" if value else None


def _csv(values: str | Sequence[str] | None) -> str | None:
    if values is None:
        return None
    if isinstance(values, str):
        return values.strip() or None
    joined = ",".join(v.strip() for v in values if v and v.strip())
    return joined or None


def _money(value: Decimal | float | str | None) -> str | None:
    if value is None:
        return None
    return format(to_decimal(value), "f")


class ProviderClient:
    """Typed access to one provider account."""

    def __init__(
        self,
        http: httpx.AsyncClient,
        endpoint: str,
        api_key: SecretStr | str,
        *,
        read_retries: int = 3,
        backoff: float = 0.25,
        observer: RequestObserver | None = None,
        gate: RequestGate | None = None,
    ) -> None:
        self._transport = Transport(
            http,
            endpoint,
            api_key,
            read_retries=read_retries,
            backoff=backoff,
            observer=observer,
            gate=gate,
        )

    def __repr__(self) -> str:
        return f"ProviderClient({self.endpoint!r}, api_key=SecretStr('**********'))"

    @property
    def endpoint(self) -> str:
        return self._transport.endpoint

    @property
    def key_fingerprint(self) -> str:
        """Names the key without revealing it (to tell whether it changed)."""
        return self._transport.key_fingerprint

    async def _call(self, action: str, **params: Any) -> Answer:
        return await self._transport.call(action, **params)

    # --- shape helpers ---

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

    # --- account ---

    async def get_balance(self) -> Decimal:
        answer = await self._call("getBalance")
        return self._balance("getBalance", answer)

    async def get_balance_and_cashback(self) -> Decimal:
        """Balance plus cashback, as the provider sums them."""
        answer = await self._call("getBalanceAndCashBack")
        return self._balance("getBalanceAndCashBack", answer)

    async def get_balance_info(self, *, with_cashback: bool = True) -> Balance:
        balance = await self.get_balance()
        if not with_cashback:
            return Balance(balance=balance)
        try:
            total = await self.get_balance_and_cashback()
        except ProviderError:
            return Balance(balance=balance)
        return Balance(balance=balance, cashback=max(Decimal(0), total - balance))

    def _balance(self, action: str, answer: Answer) -> Decimal:
        token = self._token(action, answer, "ACCESS_BALANCE")
        try:
            return to_decimal(token.payload)
        except ValueError:
            raise MalformedResponse(
                f"{action}: unreadable balance", answer.raw[:500], action=action
            ) from None

    # --- catalogue ---

    async def get_numbers_status(
        self, country: int | None = None, operator: str | Sequence[str] | None = None
    ) -> dict[str, int]:
        """Stock per service. Legacy ``_0``/``_1`` forwarding suffixes are folded."""
        action = "getNumbersStatus"
        answer = await self._call(action, country=country, operator=_csv(operator))
        counts: dict[str, int] = {}
        for key, value in self._object(action, answer).items():
            service = key[:-2] if key.endswith(("_0", "_1")) else key
            try:
                count = to_int(value)
            except ValueError:
                continue
            counts[service] = max(count, counts.get(service, 0))
        return counts

    async def get_top_countries_by_service(
        self, service: str | None = None, *, free_price: bool = False
    ) -> list[TopCountry]:
        action = "getTopCountriesByService"
        answer = await self._call(action, service=service, freePrice=_flag(free_price))
        return self._models(action, TopCountry, self._list(action, answer), answer.raw)

    async def get_operators(self, country: int | None = None) -> dict[int, list[str]]:
        action = "getOperators"
        try:
            answer = await self._call(action, country=country)
        except Empty:
            return {}
        data = self._object(action, answer).get("countryOperators") or {}
        if not isinstance(data, dict):
            raise MalformedResponse(f"{action}: no countryOperators", answer.raw[:500])
        result: dict[int, list[str]] = {}
        for key, operators in data.items():
            names = indexed_values(operators) if operators else []
            result[to_int(key)] = [str(name) for name in names]
        return result

    async def get_prices(
        self, service: str | None = None, country: int | None = None
    ) -> dict[int, dict[str, PriceInfo]]:
        """Country -> service -> price and stock."""
        action = "getPrices"
        answer = await self._call(action, service=service, country=country)
        result: dict[int, dict[str, PriceInfo]] = {}
        for country_key, services in self._object(action, answer).items():
            if not isinstance(services, dict):
                continue
            result[to_int(country_key)] = {
                code: self._model(action, PriceInfo, _price_fields(info), answer.raw)
                for code, info in services.items()
                if isinstance(info, dict)
            }
        return result

    async def get_prices_verification(
        self, service: str | None = None
    ) -> dict[str, dict[int, PriceInfo]]:
        """Service -> country -> price (note: the nesting is the reverse of getPrices)."""
        action = "getPricesVerification"
        answer = await self._call(action, service=service)
        result: dict[str, dict[int, PriceInfo]] = {}
        for code, countries in self._object(action, answer).items():
            if not isinstance(countries, dict):
                continue
            result[code] = {
                to_int(country): self._model(action, PriceInfo, _price_fields(info), answer.raw)
                for country, info in countries.items()
                if isinstance(info, dict)
            }
        return result

    async def get_countries(self) -> dict[int, Country]:
        action = "getCountries"
        answer = await self._call(action)
        body = answer.body
        if isinstance(body, dict):
            # Keyed by id; an entry may omit its own "id".
            items = [
                {"id": key, **value} if isinstance(value, dict) else value
                for key, value in body.items()
            ]
        else:
            items = self._list(action, answer)
        countries = self._models(action, Country, items, answer.raw)
        return {country.id: country for country in countries}

    async def get_list_of_top_countries_by_service(
        self, service: str, *, length: int | None = None, page: int | None = None
    ) -> list[CountryShare]:
        action = "getListOfTopCountriesByService"
        answer = await self._call(action, service=service, length=length, page=page)
        return self._models(action, CountryShare, self._list(action, answer), answer.raw)

    async def get_services_list(
        self, country: int | None = None, lang: str | None = None
    ) -> list[ServiceName]:
        action = "getServicesList"
        answer = await self._call(action, country=country, lang=lang)
        body = answer.body
        services = body.get("services") if isinstance(body, dict) else body
        if not isinstance(services, list | dict):
            raise MalformedResponse(f"{action}: no services", answer.raw[:500], action=action)
        return self._models(action, ServiceName, indexed_values(services), answer.raw)

    # --- activations ---

    async def get_number(
        self,
        service: str,
        country: int | None = None,
        *,
        operator: str | Sequence[str] | None = None,
        max_price: Decimal | None = None,
        phone_exception: str | Sequence[str] | None = None,
        verification: bool = False,
        forward: bool = False,
        use_cashback: bool = False,
        ref: str | None = None,
    ) -> Number:
        action = "getNumber"
        answer = await self._call(
            action,
            **_purchase_params(
                service, country, operator, max_price, phone_exception, verification, ref
            ),
            forward="1" if forward else None,
            useCashBack=_flag(use_cashback),
        )
        return self._id_and_phone(action, self._token(action, answer, "ACCESS_NUMBER"), answer)

    async def get_number_v2(
        self,
        service: str,
        country: int | None = None,
        *,
        operator: str | Sequence[str] | None = None,
        max_price: Decimal | None = None,
        phone_exception: str | Sequence[str] | None = None,
        verification: bool = False,
        forward: bool = False,
        use_cashback: bool = False,
        ref: str | None = None,
        order_id: str | None = None,
    ) -> NumberV2:
        action = "getNumberV2"
        answer = await self._call(
            action,
            **_purchase_params(
                service, country, operator, max_price, phone_exception, verification, ref
            ),
            forward="1" if forward else None,
            useCashBack=_flag(use_cashback),
            orderId=order_id,
        )
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
            multiService=_csv(services),
            multiForward=multi_forward,
            country=country,
            operator=_csv(operator),
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
        return ActivationStatus(state=ActivationState(token.word), code=code)

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

    # --- rent ---

    async def get_rent_services_and_countries(
        self,
        rent_time: int | None = None,
        *,
        country: int | None = None,
        operator: str | Sequence[str] | None = None,
        incoming_call: bool = False,
    ) -> RentOffer:
        action = "getRentServicesAndCountries"
        answer = await self._call(
            action,
            rent_time=rent_time,
            country=country,
            operator=_csv(operator),
            incomingCall=_flag(incoming_call),
        )
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
        answer = await self._call(
            action,
            service=service,
            rent_time=rent_time,
            country=country,
            operator=_csv(operator),
            url=webhook_url,
            incomingCall=_flag(incoming_call),
        )
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

    # --- mail ---

    def _mail_response(self, action: str, answer: Answer) -> Any:
        return self._object(action, answer).get("response")

    async def get_domains(self, site: str) -> MailDomains:
        action = "getDomains"
        answer = await self._call(action, site=site)
        response = self._mail_response(action, answer) or {}
        return self._model(action, MailDomains, response, answer.raw)

    async def buy_mail_activation(
        self, site: str, mail_type: MailType, mail_domain: str
    ) -> MailActivation:
        action = "buyMailActivation"
        answer = await self._call(
            action, site=site, mail_type=int(mail_type), mail_domain=mail_domain
        )
        return self._model(action, MailActivation, self._mail_response(action, answer), answer.raw)

    async def reorder_mail_activation(self, mail_id: int) -> MailActivation:
        """Wait for another letter on the same mailbox; the answer carries a new id."""
        action = "reorderMailActivation"
        answer = await self._call(action, id=mail_id)
        return self._model(action, MailActivation, self._mail_response(action, answer), answer.raw)

    async def get_mail_history(
        self,
        *,
        page: int | None = None,
        per_page: int | None = None,
        search: str | None = None,
        sort: str | None = None,
    ) -> MailHistory:
        action = "getMailHistory"
        answer = await self._call(action, page=page, per_page=per_page, search=search, sort=sort)
        response = self._mail_response(action, answer) or {}
        return self._model(action, MailHistory, response, answer.raw)

    async def cancel_mail_activation(self, mail_id: int) -> None:
        action = "cancelMailActivation"
        answer = await self._call(action, id=mail_id)
        self._object(action, answer)

    async def check_mail_activation(self, mail_id: int) -> MailCheck:
        action = "checkMailActivation"
        try:
            answer = await self._call(action, id=mail_id)
        except StateAnswer as state:
            if state.token == "WAIT_LINK":
                return MailCheck(received=False)
            raise
        response = self._mail_response(action, answer)
        if isinstance(response, dict):
            value = response.get("value")
            full = response.get("full_message")
        else:
            value, full = response, None
        value_text = str(value) if value not in (None, "") else None
        full_text = str(full) if full not in (None, "") else None
        if value_text is None and full_text is None:
            return MailCheck(received=False)
        return MailCheck(received=True, value=value_text, full_message=full_text)

    # --- partner software ---

    async def buy_partner_product(self, product_id: int) -> PartnerProduct:
        action = "buyPartnerProduct"
        answer = await self._call(action, productId=product_id)
        return self._model(action, PartnerProduct, self._object(action, answer), answer.raw)


def _purchase_params(
    service: str,
    country: int | None,
    operator: str | Sequence[str] | None,
    max_price: Decimal | None,
    phone_exception: str | Sequence[str] | None,
    verification: bool,
    ref: str | None,
) -> dict[str, str | int | None]:
    return {
        "service": service,
        "country": country,
        "operator": _csv(operator),
        "maxPrice": _money(max_price),
        "phoneException": _csv(phone_exception),
        "verification": _flag(verification),
        "ref": ref,
    }


def _price_fields(info: dict[str, Any]) -> dict[str, Any]:
    """getPrices says ``cost``/``count`` (or ``quant``); getPricesVerification ``price``."""
    fields = dict(info)
    if "cost" not in fields and "price" in fields:
        fields["cost"] = fields["price"]
    if "count" not in fields and "quant" in fields:
        fields["count"] = fields["quant"]
    return fields


def _timestamp(value: datetime | int | None) -> int | None:
    if value is None or isinstance(value, int):
        return value
    return int(value.timestamp())
