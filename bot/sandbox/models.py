"""State objects the emulator keeps and tests read: accounts, activations, rents, mails.

They are pydantic models so that :meth:`Emulator.snapshot` is a plain ``model_dump`` and a
restarted sandbox can load them back.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from enum import IntEnum, StrEnum

from pydantic import BaseModel, Field

__all__ = [
    "Account",
    "Activation",
    "ActivationStatus",
    "Address",
    "CallTask",
    "Line",
    "Mail",
    "MailStatus",
    "Number",
    "Rent",
    "RentSms",
    "RentStatus",
    "Sms",
]


class ActivationStatus(IntEnum):
    """Numbers as in ``activationStatus`` (protocol.md §9.1)."""

    CODE_RECEIVED = 2
    WAIT_RETRY = 3
    WAIT_CODE = 4
    FINISHED = 6
    CANCELLED = 8
    EXPIRED = 10

    @property
    def is_open(self) -> bool:
        return self in (self.WAIT_CODE, self.CODE_RECEIVED, self.WAIT_RETRY)


class RentStatus(StrEnum):
    ACTIVE = "active"
    FINISHED = "finished"
    CANCELLED = "cancelled"
    REVOKED = "revoked"


class MailStatus(IntEnum):
    """Numbers as in getMailHistory ``status`` (protocol.md §7.4)."""

    WAITING = 3
    CANCELLED = 4
    SUCCESS = 5
    FINISHED = 6  # cancelled after the letter: closed, no refund (protocol.md §9.3)


class Account(BaseModel):
    key: str
    balance: Decimal = Decimal("0")
    cashback: Decimal = Decimal("0")
    # Sticky: once asked for, cashback is spent first on every later purchase (protocol.md §4.1).
    use_cashback: bool = False
    webhook_urls: list[str] = Field(default_factory=list)
    banned_until: float | None = None
    max_channels: int | None = None
    partner_verified: bool = True
    order_ids: list[str] = Field(default_factory=list)
    # The owner replaced the key on the site: the old one answers BAD_KEY, numbers live on.
    revoked: bool = False


class Sms(BaseModel):
    text: str
    code: str
    at: float
    phone_from: str | None = None


@dataclass(frozen=True, slots=True)
class Line:
    """A phone number and what it was bought for: what an add-on or a re-order keeps."""

    service: str
    country: int
    operator: str
    phone: str


class Number(BaseModel):
    """What activations and rents have in common: a number bought by a key for a price."""

    id: int
    key: str
    service: str
    country: int
    operator: str
    phone: str
    cost: Decimal

    @property
    def line(self) -> Line:
        return Line(self.service, self.country, self.operator, self.phone)


class Activation(Number):
    paid_cashback: Decimal = Decimal("0")
    created_at: float
    expires_at: float
    status: ActivationStatus = ActivationStatus.WAIT_CODE
    ready: bool = False
    forward: bool = False
    forward_to: str | None = None
    verification: bool = False
    call_from: str | None = None
    sms: list[Sms] = Field(default_factory=list)
    auto_sms_at: float | None = None
    parent_id: int | None = None
    repeated: bool = False
    additional_services: list[str] = Field(default_factory=list)
    closed_at: float | None = None
    order_id: str | None = None

    @property
    def is_open(self) -> bool:
        return self.status.is_open

    @property
    def code(self) -> str | None:
        """The latest code: the one getStatus reports."""
        return self.sms[-1].code if self.sms else None

    @property
    def codes(self) -> list[str]:
        return [sms.code for sms in self.sms]


class RentSms(BaseModel):
    phone_from: str
    text: str
    service: str
    at: float


class Rent(Number):
    hours: int
    created_at: float
    end_at: float
    number_dies_at: float
    status: RentStatus = RentStatus.ACTIVE
    url: str | None = None
    sms: list[RentSms] = Field(default_factory=list)
    next_auto_sms_at: float | None = None
    closed_at: float | None = None
    previous_id: int | None = None

    @property
    def is_active(self) -> bool:
        return self.status is RentStatus.ACTIVE


@dataclass(frozen=True, slots=True)
class Address:
    """A mailbox and the site it waits for a letter from: what "Another letter" keeps."""

    site: str
    email: str
    domain: str
    mail_type: int


class Mail(BaseModel):
    id: int
    key: str
    site: str
    email: str
    domain: str
    mail_type: int
    cost: Decimal
    created_at: float
    expires_at: float
    status: MailStatus = MailStatus.WAITING
    value: str | None = None
    full_message: str = ""
    letter_at: float | None = None
    auto_letter_at: float | None = None
    parent_id: int | None = None
    closed_at: float | None = None

    @property
    def address(self) -> Address:
        return Address(self.site, self.email, self.domain, self.mail_type)


class CallTask(BaseModel):
    activation_id: int
    key: str
    phone: str
    phone_from: str
    created_at: float
    status: str = "IN_PROCESS"
