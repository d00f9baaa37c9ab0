"""Typed results of provider calls.

Fields are coerced leniently because the protocol sends the same value as a number in one
answer and as a string in the next (ids, costs, counts, flags). Ids are plain ``int`` (they
passed 2**32 long ago); money is ``Decimal``.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from enum import IntEnum, StrEnum
from typing import Annotated, Any

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field

from bot.provider.values import text_list, to_bool, to_datetime, to_decimal, to_int


def _optional(convert: Any) -> Any:
    def run(value: Any) -> Any:
        if value is None or value == "":
            return None
        return convert(value)

    return run


Int = Annotated[int, BeforeValidator(to_int)]
Money = Annotated[Decimal, BeforeValidator(to_decimal)]
Flag = Annotated[bool, BeforeValidator(to_bool)]
When = Annotated[datetime, BeforeValidator(to_datetime)]
OptInt = Annotated[int | None, BeforeValidator(_optional(to_int))]
OptMoney = Annotated[Decimal | None, BeforeValidator(_optional(to_decimal))]
OptWhen = Annotated[datetime | None, BeforeValidator(_optional(to_datetime))]
Text = Annotated[str, BeforeValidator(lambda v: "" if v is None else str(v))]
OptText = Annotated[
    str | None, BeforeValidator(lambda v: None if v is None or v is False or v == "" else str(v))
]
Codes = Annotated[list[str], BeforeValidator(text_list)]


def _phone(value: Any) -> str:
    text = "" if value is None else str(value).strip().strip("'\"").strip()
    if not any(char.isdigit() for char in text):
        # A number bought without its phone is useless to the user: an unreadable answer.
        raise ValueError(f"not a phone number: {value!r}")
    return text


#: The number a purchase gave: never empty (``ACCESS_NUMBER:<id>`` alone is malformed).
Phone = Annotated[str, BeforeValidator(_phone)]


class Model(BaseModel):
    model_config = ConfigDict(frozen=True, populate_by_name=True, extra="ignore")


# --- account and catalogue ---


class Balance(Model):
    balance: Money
    #: Only known when getBalanceAndCashBack was asked too: the total minus the plain balance.
    cashback: Decimal | None = None


class TopCountry(Model):
    country: Int
    count: Int
    price: Money
    retail_price: OptMoney = None
    free_price_map: dict[Decimal, int] = Field(default_factory=dict, alias="freePriceMap")


class PriceInfo(Model):
    cost: Money
    count: Int = 0
    physical_count: OptInt = Field(default=None, alias="physicalCount")


class Country(Model):
    id: Int
    rus: Text = ""
    eng: Text = ""
    chn: Text = ""
    visible: Flag = True
    retry: Flag = True
    rent: Flag = False
    multi_service: Flag = Field(default=False, alias="multiService")


class CountryShare(Model):
    """getListOfTopCountriesByService: share of the service's purchases and success rate."""

    country: Int
    share: Money
    rate: Money


class ServiceName(Model):
    code: str
    name: Text


# --- activations ---


class Number(Model):
    """``ACCESS_NUMBER:<id>:<phone>`` (getNumber, getExtraActivation) and ``ADDITIONAL:...``."""

    activation_id: int
    phone: Phone


class NumberV2(Model):
    activation_id: Int = Field(alias="activationId")
    phone: Phone = Field(alias="phoneNumber")
    cost: Money = Field(alias="activationCost")
    country: OptInt = Field(default=None, alias="countryCode")
    can_get_another_sms: Flag = Field(default=True, alias="canGetAnotherSms")
    activation_time: OptWhen = Field(default=None, alias="activationTime")
    operator: OptText = Field(default=None, alias="activationOperator")
    currency: OptInt = None
    #: HeroSMS tells when the number expires; SMS-Activate does not.
    end_time: OptWhen = Field(default=None, alias="activationEndTime")


class MultiServiceActivation(Model):
    activation_id: Int = Field(alias="activation")
    phone: Phone
    service: Text


class SetStatusResult(StrEnum):
    READY = "ACCESS_READY"
    RETRY_GET = "ACCESS_RETRY_GET"
    ACTIVATION = "ACCESS_ACTIVATION"
    CANCEL = "ACCESS_CANCEL"


class ActivationAction(IntEnum):
    """Values of setStatus ``status``."""

    SMS_SENT = 1
    ANOTHER_CODE = 3
    FINISH = 6
    CANCEL = 8


class ActivationState(StrEnum):
    WAIT_CODE = "STATUS_WAIT_CODE"
    WAIT_RETRY = "STATUS_WAIT_RETRY"
    WAIT_RESEND = "STATUS_WAIT_RESEND"
    CANCELLED = "STATUS_CANCEL"
    CODE_RECEIVED = "STATUS_OK"


class ActivationStatus(Model):
    """getStatus. ``code`` is the received code (STATUS_OK) or the last one (WAIT_RETRY)."""

    state: ActivationState
    code: str | None = None

    @property
    def is_closed(self) -> bool:
        return self.state is ActivationState.CANCELLED


class ActiveActivation(Model):
    activation_id: Int = Field(alias="activationId")
    service: Text = Field(default="", alias="serviceCode")
    phone: Text = Field(default="", alias="phoneNumber")
    cost: OptMoney = Field(default=None, alias="activationCost")
    status: OptInt = Field(default=None, alias="activationStatus")
    codes: Codes = Field(default_factory=list, alias="smsCode")
    text: OptText = Field(default=None, alias="smsText")
    activation_time: OptWhen = Field(default=None, alias="activationTime")
    country: OptInt = Field(default=None, alias="countryCode")
    country_name: OptText = Field(default=None, alias="countryName")
    can_get_another_sms: Flag = Field(default=True, alias="canGetAnotherSms")
    currency: OptInt = None


class HistoryEntry(Model):
    id: Int
    date: OptWhen = None
    phone: Text = ""
    codes: Codes = Field(default_factory=list, alias="sms")
    cost: OptMoney = None
    status: OptText = None
    service: OptText = None
    currency: OptInt = None


class IncomingCallStatus(Model):
    """Status codes: 2 new, 3 closed successfully, 4 cancelled, 5 refunded."""

    status: Int
    phone: OptText = None


class ExtraActivationInfo(Model):
    cost: Money
    service: Text = ""
    phone: Text = ""
    country: OptInt = None


class OutgoingCall(Model):
    activation_id: int
    date: OptWhen = None
    phone_from: Text = Field(default="", alias="phoneFrom")
    status: Text = ""


class CallTask(Model):
    message: Text = ""


# --- rent ---


class RentServiceOffer(Model):
    cost: Money
    count: Int = Field(default=0, alias="quant")


class RentOffer(Model):
    countries: list[int]
    operators: list[str]
    services: dict[str, RentServiceOffer]
    currency: OptInt = None


class RentNumber(Model):
    id: Int
    end_date: When = Field(alias="endDate")
    number: Phone


class RentSms(Model):
    phone_from: Text = Field(default="", alias="phoneFrom")
    text: Text = ""
    service: Text = ""
    date: OptWhen = None


class RentAction(IntEnum):
    """Values of setRentStatus ``status``."""

    FINISH = 1
    CANCEL = 2


class RentState(StrEnum):
    WAIT_CODE = "STATUS_WAIT_CODE"
    ACTIVE = "SUCCESS"
    FINISHED = "STATUS_FINISH"
    CANCELLED = "STATUS_CANCEL"
    REVOKED = "STATUS_REVOKE"


class RentStatus(Model):
    """getRentStatus; ``messages`` are oldest first (the wire sends newest first)."""

    state: RentState
    quantity: int = 0
    messages: list[RentSms] = Field(default_factory=list)

    @property
    def is_closed(self) -> bool:
        return self.state in {RentState.FINISHED, RentState.CANCELLED, RentState.REVOKED}


class RentListEntry(Model):
    id: Int
    phone: Text = ""


class RentPrice(Model):
    price: Money
    currency: OptInt = None


# --- mail ---


class MailZone(Model):
    name: Text
    cost: Money


class MailDomain(Model):
    name: Text
    cost: Money
    count: Int = 0


class MailDomains(Model):
    zones: list[MailZone] = Field(default_factory=list)
    popular: list[MailDomain] = Field(default_factory=list)


class MailType(IntEnum):
    ZONE = 1
    POPULAR = 2


class MailActivation(Model):
    id: Int
    email: Text


class MailHistoryEntry(Model):
    """Status codes: 3 waiting, 4 cancelled, 5 success, 6 cancelled after success, 7 refund."""

    id: Int
    site: Text = ""
    email: Text = ""
    status: OptInt = None
    value: OptText = None
    cost: OptMoney = None
    date: OptWhen = None
    full_message: OptText = None


class MailHistory(Model):
    entries: list[MailHistoryEntry] = Field(default_factory=list, alias="list")
    pages: Int = 0
    count: Int = 0


class MailCheck(Model):
    """checkMailActivation. ``received`` is false while the provider answers WAIT_LINK."""

    received: bool
    value: str | None = None
    full_message: str | None = None


class PartnerProduct(Model):
    key: Text
    manual: Text = ""
