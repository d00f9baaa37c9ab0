from __future__ import annotations

import httpx
import pytest

from bot.sandbox import Emulator, EmulatorTransport
from bot.sandbox.emulator import ACTIONS
from tests.sandbox.helpers import KEY, api, buy

SEED_ACTIONS = [
    "getNumbersStatus",
    "getTopCountriesByService",
    "getBalance",
    "getBalanceAndCashBack",
    "getOperators",
    "getActiveActivations",
    "getNumber",
    "getNumberV2",
    "getMultiServiceNumber",
    "setStatus",
    "getStatus",
    "getHistory",
    "getListOfTopCountriesByService",
    "getIncomingCallStatus",
    "getPrices",
    "getPricesVerification",
    "getCountries",
    "getAdditionalService",
    "getExtraActivation",
    "checkExtraActivation",
    "createTaskForCall",
    "getOutgoingCalls",
    "getRentServicesAndCountries",
    "getRentNumber",
    "getRentStatus",
    "setRentStatus",
    "getRentList",
    "continueRentNumber",
    "getContinueRentPriceNumber",
    "getDomains",
    "buyMailActivation",
    "reorderMailActivation",
    "getMailHistory",
    "cancelMailActivation",
    "checkMailActivation",
    "buyPartnerProduct",
    "getServicesList",
]


def test_every_seed_action_is_served() -> None:
    assert set(SEED_ACTIONS) <= set(ACTIONS)


@pytest.mark.parametrize("action", sorted(ACTIONS))
def test_bad_key_is_plain_text_on_every_action(emu: Emulator, action: str) -> None:
    reply = emu.handle({"api_key": "wrong", "action": action, "id": "1", "service": "tg"})
    assert (reply.status, reply.body) == (200, "BAD_KEY")
    assert reply.content_type == "text/html; charset=UTF-8"


def test_missing_key_and_unknown_action(emu: Emulator) -> None:
    assert emu.handle({"action": "getBalance"}).body == "NO_KEY"
    assert emu.handle({"api_key": "", "action": "getBalance"}).body == "NO_KEY"
    assert api(emu, "fetchEverything") == "BAD_ACTION"
    assert emu.handle({"api_key": KEY}).body == "BAD_ACTION"
    # The key is checked before the action.
    assert emu.handle({"api_key": "wrong", "action": "nope"}).body == "BAD_KEY"
    assert emu.handle({"action": "nope"}).body == "NO_KEY"


def test_balance_formatting(emu: Emulator) -> None:
    assert api(emu, "getBalance") == "ACCESS_BALANCE:100.00"
    emu.add_account(KEY, "17.154", cashback="2.5")
    assert api(emu, "getBalance") == "ACCESS_BALANCE:17.154"
    assert api(emu, "getBalanceAndCashBack") == "ACCESS_BALANCE:19.654"


def test_lenient_parameters(emu: Emulator) -> None:
    # A key with a trailing space (a real client bug) and a literal non-numeric maxPrice.
    reply = emu.handle(
        {"api_key": KEY, "action": "getNumber", "service": "tg", "country ": "0", "maxPrice": "x"}
    )
    assert reply.body.startswith("ACCESS_NUMBER:")


def test_calls_are_recorded_with_masked_keys(emu: Emulator) -> None:
    buy(emu)
    api(emu, "getBalance")
    record = emu.calls[-2]
    assert record.action == "getNumber"
    assert record.params["api_key"] == "de***"
    assert record.token == "ACCESS_NUMBER"
    assert record.performed
    assert record.fault is None
    assert [c.action for c in emu.calls].count("getNumber") == 1


async def test_transport_get_and_post_merge_with_body_winning(emu: Emulator) -> None:
    async with httpx.AsyncClient(
        transport=EmulatorTransport(emu), base_url="https://sandbox.test"
    ) as client:
        got = await client.get(
            "/stubs/handler_api.php", params={"api_key": KEY, "action": "getBalance"}
        )
        assert got.status_code == 200
        assert got.text == "ACCESS_BALANCE:100.00"
        assert got.headers["content-type"] == "text/html; charset=UTF-8"
        # Query says getCountries, the form body says getBalance: the body wins.
        posted = await client.post(
            "/stubs/handler_api.php",
            params={"action": "getCountries", "api_key": "wrong"},
            data={"api_key": KEY, "action": "getBalance"},
        )
        assert posted.text == "ACCESS_BALANCE:100.00"
        # Parameters only in the query of a POST (one public client does this).
        query_only = await client.post(
            "/stubs/handler_api.php", params={"api_key": KEY, "action": "getBalance"}
        )
        assert query_only.text == "ACCESS_BALANCE:100.00"
        missing = await client.get("/elsewhere")
        assert missing.status_code == 404


def test_json_content_type_is_configurable(emu: Emulator) -> None:
    assert emu.handle({"api_key": KEY, "action": "getCountries"}).content_type.startswith(
        "text/html"
    )
    emu.config.content_types["getOperators"] = "application/json"
    reply = emu.handle({"api_key": KEY, "action": "getOperators", "country": "0"})
    assert reply.content_type == "application/json"
