"""A confirmation is a quote: it buys only what the user saw, for the account and price shown.

Driven through the services against the emulator, counting the paid calls it served: a dead
quote (superseded, voided by /cancel or a key change, too old, shown for another account) and
a quote whose price rose buy nothing, and say so with what the caller needs to quote afresh.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from decimal import Decimal

import pytest

from bot.accounts import UserAccount
from bot.sandbox.emulator import Outcome
from bot.sandbox.market import RentOffer
from bot.services.checkout import OrderKind, Status
from bot.services.mail_rules import MailOptions
from bot.storage.activations import BuyOptions
from bot.storage.orders import QUOTE_TTL
from tests.harness import Harness
from tests.services.world import ServiceWorld, first_rent_options

COUNTRY = 6
SERVICE = "tg"


class World(ServiceWorld):
    async def quote_number(self) -> tuple[str, Decimal]:
        offer = self.emulator.offer(COUNTRY, SERVICE)
        assert offer is not None
        options = BuyOptions(service=SERVICE, country=COUNTRY)
        service = self.resources.activation_service
        return await service.draft(self.account, options, offer.cost), offer.cost


@pytest.fixture
def world(harness: Harness, account: UserAccount) -> World:
    return World(harness.resources, harness.emulator, account)


async def test_a_newer_quote_kills_the_older_one(world: World) -> None:
    service = world.resources.activation_service
    old, _ = await world.quote_number()
    new, _ = await world.quote_number()
    stale = await service.buy(world.account, old)
    assert stale.status is Status.STALE
    assert stale.quote is not None
    assert BuyOptions.model_validate(stale.quote.params).service == SERVICE
    assert world.paid("getNumberV2") == 0
    assert (await service.buy(world.account, new)).status is Status.BOUGHT


async def test_cancel_or_a_key_change_voids_every_quote(world: World) -> None:
    service = world.resources.activation_service
    token, _ = await world.quote_number()
    await service.checkout.void(world.account.user_id)
    assert (await service.buy(world.account, token)).status is Status.STALE
    assert world.paid("getNumberV2") == 0


async def test_a_quote_older_than_its_lifetime_buys_nothing(world: World) -> None:
    service = world.resources.activation_service
    token, _ = await world.quote_number()
    world.emulator.advance(QUOTE_TTL + 1)
    assert (await service.buy(world.account, token)).status is Status.STALE
    assert world.paid("getNumberV2") == 0


async def test_a_quote_for_another_account_buys_nothing_here(world: World) -> None:
    service = world.resources.activation_service
    token, _ = await world.quote_number()
    elsewhere = replace(world.account, preset=replace(world.account.preset, name="other"))
    assert (await service.buy(elsewhere, token)).status is Status.STALE
    assert world.paid("getNumberV2") == 0
    assert (await service.buy(world.account, token)).status is Status.BOUGHT


async def test_a_price_rise_shows_the_new_price_and_buys_nothing(world: World) -> None:
    service = world.resources.activation_service
    token, quoted = await world.quote_number()
    world.emulator.set_offer(COUNTRY, SERVICE, cost=quoted + Decimal("0.30"))
    outcome = await service.buy(world.account, token)
    assert outcome.status is Status.REPRICED
    assert outcome.price == quoted + Decimal("0.30")
    assert world.paid("getNumberV2") == 0
    # The repriced quote is dead: tapping it again does not buy at the new price either.
    assert (await service.buy(world.account, token)).status is Status.STALE
    assert world.paid("getNumberV2") == 0


async def test_a_rise_the_check_missed_is_refused_by_the_ceiling(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The price read before buying is the quote's, the provider's at the paid call is higher:
    the quote went as maxPrice, so nothing is bought and the new price is offered."""
    service = world.resources.activation_service
    token, quoted = await world.quote_number()
    dearer = quoted + Decimal("0.30")
    real = world.emulator.serve

    def serve(params: Mapping[str, str]) -> Outcome:
        if params.get("action") == "getNumberV2":
            world.emulator.set_offer(COUNTRY, SERVICE, cost=dearer)
        return real(params)

    monkeypatch.setattr(world.emulator, "serve", serve)
    outcome = await service.buy(world.account, token)
    assert outcome.status is Status.REPRICED
    assert outcome.price == dearer
    assert world.emulator.activations == {}
    assert (await service.buy(world.account, token)).status is Status.STALE


async def test_a_price_drop_still_buys(world: World) -> None:
    service = world.resources.activation_service
    token, quoted = await world.quote_number()
    world.emulator.set_offer(COUNTRY, SERVICE, cost=quoted / 2)
    assert (await service.buy(world.account, token)).status is Status.BOUGHT


async def test_a_rent_price_rise_buys_nothing(world: World) -> None:
    service = world.resources.rent_service
    options = await first_rent_options(service, world.account)
    token = await service.draft(world.account, options)
    market = world.emulator.world.market
    offer = market.rent_offers[options.country, options.service]
    market.rent_offers[options.country, options.service] = RentOffer(offer.cost * 3, offer.count)
    outcome = await service.buy(world.account, token)
    assert outcome.status is Status.REPRICED
    assert outcome.price is not None
    assert options.price is not None
    assert outcome.price > options.price
    assert world.paid("getRentNumber") == 0


async def test_a_mailbox_price_rise_buys_nothing(world: World) -> None:
    service = world.resources.mail_service
    [offer, *_] = await service.offers(world.account, "example.com")
    options = MailOptions(
        site="example.com", mail_type=offer.mail_type, domain=offer.name, price=offer.cost
    )
    token = await service.draft(world.account, options)
    market = world.emulator.world.market
    if offer.name in market.mail_popular:
        popular = market.mail_popular[offer.name]
        market.mail_popular[offer.name] = replace(popular, cost=popular.cost * 3)
    else:
        market.mail_zones[offer.name] *= 3
    outcome = await service.buy(world.account, token)
    assert outcome.status is Status.REPRICED
    assert world.paid("buyMailActivation") == 0


async def test_quotes_of_other_kinds_live_on(world: World) -> None:
    # A new /buy confirmation does not kill a rent confirmation shown beside it.
    checkout = world.resources.activation_service.checkout
    await checkout.void(world.account.user_id, [OrderKind.RENT])
    token, _ = await world.quote_number()
    assert (await world.resources.activation_service.buy(world.account, token)).item is not None
