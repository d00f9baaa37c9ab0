"""ProviderClient against the emulator: rent actions and the rent lifecycle."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal
from typing import Any, cast

import pytest

from bot.provider import ProviderClient, RentAction
from bot.provider import errors as e
from bot.provider.models import RentState
from bot.sandbox import Emulator, RentStatus
from bot.sandbox.market import PROFILES
from tests.provider.conftest import BALANCE, KEY, T0_NAIVE

HOUR = 3600


def rent_price(emu: Emulator, service: str, hours: int, country: int = 0) -> Decimal:
    cost = emu.world.market.rent_cost(country, service, hours)
    assert cost is not None
    return cost


# --- offers ---


async def test_get_rent_services_and_countries(client: ProviderClient, emu: Emulator) -> None:
    offer = await client.get_rent_services_and_countries(4, country=0)
    assert offer.countries == emu.world.market.rent_countries()
    assert 0 in offer.countries
    assert offer.operators[0] == "any"
    assert set(offer.operators[1:]) == set(PROFILES[0].operators)
    assert {"full", "tg", "wa"} <= set(offer.services)
    tg = offer.services["tg"]
    assert tg.cost == rent_price(emu, "tg", 4)
    assert tg.count == emu.world.market.rent_offers[0, "tg"].count
    assert offer.currency is None
    day = await client.get_rent_services_and_countries(24, country=0)
    assert day.services["tg"].cost > tg.cost
    emu.config.json_style = "modern"
    assert (await client.get_rent_services_and_countries(country=0)).currency == 840


async def test_get_rent_services_and_countries_errors(client: ProviderClient) -> None:
    with pytest.raises(e.InvalidTime):
        await client.get_rent_services_and_countries(5, country=0)
    with pytest.raises(e.OutOfStock) as caught:
        await client.get_rent_services_and_countries(4, country=190)
    assert caught.value.token == "OUT_OF_STOCK"


# --- renting ---


async def test_get_rent_number(client: ProviderClient, emu: Emulator) -> None:
    stock = emu.world.market.rent_offers[0, "tg"].count
    rented = await client.get_rent_number("tg", 12, country=0, webhook_url="https://hooks.test/r")
    assert rented.id > 2**32
    assert rented.end_date == T0_NAIVE + timedelta(hours=12)
    assert rented.number.startswith("7")
    assert await client.get_balance() == Decimal(BALANCE) - rent_price(emu, "tg", 12)
    assert emu.world.market.rent_offers[0, "tg"].count == stock - 1
    found = emu.rents[rented.id]
    assert (found.phone, found.key, found.url) == (rented.number, KEY, "https://hooks.test/r")
    default = await client.get_rent_number("wa", country=0)
    assert default.end_date == T0_NAIVE + timedelta(hours=emu.config.rent_default_hours)


async def test_get_rent_number_errors(client: ProviderClient, emu: Emulator) -> None:
    with pytest.raises(e.BadService):
        await client.get_rent_number("zzz", 4, country=0)
    with pytest.raises(e.InvalidTime):
        await client.get_rent_number("tg", 2, country=0)
    with pytest.raises(e.InvalidTime):
        await client.get_rent_number("tg", 1345, country=0)
    with pytest.raises(e.OutOfStock) as no_numbers:
        await client.get_rent_number("tg", 4, country=3)  # China: no rent
    assert no_numbers.value.token == "NO_NUMBERS"
    emu.world.market.rent_offers[0, "tg"].count = 0
    with pytest.raises(e.OutOfStock):
        await client.get_rent_number("tg", 4, country=0)
    emu.add_account(KEY, "0.01")
    with pytest.raises(e.InsufficientFunds) as no_balance:
        await client.get_rent_number("wa", 4, country=0)
    assert no_balance.value.token == "NO_BALANCE"
    assert emu.rents == {}


async def test_get_rent_number_account_refusals(client: ProviderClient, emu: Emulator) -> None:
    account = emu.account(KEY)
    account.max_channels = 1
    await client.get_rent_number("tg", 4, country=0)
    with pytest.raises(e.ChannelsLimit):
        await client.get_rent_number("tg", 4, country=0)
    account.max_channels = None
    account.banned_until = emu.clock.now() + HOUR
    with pytest.raises(e.Banned):
        await client.get_rent_number("tg", 4, country=0)


# --- status ---


async def test_get_rent_status_through_the_lifecycle(
    client: ProviderClient, emu: Emulator
) -> None:
    rented = await client.get_rent_number("tg", 4, country=0)
    waiting = await client.get_rent_status(rented.id)
    assert waiting.state is RentState.WAIT_CODE
    assert waiting.messages == []
    assert not waiting.is_closed

    emu.deliver_rent_sms(rented.id, "first 1111", phone_from="79180230628", service="vk")
    emu.advance(60)
    emu.deliver_rent_sms(rented.id, "second: 2222", phone_from="SPORTMASTER")
    emu.advance(60)
    emu.deliver_rent_sms(rented.id, "third https://t.me/login/3333", phone_from="Telegram")
    status = await client.get_rent_status(rented.id)
    assert status.state is RentState.ACTIVE
    assert status.quantity == 3
    assert [sms.text for sms in status.messages] == [
        "first 1111",
        "second: 2222",
        "third https://t.me/login/3333",
    ]
    first = status.messages[0]
    assert (first.phone_from, first.service, first.date) == ("79180230628", "vk", T0_NAIVE)
    assert status.messages[1].phone_from == "SPORTMASTER"
    assert status.messages[1].service == "ot"
    assert status.messages[2].date == T0_NAIVE + timedelta(minutes=2)

    paged = await client.get_rent_status(rented.id, page=1, size=2)
    assert paged.quantity == 3
    assert [sms.text for sms in paged.messages] == [
        "second: 2222",
        "third https://t.me/login/3333",
    ]

    await client.set_rent_status(rented.id, RentAction.FINISH)
    finished = await client.get_rent_status(rented.id)
    assert finished.state is RentState.FINISHED
    assert finished.is_closed


async def test_get_rent_status_cancelled_and_revoked(
    client: ProviderClient, emu: Emulator
) -> None:
    cancelled = await client.get_rent_number("tg", 4, country=0)
    await client.set_rent_status(cancelled.id, RentAction.CANCEL)
    assert (await client.get_rent_status(cancelled.id)).state is RentState.CANCELLED
    revoked = await client.get_rent_number("wa", 4, country=0)
    emu.revoke_rent(revoked.id)
    status = await client.get_rent_status(revoked.id)
    assert status.state is RentState.REVOKED
    assert status.is_closed
    assert await client.get_balance() == Decimal(BALANCE)  # both refunded


async def test_rent_ends_by_itself(client: ProviderClient, emu: Emulator) -> None:
    rented = await client.get_rent_number("tg", 4, country=0)
    emu.advance(4 * HOUR - 1)
    assert (await client.get_rent_status(rented.id)).state is RentState.WAIT_CODE
    emu.advance(1)
    assert (await client.get_rent_status(rented.id)).state is RentState.FINISHED
    assert await client.get_rent_list() == []


async def test_foreign_or_unknown_rent(
    client: ProviderClient, other: ProviderClient, emu: Emulator
) -> None:
    rented = await client.get_rent_number("tg", 4, country=0)
    with pytest.raises(e.NoRent) as foreign:
        await other.get_rent_status(rented.id)
    assert foreign.value.token == "INVALID_PHONE"
    with pytest.raises(e.NoRent):
        await other.set_rent_status(rented.id, RentAction.CANCEL)
    with pytest.raises(e.NoRent):
        await other.continue_rent_number(rented.id, 4)
    with pytest.raises(e.NoRent):
        await client.get_continue_rent_price_number(123, 4)
    # An empty id is "no id at all" (NO_ID_RENT); the typed API cannot express it otherwise.
    with pytest.raises(e.NoRent) as missing:
        await client.set_rent_status(cast(Any, ""), RentAction.FINISH)
    assert missing.value.token == "NO_ID_RENT"
    assert emu.rents[rented.id].status is RentStatus.ACTIVE


# --- finishing and cancelling ---


async def test_set_rent_status_finish_keeps_the_money(
    client: ProviderClient, emu: Emulator
) -> None:
    rented = await client.get_rent_number("tg", 4, country=0)
    paid = await client.get_balance()
    await client.set_rent_status(rented.id, RentAction.FINISH)
    assert emu.rents[rented.id].status is RentStatus.FINISHED
    assert await client.get_balance() == paid
    with pytest.raises(e.AlreadyClosed) as again:
        await client.set_rent_status(rented.id, RentAction.FINISH)
    assert again.value.token == "ALREADY_FINISH"
    with pytest.raises(e.AlreadyClosed):
        await client.set_rent_status(rented.id, RentAction.CANCEL)


async def test_set_rent_status_cancel_window(client: ProviderClient, emu: Emulator) -> None:
    first = await client.get_rent_number("tg", 4, country=0)
    second = await client.get_rent_number("tg", 4, country=0)
    emu.deliver_rent_sms(first.id, "code 1234")
    paid = await client.get_balance()
    emu.advance(19 * 60)
    await client.set_rent_status(first.id, RentAction.CANCEL)  # with an SMS, inside 20 min
    assert await client.get_balance() == paid + rent_price(emu, "tg", 4)
    with pytest.raises(e.AlreadyClosed) as cancelled:
        await client.set_rent_status(first.id, RentAction.CANCEL)
    assert cancelled.value.token == "ALREADY_CANCEL"
    with pytest.raises(e.AlreadyClosed):
        await client.set_rent_status(first.id, RentAction.FINISH)
    emu.advance(60)
    with pytest.raises(e.CantCancel):
        await client.set_rent_status(second.id, RentAction.CANCEL)
    assert emu.rents[second.id].status is RentStatus.ACTIVE
    await client.set_rent_status(second.id, RentAction.FINISH)


# --- the list ---


async def test_get_rent_list(client: ProviderClient, other: ProviderClient) -> None:
    assert await client.get_rent_list() == []
    first = await client.get_rent_number("tg", 4, country=0)
    second = await client.get_rent_number("wa", 4, country=0)
    await other.get_rent_number("tg", 4, country=0)
    listed = await client.get_rent_list()
    assert [(row.id, row.phone) for row in listed] == [
        (first.id, first.number),
        (second.id, second.number),
    ]
    await client.set_rent_status(first.id, RentAction.FINISH)
    assert [row.id for row in await client.get_rent_list()] == [second.id]


# --- extension ---


async def test_continue_rent_number_moves_the_end(client: ProviderClient, emu: Emulator) -> None:
    rented = await client.get_rent_number("tg", 4, country=0)
    quote = await client.get_continue_rent_price_number(rented.id, 12)
    assert quote.price > 0
    assert quote.currency is None
    balance = await client.get_balance()
    extended = await client.continue_rent_number(rented.id, 12)
    assert extended.id == rented.id
    assert extended.number == rented.number
    assert extended.end_date == T0_NAIVE + timedelta(hours=16)
    assert await client.get_balance() == balance - quote.price
    emu.advance(4 * HOUR)
    assert (await client.get_rent_status(rented.id)).state is RentState.WAIT_CODE
    emu.config.json_style = "modern"
    assert (await client.get_continue_rent_price_number(rented.id, 4)).currency == 840


async def test_continue_finished_rent_gives_a_new_id(
    client: ProviderClient, emu: Emulator
) -> None:
    rented = await client.get_rent_number("tg", 4, country=0)
    await client.set_rent_status(rented.id, RentAction.FINISH)
    emu.advance(HOUR)
    again = await client.continue_rent_number(rented.id, 4)
    assert again.id != rented.id
    assert again.number == rented.number
    assert again.end_date == T0_NAIVE + timedelta(hours=5)
    assert emu.rents[again.id].previous_id == rented.id
    assert (await client.get_rent_status(again.id)).state is RentState.WAIT_CODE
    assert (await client.get_rent_status(rented.id)).state is RentState.FINISHED
    assert [row.id for row in await client.get_rent_list()] == [again.id]


async def test_continue_rent_errors(client: ProviderClient, emu: Emulator) -> None:
    rented = await client.get_rent_number("tg", 4, country=0)
    with pytest.raises(e.MaxHoursExceeded) as too_long:
        await client.continue_rent_number(rented.id, 1344)
    assert too_long.value.max_hours == 1340
    with pytest.raises(e.MaxHoursExceeded) as quote:
        await client.get_continue_rent_price_number(rented.id, 1341)
    assert quote.value.max_hours == 1340
    with pytest.raises(e.InvalidTime):
        await client.continue_rent_number(rented.id, 1)
    with pytest.raises(e.InvalidTime):
        await client.get_continue_rent_price_number(rented.id, 2000)
    emu.add_account(KEY, 0)
    with pytest.raises(e.InsufficientFunds):
        await client.continue_rent_number(rented.id, 4)
    assert emu.rents[rented.id].hours == 4
    emu.advance(1344 * HOUR)
    with pytest.raises(e.RentEnded) as dead:
        await client.continue_rent_number(rented.id, 4)
    assert dead.value.token == "RENT_DIE"
    with pytest.raises(e.RentEnded):
        await client.get_continue_rent_price_number(rented.id, 4)


async def test_revoked_rent_cannot_be_continued(client: ProviderClient, emu: Emulator) -> None:
    rented = await client.get_rent_number("tg", 4, country=0)
    emu.revoke_rent(rented.id)
    with pytest.raises(e.RentEnded):
        await client.continue_rent_number(rented.id, 4)
    with pytest.raises(e.AlreadyClosed):
        await client.set_rent_status(rented.id, RentAction.FINISH)
