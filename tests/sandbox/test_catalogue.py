from __future__ import annotations

import re

from bot.catalogue import (
    COUNTRIES,
    POPULAR_SERVICES,
    SERVICES,
    country,
    country_name,
    search_services,
    service_name,
)


def test_country_ids_are_sms_activates() -> None:
    expected = {
        0: "Russia",
        1: "Ukraine",
        2: "Kazakhstan",
        3: "China",
        4: "Philippines",
        5: "Myanmar",
        6: "Indonesia",
        7: "Malaysia",
        8: "Kenya",
        12: "USA (virtual)",
        16: "United Kingdom",
        22: "India",
        36: "Canada",
        43: "Germany",
        78: "France",
        187: "USA",
    }
    for cid, name in expected.items():
        assert COUNTRIES[cid].en == name
    assert len(COUNTRIES) >= 200
    russia = country(0)
    assert russia is not None
    assert russia.ru == "Россия"
    assert country(9999) is None


def test_country_fields_are_consistent() -> None:
    isos = [c.iso for c in COUNTRIES.values() if c.id != 12]
    assert len(isos) == len(set(isos)), "one ISO code per country (12 is the legacy US id)"
    for c in COUNTRIES.values():
        assert re.fullmatch(r"[A-Z]{2}", c.iso), c
        assert c.dial.isdigit(), c
        assert c.en
        assert c.ru


def test_flag_and_names() -> None:
    assert COUNTRIES[0].flag == "🇷🇺"
    assert COUNTRIES[16].flag == "🇬🇧"
    assert COUNTRIES[187].flag == COUNTRIES[12].flag == "🇺🇸"
    assert country_name(0, "ru") == "Россия"
    assert country_name(0, "ru-RU") == "Россия"
    assert country_name(43, "en") == "Germany"
    assert country_name(43, "de") == "Germany"
    assert country_name(4242, "en") == "#4242"


def test_services() -> None:
    assert len(SERVICES) >= 60
    assert all(re.fullmatch(r"[a-z]{2,4}", code) for code in SERVICES)
    assert POPULAR_SERVICES[:3] == ("tg", "wa", "go")
    assert set(POPULAR_SERVICES) <= set(SERVICES)
    assert service_name("tg", "ru") == "Телеграм"
    assert service_name("wa", "en") == "WhatsApp"
    assert service_name("full", "en") == "Whole number"
    assert service_name("zzz", "ru") == "zzz"


def test_search_services() -> None:
    def codes(query: str, locale: str = "en") -> list[str]:
        return [s.code for s in search_services(query, locale)]

    assert codes("tg")[0] == "tg"
    assert codes("telegram")[0] == "tg"
    assert codes("Телеграм", "ru")[0] == "tg"
    assert codes("whats")[0] == "wa"
    assert codes("ВАТСАП", "ru")[0] == "wa"
    assert codes("youtube")[0] == "go"
    assert "ma" in codes("mail")
    assert codes("перекресток", "ru") == ["pl"]
    assert codes("   ") == []
    assert codes("no-such-service") == []
