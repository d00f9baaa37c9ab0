"""ProviderClient against the emulator: account, catalogue and partner actions."""

from __future__ import annotations

from decimal import Decimal

import pytest

from bot.provider import ProviderClient
from bot.provider import errors as e
from bot.sandbox import Emulator
from bot.sandbox.market import PROFILES
from tests.provider.conftest import BALANCE, KEY, ClientFactory

# --- account ---


async def test_get_balance(client: ProviderClient, emu: Emulator) -> None:
    assert await client.get_balance() == Decimal(BALANCE)
    emu.add_account(KEY, "17.154")
    assert await client.get_balance() == Decimal("17.154")


async def test_get_balance_and_cashback_sums_both(client: ProviderClient, emu: Emulator) -> None:
    emu.add_account(KEY, "40.50", cashback="2.25")
    assert await client.get_balance_and_cashback() == Decimal("42.75")
    assert await client.get_balance() == Decimal("40.50")


async def test_get_balance_info(client: ProviderClient, emu: Emulator) -> None:
    emu.add_account(KEY, 100, cashback="12.5")
    info = await client.get_balance_info()
    assert info.balance == Decimal(100)
    assert info.cashback == Decimal("12.5")
    plain = await client.get_balance_info(with_cashback=False)
    assert plain.balance == Decimal(100)
    assert plain.cashback is None
    emu.add_account(KEY, 100, cashback=0)
    assert (await client.get_balance_info()).cashback == Decimal(0)


async def test_get_balance_info_without_cashback_action(
    client: ProviderClient, emu: Emulator
) -> None:
    # A provider that fails getBalanceAndCashBack still gives the plain balance.
    emu.add_account(KEY, 100, cashback=5)
    emu.faults.configure(rate=1.0, kinds=["http_5xx"], actions=["getBalanceAndCashBack"])
    info = await client.get_balance_info()
    assert (info.balance, info.cashback) == (Decimal(100), None)


# --- authentication, on a sample of every family ---


async def test_bad_key_is_auth_error_in_every_family(make_client: ClientFactory) -> None:
    wrong = make_client("no-such-key")
    with pytest.raises(e.AuthError) as text_action:
        await wrong.get_balance()
    assert text_action.value.token == "BAD_KEY"
    assert "no-such-key" not in f"{text_action.value} {text_action.value!r} {wrong!r}"
    with pytest.raises(e.AuthError, match="BAD_KEY"):
        await wrong.get_prices(service="tg", country=0)  # a JSON action
    with pytest.raises(e.AuthError, match="BAD_KEY"):
        await wrong.get_number("tg", 0)  # a purchase
    with pytest.raises(e.AuthError, match="BAD_KEY"):
        await wrong.get_rent_list()  # a rent action (JSON errors, but BAD_KEY stays text)
    with pytest.raises(e.AuthError, match="BAD_KEY"):
        await wrong.get_domains("apple.com")  # a mail action
    with pytest.raises(e.AuthError, match="BAD_KEY"):
        await wrong.get_operators(0)


async def test_bad_key_is_not_retried(make_client: ClientFactory, emu: Emulator) -> None:
    with pytest.raises(e.AuthError):
        await make_client("no-such-key").get_balance()
    assert [call.action for call in emu.calls] == ["getBalance"]


async def test_empty_key_is_no_key(make_client: ClientFactory) -> None:
    with pytest.raises(e.AuthError) as caught:
        await make_client("").get_balance()
    assert caught.value.token == "NO_KEY"


# --- stock and prices ---


async def test_get_numbers_status_folds_suffixes(client: ProviderClient, emu: Emulator) -> None:
    tg = emu.offer(0, "tg")
    av = emu.offer(0, "av")
    assert tg is not None
    assert av is not None
    counts = await client.get_numbers_status(0)
    assert counts["tg"] == tg.count
    # av_0 and av_1 (forwarding) fold into one entry: the larger count.
    assert counts["av"] == max(av.count, av.forward_count)
    assert not any(key.endswith(("_0", "_1")) for key in counts)
    await client.get_number("tg", 0)
    assert (await client.get_numbers_status(0))["tg"] == tg.count
    assert (await client.get_numbers_status(0))["tg"] == counts["tg"] - 1


async def test_get_numbers_status_by_operator_and_modern_style(
    client: ProviderClient, emu: Emulator
) -> None:
    everything = await client.get_numbers_status(0)
    one_operator = await client.get_numbers_status(0, operator=["mts"])
    assert 0 < one_operator["tg"] < everything["tg"]
    emu.config.json_style = "modern"  # string counts, no suffixes
    assert await client.get_numbers_status(0) == everything
    assert await client.get_numbers_status(190) == {}


async def test_get_top_countries_by_service(client: ProviderClient, emu: Emulator) -> None:
    top = await client.get_top_countries_by_service("tg")
    assert len(top) == len([cid for cid in PROFILES if emu.offer(cid, "tg") is not None])
    counts = [row.count for row in top]
    assert counts == sorted(counts, reverse=True)
    first = top[0]
    offer = emu.offer(first.country, "tg")
    assert offer is not None
    assert (first.count, first.price) == (offer.count, offer.cost)
    assert first.retail_price is not None
    assert first.retail_price > first.price
    assert first.free_price_map == {}


async def test_get_top_countries_with_free_price(client: ProviderClient) -> None:
    top = await client.get_top_countries_by_service("wa", free_price=True)
    for row in top:
        assert sum(row.free_price_map.values()) == row.count
        assert min(row.free_price_map) == row.price
        assert all(isinstance(price, Decimal) for price in row.free_price_map)
    everything = await client.get_top_countries_by_service()
    assert {row.country for row in everything} == set(PROFILES)
    with pytest.raises(e.BadService):
        await client.get_top_countries_by_service("nope")


async def test_get_operators(client: ProviderClient) -> None:
    russia = await client.get_operators(0)
    assert list(russia) == [0]
    assert {"mts", "beeline", "megafon", "tele2"} <= set(russia[0])
    everything = await client.get_operators()
    assert set(everything) == set(PROFILES)
    assert everything[0] == russia[0]
    assert all(isinstance(name, str) for names in everything.values() for name in names)
    # OPERATORS_NOT_FOUND ({"status":"error","error":...}) means "none": an empty result.
    assert await client.get_operators(190) == {}


async def test_get_prices(client: ProviderClient, emu: Emulator) -> None:
    everything = await client.get_prices()
    assert set(everything) == set(PROFILES)
    tg = emu.offer(0, "tg")
    assert tg is not None
    assert everything[0]["tg"].cost == tg.cost
    assert everything[0]["tg"].count == tg.count
    assert everything[0]["tg"].physical_count is None
    filtered = await client.get_prices("tg", 0)
    assert list(filtered) == [0]
    assert list(filtered[0]) == ["tg"]
    by_service = await client.get_prices(service="tg")
    assert all(list(services) == ["tg"] for services in by_service.values())
    assert await client.get_prices(country=190) == {}
    assert await client.get_prices("nope") == {}
    emu.config.json_style = "modern"
    modern = await client.get_prices("tg", 0)
    assert modern[0]["tg"].physical_count == tg.physical_count


async def test_get_prices_verification(client: ProviderClient, emu: Emulator) -> None:
    prices = await client.get_prices_verification("tg")
    assert list(prices) == ["tg"]  # service -> country, the reverse of getPrices
    russia = prices["tg"][0]
    assert russia.cost == emu.world.market.verification_prices[0]
    tg = emu.offer(0, "tg")
    assert tg is not None
    assert russia.count == tg.count
    everything = await client.get_prices_verification()
    assert {"tg", "wa", "vk"} <= set(everything)


async def test_get_countries(client: ProviderClient) -> None:
    countries = await client.get_countries()
    assert len(countries) >= 200
    russia = countries[0]
    assert (russia.id, russia.eng, russia.rus) == (0, "Russia", "Россия")
    assert russia.visible
    assert russia.retry
    assert russia.rent
    assert russia.multi_service
    china = countries[3]
    assert not china.multi_service
    assert not china.rent
    assert countries[187].eng == "USA"


async def test_get_list_of_top_countries_by_service(client: ProviderClient) -> None:
    listed = await client.get_list_of_top_countries_by_service("wa", length=5)
    assert len(listed) == 5
    assert all(0 <= row.share <= 100 and 0 <= row.rate <= 100 for row in listed)
    shares = [row.share for row in listed]
    assert shares == sorted(shares, reverse=True)
    second_page = await client.get_list_of_top_countries_by_service("wa", length=5, page=2)
    assert {row.country for row in second_page}.isdisjoint(row.country for row in listed)
    with pytest.raises(e.BadService) as caught:
        await client.get_list_of_top_countries_by_service("nope")
    assert caught.value.token == "WRONG_SERVICE"


async def test_get_services_list(client: ProviderClient) -> None:
    services = {item.code: item.name for item in await client.get_services_list()}
    assert services["tg"] == "Telegram"
    assert services["wa"] == "WhatsApp"
    russian = {item.code: item.name for item in await client.get_services_list(lang="ru")}
    assert russian["tg"] == "Телеграм"
    in_russia = {item.code for item in await client.get_services_list(country=0)}
    assert "tg" in in_russia
    assert "ji" not in in_russia  # sold in Ukraine only


# --- partner software ---


async def test_buy_partner_product(client: ProviderClient, emu: Emulator) -> None:
    product = await client.buy_partner_product(2)
    assert len(product.key) == 25
    assert product.key.isalnum()
    assert "https://" in product.manual
    assert await client.get_balance() == Decimal(BALANCE) - Decimal(2)


async def test_buy_partner_product_errors(client: ProviderClient, emu: Emulator) -> None:
    with pytest.raises(e.BadData):
        await client.buy_partner_product(999)
    emu.add_account(KEY, 1)
    with pytest.raises(e.InsufficientFunds):
        await client.buy_partner_product(3)
    emu.account(KEY).partner_verified = False
    with pytest.raises(e.BadAction):
        await client.buy_partner_product(1)
    assert await client.get_balance() == Decimal(1)
