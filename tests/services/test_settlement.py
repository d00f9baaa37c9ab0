"""An unknown outcome is looked at again until it ends in a purchase or in "nothing bought".

The emulator loses the paid call's answer (``when="after"``: it was carried out) or fails it
before it ran (``when="before"``), and fails the look-up list too, so the tap can only say
"unknown"; the later look (``follow_up``, which the worker runs) then settles it.
"""

from __future__ import annotations

from typing import Literal

import pytest

from bot.accounts import UserAccount
from bot.services.checkout import OrderKind, Status, unsettled_member
from bot.services.settlement import GIVE_UP_AFTER, NOTHING_AFTER, Verdict, follow_up
from bot.storage import keys
from bot.storage.activations import BuyOptions
from tests.harness import Harness
from tests.services.world import ServiceWorld, first_rent_options

COUNTRY = 6


class World(ServiceWorld):
    def fail(self, paid: str, listing: str, when: Literal["before", "after"]) -> None:
        self.emulator.faults.configure(
            rate=1.0, kinds=["timeout"], when=when, actions={paid, listing}
        )

    async def scheduled(self, token: str) -> bool:
        member = unsettled_member(self.account.user_id, token)
        return await self.resources.redis.zscore(keys.SCHEDULE_DUE, member) is not None

    async def look_again(self, token: str) -> Verdict:
        orders = self.resources.orders
        order = await orders.get(self.account.user_id, token)
        assert order is not None
        assert order.status == "unknown"
        service = self.resources.activation_service
        purchase = await service.purchase_for(self.account, order)
        assert purchase is not None
        result = await follow_up(
            orders, self.resources.clock, self.account.user_id, token, order, purchase
        )
        return result.verdict


@pytest.fixture
def world(harness: Harness, account: UserAccount) -> World:
    return World(harness.resources, harness.emulator, account)


async def _buy_blind(world: World, when: Literal["before", "after"]) -> str:
    service = world.resources.activation_service
    token = await service.draft(world.account, BuyOptions(service="tg", country=COUNTRY))
    world.fail("getNumberV2", "getActiveActivations", when)
    outcome = await service.buy(world.account, token)
    world.heal()
    assert outcome.status is Status.UNKNOWN
    assert await world.scheduled(token)
    return token


async def test_a_number_sold_behind_a_lost_answer_ends_on_a_card(world: World) -> None:
    token = await _buy_blind(world, "after")
    orders = world.resources.orders
    order = await orders.get(world.account.user_id, token)
    assert order is not None
    purchase = await world.resources.activation_service.purchase_for(world.account, order)
    assert purchase is not None
    result = await follow_up(
        orders, world.resources.clock, world.account.user_id, token, order, purchase
    )
    assert result.verdict is Verdict.FOUND
    assert result.item is not None
    [sold] = world.emulator.activations.values()
    assert result.item.id == sold.id
    # The tap that comes back later sees the purchase, and nothing is bought twice.
    again = await world.resources.activation_service.buy(world.account, token)
    assert again.status is Status.ALREADY
    assert len(world.emulator.activations) == 1


async def test_nothing_sold_is_said_only_once_the_list_was_read_late_enough(
    world: World,
) -> None:
    token = await _buy_blind(world, "before")
    assert await world.look_again(token) is Verdict.WAIT
    world.emulator.advance(NOTHING_AFTER)
    assert await world.look_again(token) is Verdict.NOTHING
    assert world.emulator.activations == {}
    # The old confirmation buys nothing now; it asks for a fresh quote.
    again = await world.resources.activation_service.buy(world.account, token)
    assert again.status is Status.STALE


async def test_an_unreadable_provider_is_never_taken_for_nothing_bought(world: World) -> None:
    token = await _buy_blind(world, "before")
    world.emulator.advance(NOTHING_AFTER)
    world.fail("getNumberV2", "getActiveActivations", "before")
    assert await world.look_again(token) is Verdict.WAIT
    world.emulator.advance(GIVE_UP_AFTER)
    assert await world.look_again(token) is Verdict.UNSURE


async def test_a_rent_sold_behind_a_lost_answer_is_found_later(world: World) -> None:
    service = world.resources.rent_service
    options = await first_rent_options(service, world.account)
    token = await service.draft(world.account, options)
    world.fail("getRentNumber", "getRentList", "after")
    outcome = await service.buy(world.account, token)
    world.heal()
    assert outcome.status is Status.UNKNOWN
    orders = world.resources.orders
    order = await orders.get(world.account.user_id, token)
    assert order is not None
    purchase = await service.purchase_for(world.account, order)
    assert purchase is not None
    result = await follow_up(
        orders, world.resources.clock, world.account.user_id, token, order, purchase
    )
    assert result.verdict is Verdict.FOUND
    [sold] = world.emulator.rents.values()
    assert result.item is not None
    assert result.item.id == sold.id


async def test_an_added_service_sold_behind_a_lost_answer_ends_on_a_card(world: World) -> None:
    service = world.resources.activation_service
    parent = await world.forwarding_number()
    token = await service.draft_additional(world.account, parent, "av")
    world.fail("getAdditionalService", "getActiveActivations", "after")
    outcome = await service.buy_on_number(world.account, token, OrderKind.ADDITIONAL)
    world.heal()
    assert outcome.status is Status.UNKNOWN
    assert await world.scheduled(token)
    assert await world.look_again(token) is Verdict.FOUND
    [added] = [a for a in world.emulator.activations.values() if a.service == "av"]
    record = await world.resources.activations.find(world.account.user_id, added.id)
    assert record is not None
    assert record.phone == parent.phone
    # The tap that comes back later sees the purchase, and nothing is bought twice.
    again = await service.buy_on_number(world.account, token, OrderKind.ADDITIONAL)
    assert again.status is Status.ALREADY
    assert world.paid("getAdditionalService") == 1
