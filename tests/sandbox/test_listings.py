from __future__ import annotations

from bot.sandbox import Emulator
from tests.sandbox.helpers import KEY, api, api_json


def test_numbers_status_styles(emu: Emulator) -> None:
    classic = api_json(emu, "getNumbersStatus", country="0")
    assert isinstance(classic["tg_0"], int)
    assert "av_1" in classic
    assert api_json(emu, "getNumbersStatus", country="0", operator="mts")["tg_0"] < classic["tg_0"]
    emu.config.json_style = "modern"
    modern = api_json(emu, "getNumbersStatus", country="0")
    assert modern["tg"] == str(classic["tg_0"])
    assert api_json(emu, "getNumbersStatus", country="190") == {}


def test_operators(emu: Emulator) -> None:
    body = api_json(emu, "getOperators", country="0")
    assert body["status"] == "success"
    assert {"mts", "beeline", "megafon", "tele2"} <= set(body["countryOperators"]["0"])
    assert len(api_json(emu, "getOperators")["countryOperators"]) >= 25
    assert api_json(emu, "getOperators", country="190") == {
        "status": "error",
        "error": "OPERATORS_NOT_FOUND",
    }


def test_prices_and_countries(emu: Emulator) -> None:
    everything = api_json(emu, "getPrices")
    assert len(everything) >= 25
    assert set(everything["0"]["tg"]) == {"cost", "count"}
    assert api_json(emu, "getPrices", country="190") == {}
    verification = api_json(emu, "getPricesVerification", service="tg")
    assert isinstance(verification["tg"]["0"]["price"], str)
    countries = api_json(emu, "getCountries")
    assert countries["0"] == {
        "id": 0,
        "rus": "Россия",
        "eng": "Russia",
        "chn": "Russia",
        "visible": 1,
        "retry": 1,
        "rent": 1,
        "multiService": 1,
    }
    assert countries["187"]["eng"] == "USA"


def test_top_countries(emu: Emulator) -> None:
    top = api_json(emu, "getTopCountriesByService", service="tg", freePrice="true")
    assert top["0"]["count"] >= top["1"]["count"]
    assert set(top["0"]) == {"country", "count", "price", "retail_price", "freePriceMap"}
    assert api(emu, "getTopCountriesByService", service="nope") == "BAD_SERVICE"
    listed = api_json(emu, "getListOfTopCountriesByService", service="wa", length="5")
    assert len(listed) == 5
    assert set(listed[0]) == {"country", "share", "rate"}
    assert api(emu, "getListOfTopCountriesByService") == "WRONG_SERVICE"


def test_services_list(emu: Emulator) -> None:
    body = api_json(emu, "getServicesList", lang="ru")
    names = {item["code"]: item["name"] for item in body["services"]}
    assert body["status"] == "success"
    assert names["tg"] == "Телеграм"
    assert "ji" not in {
        i["code"] for i in api_json(emu, "getServicesList", country="0")["services"]
    }


def test_partner_product(emu: Emulator) -> None:
    body = api_json(emu, "buyPartnerProduct", productId="1")
    assert body["status"] == "success"
    assert len(body["key"]) == 25
    assert api(emu, "buyPartnerProduct", productId="abc") == "BAD_DATA"
    assert api(emu, "buyPartnerProduct", productId="999") == "BAD_DATA"
    emu.account(KEY).partner_verified = False
    assert api(emu, "buyPartnerProduct", productId="1") == "BAD_ACTION"
