"""Every malformed answer becomes a typed error, never a raw exception or a silent wrong value.

A raw ``ValueError`` out of the client skips the paid path's "look it up, never buy again" rule,
and a number with an empty phone or a "code received" with no code is worse: it looks like
success. Each body here is one a provider (or a broken proxy) could send; the HeroSMS shapes
(``data`` instead of ``activeActivations``, JSON objects everywhere) are included.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from decimal import Decimal

import httpx
import pytest

from bot.provider import ProviderClient
from bot.provider import errors as e
from bot.provider.errors import OUTCOME_UNKNOWN

Call = Callable[[ProviderClient], Awaitable[object]]


def _client(body: str) -> ProviderClient:
    def reply(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, text=body)

    http = httpx.AsyncClient(transport=httpx.MockTransport(reply))
    return ProviderClient(http, "https://provider.test/handler_api.php", "key", backoff=0)


# Each action with the malformed bodies it is fed.
GETRENTNUMBER = '{"status":"success","phone":%s}'
BODIES: dict[str, tuple[Call, list[str]]] = {
    # No id, an empty id, no phone, a fractional or non-numeric id.
    "getNumber": (
        lambda c: c.get_number("tg", 6),
        [
            "ACCESS_NUMBER",
            "ACCESS_NUMBER:",
            "ACCESS_NUMBER:4318034203",
            "ACCESS_NUMBER:4318034203:",
            "ACCESS_NUMBER:abc:79001234567",
            "ACCESS_NUMBER:1.5:79001234567",
        ],
    ),
    "getExtraActivation": (lambda c: c.get_extra_activation(5), ["ACCESS_NUMBER::79001234567"]),
    "getAdditionalService": (lambda c: c.get_additional_service(5, "wa"), ["ADDITIONAL:"]),
    # SMS-Activate and HeroSMS answer getNumberV2 with the same object.
    "getNumberV2": (
        lambda c: c.get_number_v2("tg", 6),
        [
            '{"activationId":"","phoneNumber":"79001234567","activationCost":"0.5"}',
            '{"activationId":"12","activationCost":"0.5"}',
            '{"activationId":"12","phoneNumber":"79001234567","activationCost":"NaN"}',
            "[1, 2]",
        ],
    ),
    "getMultiServiceNumber": (
        lambda c: c.get_multi_service_number(["tg", "wa"], 6),
        ['[{"phone":"79001234567","activation":"abc","service":"tg"}]', '["x", "y"]'],
    ),
    # "Code received" with no code.
    "getStatus": (lambda c: c.get_status(1), ["STATUS_OK", "STATUS_OK:", "STATUS_OK:''"]),
    "getRentNumber": (
        lambda c: c.get_rent_number("tg", 4),
        [
            GETRENTNUMBER % '{"id":"x","endDate":"2026-12-03 10:00:00","number":"7900"}',
            GETRENTNUMBER % '"79001234567"',
            GETRENTNUMBER % '{"id":"5","endDate":"2026-12-03 10:00:00","number":""}',
        ],
    ),
    "continueRentNumber": (
        lambda c: c.continue_rent_number(5, 4),
        [GETRENTNUMBER % '{"id":"5","endDate":"soon","number":"79001234567"}'],
    ),
    # Catalogue keys and values that are not numbers.
    "getOperators": (
        lambda c: c.get_operators(),
        [
            '{"status":"success","countryOperators":{"abc":["mts"]}}',
            '{"status":"success","countryOperators":{"0":5}}',
        ],
    ),
    "getPrices": (
        lambda c: c.get_prices(),
        ['{"abc":{"tg":{"cost":1,"count":2}}}', '{"6":{"tg":{"cost":"abc","count":2}}}'],
    ),
    "getPricesVerification": (
        lambda c: c.get_prices_verification(),
        ['{"tg":{"abc":{"price":1,"count":2}}}'],
    ),
    "getCountries": (lambda c: c.get_countries(), ['{"abc":{"eng":"Nowhere"}}', '["x"]']),
    # Lists of the wrong shape (HeroSMS says "data" where SMS-Activate says "activeActivations").
    "getActiveActivations": (
        lambda c: c.get_active_activations(),
        [
            '{"status":"success","activeActivations":"abc"}',
            '{"status":"success","activeActivations":[1,2]}',
            '{"status":"success","data":"abc"}',
            '{"status":"success","data":[{"activationId":"x","phoneNumber":"7900"}]}',
        ],
    ),
    "getRentList": (
        lambda c: c.get_rent_list(),
        [
            '{"status":"success","values":"abc"}',
            '{"status":"success","values":{"0":{"id":"x","phone":"7900"}}}',
        ],
    ),
    "getRentStatus": (
        lambda c: c.get_rent_status(5),
        [
            '{"status":"success","quantity":"1","values":5}',
            '{"status":"success","quantity":"abc","values":{}}',
        ],
    ),
    "getRentServicesAndCountries": (
        lambda c: c.get_rent_services_and_countries(4),
        ['{"countries":{"0":"abc"},"operators":{},"services":{}}'],
    ),
    "getBalance": (lambda c: c.get_balance(), ["ACCESS_BALANCE:", "ACCESS_BALANCE:abc"]),
    "getNumbersStatus": (lambda c: c.get_numbers_status(), ['["tg_0"]']),
}
CASES = [
    pytest.param(call, body, id=f"{action} {body[:40]}")
    for action, (call, bodies) in BODIES.items()
    for body in bodies
]


@pytest.mark.parametrize(("call", "body"), CASES)
async def test_malformed_answer_is_a_typed_error(call: Call, body: str) -> None:
    client = _client(body)
    with pytest.raises(e.MalformedResponse) as caught:
        await call(client)
    # The paid path reads a malformed answer as "outcome unknown": it looks, never pays again.
    assert isinstance(caught.value, OUTCOME_UNKNOWN)
    assert caught.value.action


async def test_status_ok_with_a_code_is_still_read() -> None:
    status = await _client("STATUS_OK:'12345'").get_status(1)
    assert status.code == "12345"


async def test_well_formed_number_is_unchanged() -> None:
    number = await _client("ACCESS_NUMBER:4318034203:79001234567").get_number("tg", 6)
    assert (number.activation_id, number.phone) == (4318034203, "79001234567")
    balance = await _client("ACCESS_BALANCE:1.50").get_balance()
    assert balance == Decimal("1.50")
