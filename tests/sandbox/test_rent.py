from __future__ import annotations

from decimal import Decimal
from typing import Any

from bot.sandbox import Emulator, RentStatus
from tests.sandbox.helpers import KEY, OTHER, T0, api, api_json


def rent(emu: Emulator, **params: str) -> dict[str, Any]:
    body = api_json(emu, "getRentNumber", **{"service": "tg", "country": "0", **params})
    assert body["status"] == "success", body
    phone: dict[str, Any] = body["phone"]
    return phone


def test_services_and_countries(emu: Emulator) -> None:
    body = api_json(emu, "getRentServicesAndCountries", rent_time="4", country="0")
    assert 0 in body["countries"].values()
    assert body["operators"]["0"] == "any"
    assert {"full", "tg"} <= set(body["services"])
    assert set(body["services"]["full"]) == {"cost", "quant"}
    day = api_json(emu, "getRentServicesAndCountries", rent_time="24", country="0")
    assert day["services"]["tg"]["cost"] > body["services"]["tg"]["cost"]
    assert api_json(emu, "getRentServicesAndCountries", rent_time="5") == {
        "status": "error",
        "message": "INVALID_TIME",
    }
    assert api(emu, "getRentServicesAndCountries", country="190") == "OUT_OF_STOCK"


def test_rent_number_and_sms_newest_first(emu: Emulator) -> None:
    phone = rent(emu, rent_time="10", url="https://hooks.test/rent")
    rent_id = phone["id"]
    assert isinstance(rent_id, int)
    assert rent_id > 2**32
    assert phone["endDate"] == "2025-12-29T19:20:00"
    assert phone["number"].startswith("7")
    assert emu.rents[rent_id].url == "https://hooks.test/rent"
    ident = str(rent_id)
    assert api_json(emu, "getRentStatus", id=ident) == {
        "status": "error",
        "message": "STATUS_WAIT_CODE",
    }
    emu.deliver_rent_sms(rent_id, "first 1111", phone_from="79180230628", service="vk")
    emu.advance(60)
    emu.deliver_rent_sms(rent_id, "second 2222", phone_from="SPORTMASTER")
    body = api_json(emu, "getRentStatus", id=ident)
    assert body["status"] == "success"
    assert body["quantity"] == "2"
    assert list(body["values"]) == ["0", "1"]
    assert body["values"]["0"] == {
        "phoneFrom": "SPORTMASTER",
        "text": "second 2222",
        "service": "ot",
        "date": "2025-12-29 09:21:00",
    }
    assert body["values"]["1"]["text"] == "first 1111"
    paged = api_json(emu, "getRentStatus", id=ident, page="2", size="1")
    assert paged["quantity"] == "2"
    assert paged["values"]["0"]["text"] == "first 1111"
    assert api_json(emu, "getRentStatus", id=ident, key=OTHER)["message"] == "INVALID_PHONE"
    assert api_json(emu, "getRentStatus")["message"] == "NO_ID_RENT"
    assert api_json(emu, "getRentList") == {
        "status": "success",
        "values": {"0": {"id": ident, "phone": phone["number"]}},
    }


def test_rent_errors(emu: Emulator) -> None:
    assert api_json(emu, "getRentNumber", service="zzz")["message"] == "BAD_SERVICE"
    assert api_json(emu, "getRentNumber", service="tg", rent_time="2")["message"] == (
        "INVALID_TIME"
    )
    assert api_json(emu, "getRentNumber", service="tg", rent_time="1345")["message"] == (
        "INVALID_TIME"
    )
    assert api_json(emu, "getRentNumber", service="tg", country="3")["message"] == "NO_NUMBERS"
    assert api_json(emu, "getRentList")["message"] == "NO_NUMBERS"
    emu.add_account(KEY, "0.01")
    assert api_json(emu, "getRentNumber", service="tg")["message"] == "NO_BALANCE"


def test_cancel_window(emu: Emulator) -> None:
    first = rent(emu)["id"]
    second = rent(emu)["id"]
    paid = emu.account(KEY).balance
    emu.advance(19 * 60)
    assert api_json(emu, "setRentStatus", id=str(first), status="2") == {"status": "success"}
    refunded = emu.account(KEY).balance
    assert refunded > paid
    assert api_json(emu, "getRentStatus", id=str(first))["message"] == "STATUS_CANCEL"
    assert api_json(emu, "setRentStatus", id=str(first), status="2")["message"] == "ALREADY_CANCEL"
    emu.advance(60)
    assert api_json(emu, "setRentStatus", id=str(second), status="2")["message"] == "CANT_CANCEL"
    assert api_json(emu, "setRentStatus", id=str(second), status="3")["message"] == (
        "INCORECT_STATUS"
    )
    assert api_json(emu, "setRentStatus", id=str(second), status="1") == {"status": "success"}
    assert api_json(emu, "setRentStatus", id=str(second), status="1")["message"] == (
        "ALREADY_FINISH"
    )
    assert api_json(emu, "getRentStatus", id=str(second))["message"] == "STATUS_FINISH"
    assert emu.account(KEY).balance == refunded


def test_rent_ends_by_itself(emu: Emulator) -> None:
    rent_id = rent(emu, rent_time="4")["id"]
    emu.advance(4 * 3600 - 1)
    assert emu.rents[rent_id].status is RentStatus.ACTIVE
    emu.advance(1)
    assert emu.rents[rent_id].status is RentStatus.FINISHED
    assert api_json(emu, "getRentStatus", id=str(rent_id))["message"] == "STATUS_FINISH"


def test_continue_and_reorder_with_new_id(emu: Emulator) -> None:
    phone = rent(emu, rent_time="4")
    rent_id = phone["id"]
    ident = str(rent_id)
    price = api_json(emu, "getContinueRentPriceNumber", id=ident, rent_time="12")
    assert price["status"] == "success"
    assert price["price"] > 0
    balance = emu.account(KEY).balance
    extended = api_json(emu, "continueRentNumber", id=ident, rent_time="12")
    assert extended["phone"]["id"] == rent_id
    assert extended["phone"]["endDate"] == "2025-12-30T01:20:00"
    assert emu.account(KEY).balance == balance - Decimal(str(price["price"]))

    emu.advance(16 * 3600)
    assert emu.rents[rent_id].status is RentStatus.FINISHED
    again = api_json(emu, "continueRentNumber", id=ident, rent_time="4")
    assert again["status"] == "success"
    new_id = again["phone"]["id"]
    assert new_id != rent_id
    assert again["phone"]["number"] == phone["number"]
    assert emu.rents[new_id].previous_id == rent_id
    assert emu.rents[new_id].status is RentStatus.ACTIVE


def test_max_hours_and_rent_die(emu: Emulator) -> None:
    rent_id = rent(emu, rent_time="4")["id"]
    ident = str(rent_id)
    too_long = api_json(emu, "continueRentNumber", id=ident, rent_time="1344")
    assert too_long == {"status": "error", "message": "MAX_HOURS_EXCEED", "info": {"max": 1340}}
    assert api_json(emu, "getContinueRentPriceNumber", id=ident, rent_time="1341")["info"] == {
        "max": 1340
    }
    assert api_json(emu, "continueRentNumber", id=ident, rent_time="1")["message"] == (
        "INVALID_TIME"
    )
    emu.advance(1344 * 3600)
    assert api_json(emu, "continueRentNumber", id=ident, rent_time="4")["message"] == "RENT_DIE"


def test_revoked_rent(emu: Emulator) -> None:
    rent_id = rent(emu)["id"]
    emu.revoke_rent(rent_id)
    assert emu.account(KEY).balance == Decimal(100)
    assert api_json(emu, "getRentStatus", id=str(rent_id))["message"] == "STATUS_REVOKE"


def test_auto_rent_sms(emu: Emulator) -> None:
    emu.config.auto_rent_sms_interval = 600
    rent_id = rent(emu, rent_time="4")["id"]
    emu.advance(4 * 3600 + 10)
    found = emu.rents[rent_id]
    assert len(found.sms) == 24
    assert [sms.at for sms in found.sms][:2] == [T0 + 600, T0 + 1200]
    assert found.status is RentStatus.FINISHED
