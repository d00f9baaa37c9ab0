"""Errors raised by the provider client.

Every failure of a call to an SMS-Activate-compatible ``handler_api.php`` endpoint is a
:class:`ProviderError`. The tree::

    ProviderError                      anything that went wrong talking to the provider
    ├── TransportError                 no usable answer: network, timeout, HTTP error page
    │   ├── ProviderTimeout            the request timed out (the outcome is unknown)
    │   ├── ProviderConnectError       the request never reached the provider
    │   │   └── ProviderBusy           not sent: the bot's lane to it is full (lane.py)
    │   └── ProviderHTTPError          a non-200 answer without a recognisable token
    ├── MalformedResponse              a 200 answer that is neither a token nor the expected JSON
    └── ProviderAPIError               the provider answered with an error token
        ├── AuthError                  BAD_KEY, NO_KEY
        ├── BadAction                  BAD_ACTION (unknown action, or reseller not verified)
        ├── ServerError                ERROR_SQL, SQL_ERROR, SERVER_ERROR (transient)
        ├── RateLimited                RATE_LIMIT / HTTP 429 (transient)
        ├── AccountRestricted          account-level refusals
        │   ├── Banned                 BANNED:<until>           (.until, .raw_until)
        │   ├── ChannelsLimit          CHANNELS_LIMIT
        │   └── AccountInactive        ACCOUNT_INACTIVE
        ├── InsufficientFunds          NO_BALANCE, NO_BALANCE_FORWARD, BAD_BALANCE
        ├── OutOfStock                 NO_NUMBERS, OUT_OF_STOCK, NOT_AVAILABLE,
        │                              NO_YULA_MAIL, WHATSAPP_NOT_AVAILABLE,
        │                              SERVICE_NOT_AVAILABLE
        ├── WrongMaxPrice              WRONG_MAX_PRICE:<min>    (.min_price)
        ├── InvalidRequest             a parameter the provider refused
        │   ├── BadService             BAD_SERVICE, WRONG_SERVICE
        │   ├── BadCountry             BAD_COUNTRY, WRONG_COUNTRY_ID
        │   ├── BadOperator            BAD_OPERATOR, WRONG_OPERATOR
        │   ├── BadStatus              BAD_STATUS, INCORECT_STATUS
        │   ├── WrongExceptionPhone    WRONG_EXCEPTION_PHONE
        │   ├── WrongDate              WRONG_DATE
        │   ├── InvalidTime            INVALID_TIME
        │   ├── MaxHoursExceeded       MAX_HOURS_EXCEED         (.max_hours from info.max)
        │   ├── BadSite                BAD_SITE
        │   ├── BlockedSite            BLOCKED_SITE
        │   ├── MailTypeError          MAIL_TYPE_ERROR
        │   ├── BadData                BAD_DATA
        │   ├── DuplicateOrder         ORDER_ALREADY_EXISTS
        │   └── AdditionalServiceError WRONG_ADDITIONAL_SERVICE, WRONG_SECURITY,
        │                              REPEAT_ADDITIONAL_SERVICE
        ├── NotFound                   the named activation, rent or mail is not the caller's
        │   ├── NoActivation           NO_ACTIVATION, WRONG_ACTIVATION_ID,
        │   │                          INVALID_ACTIVATION_ID, ACTIVATION_NOT_FOUND,
        │   │                          NOT_FOUND, NUMBER_NOT_EXIST, NOT_INCOMING
        │   └── NoRent                 NO_ID_RENT, INVALID_PHONE
        ├── EarlyCancelDenied          EARLY_CANCEL_DENIED      (.seconds_left when known)
        ├── ActionRefused              the object's state does not allow the action
        │   ├── CantCancel             CANT_CANCEL, FREE_CANCELLATION_EXPIRED
        │   ├── AlreadyClosed          ALREADY_FINISH, ALREADY_CANCEL, ACTIVATION_NOT_ACTIVE,
        │   │                          OTP_RECEIVED, NEW_OTP_RECEIVED
        │   ├── RentEnded              RENT_DIE
        │   ├── ReactivationUnavailable RENEW_ACTIVATION_NOT_AVAILABLE,
        │   │                          NEW_ACTIVATION_IMPOSSIBLE, SIM_OFFLINE
        │   ├── CallTaskExists         CALL_TASK_ALREADY_EXIST
        │   └── ParseCallRefused       PARSE_COUNT_EXCEED, NO_CALL
        ├── Empty                      "nothing to list" answers the client turns into empty
        │                              results: NO_ACTIVATIONS, OPERATORS_NOT_FOUND
        ├── StateAnswer                states the protocol sends in error shape; the client
        │                              turns them into results: STATUS_WAIT_CODE,
        │                              STATUS_FINISH, STATUS_CANCEL, STATUS_REVOKE, WAIT_LINK
        └── UnknownProviderError       a token this catalogue does not know (.raw keeps the body)

``ProviderAPIError`` carries ``token`` (the provider's word), ``action``, ``payload`` (text after
the first ``:``), ``info`` (the JSON ``info`` object, when any) and ``raw`` (the body). The API
key never appears in any of them: the client does not put the request URL into an error.
Each class lists its words in ``tokens``; :func:`bot.provider.tokens.error_for_token` builds the
error for a word.

``transient`` is true for errors worth retrying later (transport, server and rate-limit errors).
``failure`` is true where the provider failed to serve the request (no usable answer, a server
error, a limit, an unknown word), false where it answered: "no numbers", "still waiting" or "bad
key" come from a provider that works, and the operator's error rate does not count them.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any, ClassVar

from bot.provider.values import decimal_or_none


class ProviderError(Exception):
    """Base of every provider failure."""

    transient: ClassVar[bool] = False
    failure: ClassVar[bool] = True

    def __init__(self, message: str, *, action: str | None = None) -> None:
        super().__init__(message)
        self.action = action


class TransportError(ProviderError):
    """No usable answer came back; the outcome of the request is unknown or it never ran."""

    transient = True


class ProviderTimeout(TransportError):
    """The request timed out: the provider may or may not have carried it out."""


class ProviderConnectError(TransportError):
    """The request never reached the provider, so it certainly was not carried out."""


class ProviderHTTPError(TransportError):
    """A non-200 answer whose body carries no token we recognise (an error page, a proxy)."""

    def __init__(self, status_code: int, raw: str, *, action: str | None = None) -> None:
        super().__init__(f"HTTP {status_code} from provider", action=action)
        self.status_code = status_code
        self.raw = raw


class MalformedResponse(ProviderError):
    """A 200 answer whose body is not what the action returns (garbage, truncated JSON)."""

    transient = True

    def __init__(self, message: str, raw: str, *, action: str | None = None) -> None:
        super().__init__(message, action=action)
        self.raw = raw


class ProviderAPIError(ProviderError):
    """The provider answered with an error token."""

    failure = False
    tokens: ClassVar[tuple[str, ...]] = ()

    def __init__(
        self,
        token: str,
        *,
        action: str | None = None,
        payload: str | None = None,
        info: dict[str, Any] | None = None,
        raw: str = "",
        status_code: int = 200,
    ) -> None:
        text = token if payload is None else f"{token}:{payload}"
        super().__init__(text, action=action)
        self.token = token
        self.payload = payload
        self.info = info or {}
        self.raw = raw
        self.status_code = status_code

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.token!r}, action={self.action!r})"


class AuthError(ProviderAPIError):
    tokens = ("BAD_KEY", "NO_KEY", "BAD_API_KEY", "MISSING_API_KEY")


class BadAction(ProviderAPIError):
    failure = True
    tokens = ("BAD_ACTION",)


class ServerError(ProviderAPIError):
    failure = True
    transient = True
    tokens = ("ERROR_SQL", "SQL_ERROR", "SERVER_ERROR")


class RateLimited(ProviderAPIError):
    failure = True
    transient = True
    tokens = ("RATE_LIMIT", "TOO_MANY_REQUESTS")

    @property
    def retry_after(self) -> float | None:
        for key in ("retry_after", "retry_after_seconds", "retryAfter"):
            value = decimal_or_none(self.info.get(key))
            if value is not None:
                return float(value)
        return None


class AccountRestricted(ProviderAPIError):
    pass


class Banned(AccountRestricted):
    tokens = ("BANNED",)

    @property
    def raw_until(self) -> str | None:
        value = self.payload or self.info.get("banned_until") or self.info.get("readable_date")
        if value is None:
            return None
        return str(value).strip().strip("'\"").strip()

    @property
    def until(self) -> datetime | None:
        """When the ban ends, if the provider said so in a format we can read."""
        raw = self.raw_until
        if not raw:
            return None
        for fmt in ("%Y-%m-%d %H-%M-%S", "%Y-%m-%d %H:%M:%S", "%Y-%m-%dT%H:%M:%S"):
            try:
                return datetime.strptime(raw, fmt)
            except ValueError:
                continue
        try:
            return datetime.fromisoformat(raw)
        except ValueError:
            return None


class ChannelsLimit(AccountRestricted):
    tokens = ("CHANNELS_LIMIT",)


class AccountInactive(AccountRestricted):
    tokens = ("ACCOUNT_INACTIVE",)


class InsufficientFunds(ProviderAPIError):
    tokens = ("NO_BALANCE", "NO_BALANCE_FORWARD", "BAD_BALANCE")


class OutOfStock(ProviderAPIError):
    tokens = (
        "NO_NUMBERS",
        "OUT_OF_STOCK",
        "NOT_AVAILABLE",
        "NO_YULA_MAIL",
        "WHATSAPP_NOT_AVAILABLE",
        "SERVICE_NOT_AVAILABLE",
    )


class WrongMaxPrice(ProviderAPIError):
    tokens = ("WRONG_MAX_PRICE",)

    @property
    def min_price(self) -> Decimal | None:
        """The lowest maxPrice the provider accepts."""
        return decimal_or_none(self.payload) or decimal_or_none(self.info.get("min"))


class InvalidRequest(ProviderAPIError):
    tokens: ClassVar[tuple[str, ...]] = ("UNPROCESSABLE_ENTITY",)


class BadService(InvalidRequest):
    tokens = ("BAD_SERVICE", "WRONG_SERVICE")


class BadCountry(InvalidRequest):
    tokens = ("BAD_COUNTRY", "WRONG_COUNTRY_ID")


class BadOperator(InvalidRequest):
    tokens = ("BAD_OPERATOR", "WRONG_OPERATOR")


class BadStatus(InvalidRequest):
    tokens = ("BAD_STATUS", "INCORECT_STATUS", "INCORRECT_STATUS")


class WrongExceptionPhone(InvalidRequest):
    tokens = ("WRONG_EXCEPTION_PHONE",)


class WrongDate(InvalidRequest):
    tokens = ("WRONG_DATE",)


class InvalidTime(InvalidRequest):
    tokens = ("INVALID_TIME",)


class MaxHoursExceeded(InvalidRequest):
    tokens = ("MAX_HOURS_EXCEED",)

    @property
    def max_hours(self) -> int | None:
        value = decimal_or_none(self.info.get("max"))
        return None if value is None else int(value)


class BadSite(InvalidRequest):
    tokens = ("BAD_SITE",)


class BlockedSite(InvalidRequest):
    tokens = ("BLOCKED_SITE",)


class MailTypeError(InvalidRequest):
    tokens = ("MAIL_TYPE_ERROR",)


class BadData(InvalidRequest):
    tokens = ("BAD_DATA",)


class DuplicateOrder(InvalidRequest):
    tokens = ("ORDER_ALREADY_EXISTS",)


class AdditionalServiceError(InvalidRequest):
    tokens = ("WRONG_ADDITIONAL_SERVICE", "WRONG_SECURITY", "REPEAT_ADDITIONAL_SERVICE")


class NotFound(ProviderAPIError):
    pass


class NoActivation(NotFound):
    tokens = (
        "NO_ACTIVATION",
        "WRONG_ACTIVATION_ID",
        "INVALID_ACTIVATION_ID",
        "ACTIVATION_NOT_FOUND",
        "NOT_FOUND",
        "NUMBER_NOT_EXIST",
        "NOT_INCOMING",
    )


class NoRent(NotFound):
    tokens = ("NO_ID_RENT", "INVALID_PHONE")


class EarlyCancelDenied(ProviderAPIError):
    tokens = ("EARLY_CANCEL_DENIED",)

    @property
    def seconds_left(self) -> int | None:
        """Seconds until cancel is allowed, when the provider tells (HeroSMS does)."""
        for key in ("secondsLeft", "seconds_left", "retry_after_seconds"):
            value = decimal_or_none(self.info.get(key))
            if value is not None:
                return max(0, int(value))
        return None


class ActionRefused(ProviderAPIError):
    pass


class CantCancel(ActionRefused):
    tokens = ("CANT_CANCEL", "FREE_CANCELLATION_EXPIRED")


class AlreadyClosed(ActionRefused):
    tokens = (
        "ALREADY_FINISH",
        "ALREADY_CANCEL",
        "ACTIVATION_NOT_ACTIVE",
        "OTP_RECEIVED",
        "NEW_OTP_RECEIVED",
    )


class RentEnded(ActionRefused):
    tokens = ("RENT_DIE",)


class ReactivationUnavailable(ActionRefused):
    tokens = ("RENEW_ACTIVATION_NOT_AVAILABLE", "NEW_ACTIVATION_IMPOSSIBLE", "SIM_OFFLINE")


class CallTaskExists(ActionRefused):
    tokens = ("CALL_TASK_ALREADY_EXIST",)


class ParseCallRefused(ActionRefused):
    tokens = ("PARSE_COUNT_EXCEED", "NO_CALL")


class Empty(ProviderAPIError):
    tokens = ("NO_ACTIVATIONS", "OPERATORS_NOT_FOUND")


class StateAnswer(ProviderAPIError):
    tokens = ("STATUS_WAIT_CODE", "STATUS_FINISH", "STATUS_CANCEL", "STATUS_REVOKE", "WAIT_LINK")


class UnknownProviderError(ProviderAPIError):
    """A token we do not know; ``raw`` keeps the whole body for the log."""

    failure = True


#: A paid call that failed with one of these may still have been carried out (the request
#: left, the answer did not come back usable): the caller must look at the provider's state
#: before telling the user anything, and never simply pay again. The whole transport branch
#: counts, connect errors too: looking costs one read, paying twice costs the user's money.
#: A rate limit too: the protocol does not say a 429 means "not carried out" (see transport).
OUTCOME_UNKNOWN: tuple[type[ProviderError], ...] = (
    TransportError,
    ServerError,
    MalformedResponse,
    RateLimited,
)
