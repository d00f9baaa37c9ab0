"""The emulator's shop window: which countries have numbers, their operators, prices and stock.

Built from :mod:`bot.catalogue` with a seeded generator, so the same seed gives the same prices
and counts. Only a realistic subset of countries carries stock; every other catalogue country
answers NO_NUMBERS.
"""

from __future__ import annotations

import random
from collections.abc import Container
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from bot.catalogue import COUNTRIES, SERVICES

__all__ = ["FORWARD_SERVICES", "PROFILES", "CountryProfile", "Market", "Offer", "RentOffer"]

CENT = Decimal("0.01")


@dataclass(frozen=True, slots=True)
class CountryProfile:
    """How numbers of a stocked country look: operators, mobile prefixes and length."""

    id: int
    operators: tuple[str, ...]
    prefixes: tuple[str, ...]
    # Digits after the calling code.
    length: int
    price_factor: float


def _profile(
    cid: int, operators: str, prefixes: str, length: int, factor: float
) -> tuple[int, CountryProfile]:
    return cid, CountryProfile(
        cid, tuple(operators.split()), tuple(prefixes.split()), length, factor
    )


PROFILES: dict[int, CountryProfile] = dict(
    (
        _profile(0, "beeline megafon mts tele2 rostelecom yota mtt", "9", 10, 1.0),
        _profile(1, "kyivstar life vodafone utel", "50 63 66 67 68 73 93 95 96 97 98 99", 9, 0.9),
        _profile(
            2, "tele2 beeline activ altel", "700 701 702 705 707 747 771 775 777 778", 10, 0.8
        ),
        _profile(3, "chinamobile chinaunicom chinatelecom", "13 15 17 18 19", 11, 1.6),
        _profile(4, "globe smart tm sun", "9", 10, 0.6),
        _profile(6, "telkomsel indosat xl axis three smartfren", "81 82 85 87 88 89", 11, 0.5),
        _profile(7, "maxis celcom digi umobile tunetalk", "11 12 13 14 16 17 18 19", 9, 0.7),
        _profile(10, "viettel vinaphone mobifone vietnamobile", "3 5 7 8 9", 9, 0.6),
        _profile(12, "tmobile at_t verizon", "201 213 305 332 415 646 702 917", 10, 0.9),
        _profile(15, "orange play plus tmobile heyah", "50 51 53 57 60 66 69 72 78 79 88", 9, 1.2),
        _profile(16, "ee o2 vodafone three giffgaff lycamobile", "74 75 77 78 79", 10, 1.5),
        _profile(22, "airtel jio vodafone bsnl", "6 7 8 9", 10, 0.5),
        _profile(32, "orange vodafone digi telekom", "72 73 74 75 76 77 78", 9, 1.0),
        _profile(36, "rogers bell telus fido", "204 236 289 416 438 514 587 604 647", 10, 1.4),
        _profile(
            43, "telekom vodafone o2 lebara lycamobile", "151 152 157 159 160 170 176", 11, 1.6
        ),
        _profile(48, "kpn vodafone tmobile lycamobile", "6", 9, 1.5),
        _profile(51, "a1 mts life", "25 29 33 44", 9, 0.9),
        _profile(52, "ais dtac truemove", "6 8 9", 9, 0.8),
        _profile(56, "movistar vodafone orange yoigo lycamobile", "6 7", 9, 1.3),
        _profile(62, "turkcell vodafone turktelekom", "50 53 54 55", 10, 1.1),
        _profile(73, "claro vivo tim oi", "119 219 319 419 519 619 719 819", 11, 0.7),
        _profile(78, "orange sfr bouygues free lycamobile", "6 7", 9, 1.5),
        _profile(86, "tim vodafone windtre iliad", "32 33 34 35 36 37 38 39", 10, 1.4),
        _profile(117, "meo nos vodafone", "91 92 93 96", 9, 1.2),
        _profile(187, "tmobile at_t verizon", "201 212 310 312 404 415 617 718", 10, 2.0),
        _profile(40, "beeline ucell uzmobile mobiuz", "33 88 90 91 93 94 95 97 99", 9, 0.7),
    )
)

# Services that can be bought with call forwarding, and bought as an "additional service" on a
# forwarding number (the seed: Youla, Yandex, Avito, any other); forwarding exists in Russia only.
FORWARD_SERVICES = frozenset({"av", "ym", "ya", "ot"})
FORWARD_COUNTRIES = frozenset({0})

# Services sold only where they operate.
_REGIONAL = {
    "av": {0, 2, 51},
    "ym": {0},
    "sg": {0, 2, 51, 40},
    "uu": {0, 2, 51, 40},
    "dt": {0},
    "mg": {0},
    "pl": {0},
    "jc": {0},
    "ui": {0},
    "hz": {0},
    "fd": {0, 1, 2},
    "qw": {0, 2},
    "ji": {1},
    "ok": {0, 1, 2, 51, 40},
    "ma": {0, 1, 2, 51, 40},
    "ya": {0, 1, 2, 51, 40},
}

# Rough prices of a number in USD (the account currency since ~2024), before the country factor.
_BASE_PRICE = {
    "tg": 0.55, "wa": 0.75, "vk": 0.22, "ok": 0.15, "go": 0.18, "fb": 0.12, "ig": 0.15,
    "tw": 0.12, "av": 0.25, "ya": 0.15, "mm": 0.1, "am": 0.12, "ds": 0.1, "ts": 0.18,
    "wb": 0.5, "vi": 0.1, "lf": 0.12, "ma": 0.1, "ub": 0.1, "oi": 0.18, "nf": 0.12, "dr": 0.3,
    "wx": 0.35, "mt": 0.1, "ot": 0.1,
}  # fmt: skip
_DEFAULT_PRICE = 0.12
_ALWAYS_STOCKED = frozenset({"tg", "wa", "go", "vk", "ig", "fb", "ot", "ya", "av"})

_RENT_SERVICES = ("full", "tg", "wa", "vk", "ok", "go", "fb", "ig", "av", "ya", "ds", "tw", "ot")
_RENT_BASE = {"full": 0.55, "tg": 0.28, "wa": 0.3, "vk": 0.25, "ok": 0.1, "go": 0.15, "ot": 0.07}
_DEFAULT_RENT_PRICE = 0.12

_MAIL_ZONES = {
    "info": "0.03", "site": "0.025", "online": "0.025", "store": "0.04", "pro": "0.045",
    "xyz": "0.02",
}  # fmt: skip
_MAIL_POPULAR = ("mail.ru", "gmail.com", "outlook.com", "yahoo.com", "rambler.ru", "yandex.ru")


@dataclass(slots=True)
class Offer:
    cost: Decimal
    count: int
    forward_count: int = 0
    physical_count: int = 0


@dataclass(slots=True)
class RentOffer:
    # The price of the shortest rent; longer rents cost less per hour.
    cost: Decimal
    count: int


def _price(rng: random.Random, base: float, factor: float) -> Decimal:
    raw = Decimal(str(base * factor * rng.uniform(0.8, 1.25)))
    # Cheap numbers were priced to a tenth of a cent (0.105), the rest to the cent.
    step = CENT if raw >= Decimal("0.2") else Decimal("0.001")
    return max(raw.quantize(step, ROUND_HALF_UP), Decimal("0.01"))


class Market:
    def __init__(self) -> None:
        self.offers: dict[tuple[int, str], Offer] = {}
        self.rent_offers: dict[tuple[int, str], RentOffer] = {}
        self.verification_prices: dict[int, Decimal] = {}
        self.mail_zones: dict[str, Decimal] = {}
        self.mail_popular: dict[str, Offer] = {}

    @classmethod
    def build(cls, rng: random.Random) -> Market:
        market = cls()
        sellable = [code for code in SERVICES if code != "full"]
        for cid, profile in PROFILES.items():
            for code in sellable:
                region = _REGIONAL.get(code)
                if region is not None and cid not in region:
                    continue
                if code not in _ALWAYS_STOCKED and rng.random() < 0.1:
                    continue
                count = rng.randint(40, 9000) if rng.random() > 0.05 else 0
                if code in _ALWAYS_STOCKED:
                    count = max(count, 150)
                forward = (
                    rng.randint(20, 500)
                    if code in FORWARD_SERVICES and cid in FORWARD_COUNTRIES
                    else 0
                )
                price = _price(rng, _BASE_PRICE.get(code, _DEFAULT_PRICE), profile.price_factor)
                market.offers[cid, code] = Offer(price, count, forward, count // 3)
            market.verification_prices[cid] = _price(rng, 0.15, profile.price_factor)
            if COUNTRIES[cid].rent:
                for code in _RENT_SERVICES:
                    market.rent_offers[cid, code] = RentOffer(
                        _price(
                            rng, _RENT_BASE.get(code, _DEFAULT_RENT_PRICE), profile.price_factor
                        ),
                        rng.randint(5, 300),
                    )
        market.mail_zones = {zone: Decimal(cost) for zone, cost in _MAIL_ZONES.items()}
        for domain in _MAIL_POPULAR:
            market.mail_popular[domain] = Offer(
                Decimal(rng.choice(("0.06", "0.07", "0.08", "0.1"))), rng.randint(10_000, 200_000)
            )
        return market

    # -- lookups -----------------------------------------------------------------------------

    def stocked(self, country: int) -> bool:
        return country in PROFILES

    def operators(self, country: int) -> tuple[str, ...]:
        profile = PROFILES.get(country)
        return profile.operators if profile is not None else ()

    def offer(self, country: int, service: str) -> Offer | None:
        return self.offers.get((country, service))

    def country_offers(self, country: int) -> dict[str, Offer]:
        return {svc: offer for (cid, svc), offer in self.offers.items() if cid == country}

    def rent_cost(self, country: int, service: str, hours: int) -> Decimal | None:
        offer = self.rent_offers.get((country, service))
        if offer is None:
            return None
        # Sub-linear in time, as the live tariffs were: a week costs far less than 42 × 4 h.
        scale = Decimal(str((hours / 4) ** 0.7))
        return (offer.cost * scale).quantize(CENT, ROUND_HALF_UP)

    def rent_countries(self) -> list[int]:
        return sorted({cid for cid, _ in self.rent_offers})

    # -- numbers -----------------------------------------------------------------------------

    def new_phone(
        self,
        country: int,
        rng: random.Random,
        exclude: list[str],
        taken: Container[str],
    ) -> str | None:
        """A fresh number in international form without "+", or None when every try is excluded."""
        profile = PROFILES.get(country)
        if profile is None:
            return None
        dial = COUNTRIES[country].dial
        for _ in range(64):
            prefix = rng.choice(profile.prefixes)
            rest = "".join(rng.choice("0123456789") for _ in range(profile.length - len(prefix)))
            phone = f"{dial}{prefix}{rest}"
            if phone not in taken and not any(phone.startswith(ex) for ex in exclude):
                return phone
        return None

    # -- persistence -------------------------------------------------------------------------

    def to_dict(self) -> dict[str, Any]:
        return {
            "offers": [
                [cid, svc, str(o.cost), o.count, o.forward_count, o.physical_count]
                for (cid, svc), o in self.offers.items()
            ],
            "rent_offers": [
                [cid, svc, str(o.cost), o.count] for (cid, svc), o in self.rent_offers.items()
            ],
            "verification_prices": {str(k): str(v) for k, v in self.verification_prices.items()},
            "mail_zones": {k: str(v) for k, v in self.mail_zones.items()},
            "mail_popular": {k: [str(o.cost), o.count] for k, o in self.mail_popular.items()},
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Market:
        market = cls()
        for cid, svc, cost, count, forward, physical in data["offers"]:
            market.offers[int(cid), svc] = Offer(Decimal(cost), count, forward, physical)
        for cid, svc, cost, count in data["rent_offers"]:
            market.rent_offers[int(cid), svc] = RentOffer(Decimal(cost), count)
        market.verification_prices = {
            int(k): Decimal(v) for k, v in data["verification_prices"].items()
        }
        market.mail_zones = {k: Decimal(v) for k, v in data["mail_zones"].items()}
        market.mail_popular = {
            k: Offer(Decimal(cost), count) for k, (cost, count) in data["mail_popular"].items()
        }
        return market
