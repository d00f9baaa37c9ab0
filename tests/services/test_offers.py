"""One catalogue across accounts: every account asked at once, each with its own timeout."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from decimal import Decimal
from typing import cast

import pytest
from fakeredis import FakeAsyncRedis

from bot.provider import errors as pe
from bot.provider.client import ProviderClient
from bot.provider.models import CountryShare, PriceInfo, ServiceName
from bot.provider.presets import CLASSIC, Feature
from bot.services.catalogue import CatalogueService, Offer
from bot.services.offers import (
    AccountOffer,
    OfferBoard,
    OfferService,
    Silence,
    SilentAccount,
    SoldOut,
    sort_offers,
)
from tests.accounts_stub import LabelledAccount

TG, INDONESIA = "tg", 6


class FakeClient:
    """A provider's catalogue calls: prices per country, or a failure, or no answer at all."""

    def __init__(
        self,
        prices: dict[int, tuple[str, int]] | None = None,
        *,
        error: Exception | None = None,
        hang: bool = False,
        rates: dict[int, str] | None = None,
        operator_stock: dict[str, int] | None = None,
        services: list[str] | None = None,
    ) -> None:
        self.prices = prices or {}
        self.error = error
        self.hang = hang
        self.rates = rates or {}
        self.operator_stock = operator_stock or {}
        self.services = services or []
        self.calls: list[str] = []

    async def get_services_list(
        self, country: int | None = None, lang: str | None = None
    ) -> list[ServiceName]:
        self.calls.append("getServicesList")
        if self.hang:
            await asyncio.Event().wait()
        return [ServiceName.model_validate({"code": code, "name": code}) for code in self.services]

    async def get_prices(
        self, service: str | None = None, country: int | None = None
    ) -> dict[int, dict[str, PriceInfo]]:
        self.calls.append("getPrices")
        if self.hang:
            await asyncio.Event().wait()
        if self.error is not None:
            raise self.error
        return {
            c: {service or TG: PriceInfo.model_validate({"cost": cost, "count": count})}
            for c, (cost, count) in self.prices.items()
        }

    async def get_list_of_top_countries_by_service(self, service: str) -> list[CountryShare]:
        self.calls.append("getListOfTopCountriesByService")
        return [
            CountryShare.model_validate({"country": c, "share": "1", "rate": rate})
            for c, rate in self.rates.items()
        ]

    async def get_numbers_status(
        self, country: int | None = None, operator: str | None = None
    ) -> dict[str, int]:
        self.calls.append(f"getNumbersStatus:{operator}")
        return {TG: self.operator_stock.get(operator or "", 0)}


_made: list[OfferService] = []


def service(timeout: float = 4.0) -> OfferService:
    made = OfferService(CatalogueService(FakeAsyncRedis()), timeout)
    _made.append(made)
    return made


@pytest.fixture(autouse=True)
async def _closed() -> AsyncIterator[None]:
    """A hung question runs on after its board: each test stops those it left."""
    yield
    while _made:
        await _made.pop().aclose()


def account(
    account_id: str, fake: FakeClient, features: frozenset[Feature] = CLASSIC
) -> LabelledAccount:
    """An account named after its id, at a provider of its own (the catalogue caches per
    provider)."""
    label = f"Account {account_id.upper()}"
    client = cast(ProviderClient, fake)
    return LabelledAccount(account_id, label, f"prov-{account_id}", client, features)


def calls(account: LabelledAccount) -> list[str]:
    return cast(FakeClient, account.client).calls


async def test_offers_come_cheapest_first_with_label_price_and_stock() -> None:
    accounts = [
        account("a", FakeClient({INDONESIA: ("0.30", 10), 0: ("0.10", 5)})),
        account("b", FakeClient({INDONESIA: ("0.12", 40)})),
        account("c", FakeClient({INDONESIA: ("0.20", 7)})),
    ]
    board = await service().board(accounts, TG, INDONESIA)
    assert [(o.account_id, o.label, o.price, o.count) for o in board.offers] == [
        ("b", "Account B", Decimal("0.12"), 40),
        ("c", "Account C", Decimal("0.20"), 7),
        ("a", "Account A", Decimal("0.30"), 10),
    ]
    assert board.sold_out == ()
    assert board.silent == ()
    assert (board.service, board.country, board.operator) == (TG, INDONESIA, None)


async def test_at_one_price_more_stock_wins_then_the_default_account() -> None:
    accounts = [
        account("default", FakeClient({INDONESIA: ("0.20", 5)})),
        account("second", FakeClient({INDONESIA: ("0.20", 50)})),
        account("third", FakeClient({INDONESIA: ("0.20", 5)})),
    ]
    board = await service().board(accounts, TG, INDONESIA)
    assert [o.account_id for o in board.offers] == ["second", "default", "third"]
    # Listed the other way round, the tie on price and stock still goes by the accounts' order.
    board = await service().board(accounts[::-1], TG, INDONESIA)
    assert [o.account_id for o in board.offers] == ["second", "third", "default"]


async def test_a_hanging_provider_does_not_hold_up_the_others() -> None:
    accounts = [
        account("slow", FakeClient({INDONESIA: ("0.01", 100)}, hang=True)),
        account("fast", FakeClient({INDONESIA: ("0.50", 3)})),
    ]
    started = time.monotonic()
    board = await service(timeout=0.2).board(accounts, TG, INDONESIA)
    assert time.monotonic() - started < 1.0
    assert [o.account_id for o in board.offers] == ["fast"]
    assert board.silent == (SilentAccount("slow", "Account SLOW", Silence.TIMEOUT),)


async def test_each_account_has_its_own_timeout_not_a_shared_one() -> None:
    # Two providers asked at once, each answering only once both were asked: asked one
    # after the other, the first would wait out its timeout. No race with the clock: the
    # timeout only ends a wait that would otherwise never end.
    asked: list[str] = []
    both_asked = asyncio.Event()

    class Waiting(FakeClient):
        async def get_prices(
            self, service: str | None = None, country: int | None = None
        ) -> dict[int, dict[str, PriceInfo]]:
            asked.append("asked")
            if len(asked) == 2:
                both_asked.set()
            await both_asked.wait()
            return await super().get_prices(service, country)

    accounts = [
        account(name, Waiting({INDONESIA: (price, 1)}))
        for name, price in (("a", "0.2"), ("b", "0.1"))
    ]
    board = await service(timeout=5).board(accounts, TG, INDONESIA)
    assert [o.account_id for o in board.offers] == ["b", "a"]


async def test_errors_name_the_account_and_why() -> None:
    accounts = [
        account("down", FakeClient(error=pe.ProviderConnectError("refused"))),
        account("broken", FakeClient(error=pe.ServerError("ERROR_SQL"))),
        account("late", FakeClient(error=pe.ProviderTimeout("read timeout"))),
        account("nosuch", FakeClient(error=pe.BadService("BAD_SERVICE"))),
        account("mail-only", FakeClient({INDONESIA: ("0.1", 1)}), features=frozenset()),
        account("ok", FakeClient({INDONESIA: ("0.4", 2)})),
    ]
    board = await service().board(accounts, TG, INDONESIA)
    assert [o.account_id for o in board.offers] == ["ok"]
    assert [(s.account_id, s.reason) for s in board.silent] == [
        ("down", Silence.ERROR),
        ("broken", Silence.ERROR),
        ("late", Silence.TIMEOUT),
        ("nosuch", Silence.UNSUPPORTED),
        ("mail-only", Silence.UNSUPPORTED),
    ]
    assert calls(accounts[4]) == []  # a provider without activations is not even asked


async def test_an_account_without_numbers_there_is_sold_out_not_silent() -> None:
    accounts = [
        account("empty", FakeClient({INDONESIA: ("0.05", 0), 0: ("0.1", 9)})),
        account("elsewhere", FakeClient({0: ("0.1", 9)})),
        account("stocked", FakeClient({INDONESIA: ("0.3", 1)})),
    ]
    board = await service().board(accounts, TG, INDONESIA)
    assert [o.account_id for o in board.offers] == ["stocked"]
    assert board.sold_out == (
        SoldOut("empty", "Account EMPTY"),
        SoldOut("elsewhere", "Account ELSEWHERE"),
    )
    assert board.silent == ()


async def test_the_success_rate_comes_where_the_provider_publishes_it() -> None:
    rated = frozenset(CLASSIC | {Feature.COUNTRY_RATES})
    accounts = [
        account(
            "rated", FakeClient({INDONESIA: ("0.3", 1)}, rates={INDONESIA: "87.5"}), features=rated
        ),
        account("plain", FakeClient({INDONESIA: ("0.2", 1)}, rates={INDONESIA: "99"})),
    ]
    board = await service().board(accounts, TG, INDONESIA)
    assert board.offer_of("rated") == AccountOffer(
        "rated", "Account RATED", "prov-rated", Decimal("0.3"), 1, Decimal("87.5")
    )
    plain = board.offer_of("plain")
    assert plain is not None
    assert plain.rate is None
    assert "getListOfTopCountriesByService" not in calls(accounts[1])


async def test_an_operator_counts_that_operators_stock() -> None:
    accounts = [
        account("a", FakeClient({INDONESIA: ("0.1", 500)}, operator_stock={"xl": 0})),
        account("b", FakeClient({INDONESIA: ("0.2", 5)}, operator_stock={"xl": 3})),
    ]
    board = await service().board(accounts, TG, INDONESIA, operator="xl")
    assert [(o.account_id, o.count) for o in board.offers] == [("b", 3)]
    assert board.sold_out == (SoldOut("a", "Account A"),)
    assert board.operator == "xl"


async def test_the_catalogue_cache_is_reused_per_provider() -> None:
    fake = FakeClient({INDONESIA: ("0.1", 5)})
    offers = service()
    await offers.board([account("a", fake)], TG, INDONESIA)
    await offers.board([account("a", fake)], TG, INDONESIA)
    assert fake.calls.count("getPrices") == 1


async def test_cheapest_with_stock_and_the_next_after_no_numbers() -> None:
    accounts = [
        account("a", FakeClient({INDONESIA: ("0.3", 4)})),
        account("b", FakeClient({INDONESIA: ("0.1", 1)})),
        account("c", FakeClient({INDONESIA: ("0.2", 9)})),
    ]
    best, board = await service().cheapest(accounts, TG, INDONESIA)
    assert best is not None
    assert best.account_id == "b"
    following = board.next_after("b")
    assert following is not None
    assert following.account_id == "c"
    last = board.next_after("b", "c")
    assert last is not None
    assert last.account_id == "a"
    assert board.next_after("a", "b", "c") is None
    after = board.without("b")
    assert [o.account_id for o in after.offers] == ["c", "a"]
    assert after.sold_out == (SoldOut("b", "Account B"),)
    assert board.offers[0].account_id == "b"  # the board itself is unchanged


async def test_no_offer_anywhere_has_no_cheapest() -> None:
    accounts = [account("a", FakeClient(error=pe.ServerError("SERVER_ERROR")))]
    best, board = await service().cheapest(accounts, TG, INDONESIA)
    assert best is None
    assert board.offers == ()
    assert await service().board([], TG, INDONESIA) == OfferBoard(TG, INDONESIA, None, ())


def test_sort_puts_unknown_accounts_last_at_a_tie() -> None:
    offers = [
        AccountOffer("x", "X", "p", Decimal("1"), 1),
        AccountOffer("a", "A", "p", Decimal("1"), 1),
    ]
    assert [o.account_id for o in sort_offers(offers, ["a"])] == ["a", "x"]


class Slow(FakeClient):
    """Answers, but only after ``delay`` seconds."""

    def __init__(self, delay: float, prices: dict[int, tuple[str, int]]) -> None:
        super().__init__(prices)
        self.delay = delay

    async def get_prices(
        self, service: str | None = None, country: int | None = None
    ) -> dict[int, dict[str, PriceInfo]]:
        await asyncio.sleep(self.delay)
        return await super().get_prices(service, country)


async def test_a_late_answer_is_kept_for_the_next_screen() -> None:
    slow = Slow(0.3, {INDONESIA: ("0.05", 3)})
    accounts = [account("slow", slow), account("fast", FakeClient({INDONESIA: ("0.5", 1)}))]
    offers = service(timeout=0.1)
    first = await offers.board(accounts, TG, INDONESIA)
    assert [s.account_id for s in first.silent] == ["slow"]
    # Asked again before the answer came: the running question is joined, not asked twice.
    second = await offers.board(accounts, TG, INDONESIA)
    assert [s.account_id for s in second.silent] == ["slow"]
    await asyncio.sleep(0.3)
    third = await offers.board(accounts, TG, INDONESIA)
    assert [o.account_id for o in third.offers] == ["slow", "fast"]
    assert third.silent == ()
    assert slow.calls.count("getPrices") == 1


async def test_accounts_of_one_key_ask_once_and_keep_their_own_names() -> None:
    shared = Slow(0.05, {INDONESIA: ("0.2", 4)})
    first = account("a", shared)
    same = LabelledAccount("b", "Same key", first.provider, first.client, first.features, key="a")
    assert same.identity == first.identity
    board = await service().board([first, same], TG, INDONESIA)
    # Accounts of one identity share the question, each under its own id and label.
    assert [(o.account_id, o.label) for o in board.offers] == [
        ("a", "Account A"),
        ("b", "Same key"),
    ]
    assert shared.calls.count("getPrices") == 1


async def test_fallover_reads_again_and_skips_the_accounts_that_failed() -> None:
    accounts = [
        account("a", FakeClient({INDONESIA: ("0.1", 5)})),
        account("b", FakeClient({INDONESIA: ("0.2", 5)})),
    ]
    following, board = await service().fallover(accounts, TG, INDONESIA, "a")
    assert following is not None
    assert following.account_id == "b"
    assert board.sold_out == (SoldOut("a", "Account A"),)
    nothing, _board = await service().fallover(accounts, TG, INDONESIA, "a", "b")
    assert nothing is None


async def test_the_country_list_merges_every_account_at_its_cheapest() -> None:
    accounts = [
        account("a", FakeClient({INDONESIA: ("0.3", 4), 0: ("0.5", 1)})),
        account("b", FakeClient({INDONESIA: ("0.2", 6), 22: ("0.1", 2), 12: ("0.5", 0)})),
        account("down", FakeClient(error=pe.ServerError("ERROR_SQL"))),
        account("slow", FakeClient({187: ("0.01", 9)}, hang=True)),
    ]
    choices, silent = await service(timeout=0.2).countries(accounts, TG)
    assert choices == [
        Offer(22, Decimal("0.1"), 2),
        Offer(INDONESIA, Decimal("0.2"), 10),  # b's price, both accounts' numbers
        Offer(0, Decimal("0.5"), 1),
    ]
    assert [(s.account_id, s.reason) for s in silent] == [
        ("down", Silence.ERROR),
        ("slow", Silence.TIMEOUT),
    ]


async def test_the_service_list_holds_what_any_account_sells_the_default_first() -> None:
    features = CLASSIC | {Feature.SERVICES_LIST}
    accounts = [
        account("a", FakeClient(services=["wa", "tg"]), features),
        account("b", FakeClient(services=["tg", "zz"]), features),
        account("c", FakeClient(services=["yy"], hang=True), features),
    ]
    started = time.monotonic()
    codes = await service(timeout=0.2).service_codes(accounts)
    assert time.monotonic() - started < 2  # the hung provider adds nothing, and no wait
    first = await service().catalogue.service_codes(accounts[0])
    assert codes == [*first, "zz"]
    assert "yy" not in codes
