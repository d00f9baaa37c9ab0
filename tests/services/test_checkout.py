"""The checkout, once per purchase kind: double taps, a lost answer and a stale confirmation.

Each kind is driven through its service against the emulator (a provider with every feature),
counting the paid calls the emulator served: a confirmation pays at most once, whatever is
tapped twice or whatever answer is lost.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import TypeVar

import pytest

from bot.accounts import UserAccount
from bot.provider.models import ActivationAction
from bot.services.checkout import OrderKind, Outcome, Purchase, Status
from bot.services.mail_rules import MailOptions
from bot.storage.activations import Activation, BuyOptions
from bot.storage.mails import Mailbox
from bot.storage.orders import Order
from bot.storage.records import UserRecord
from tests.harness import Harness
from tests.services.world import ServiceWorld, first_rent_options

COUNTRY = 6
T = TypeVar("T")
R = TypeVar("R", bound=UserRecord)


class World(ServiceWorld):
    async def answer_lost(self, action: str, call: Awaitable[T], kind: str = "timeout") -> T:
        """Await ``call`` while the provider carries ``action`` out and its answer is lost (or
        replaced by ``kind``); the provider answers again afterwards."""
        self.emulator.faults.configure(rate=1.0, kinds=[kind], when="after", actions={action})
        try:
            return await call
        finally:
            self.heal()


@pytest.fixture
def world(harness: Harness, account: UserAccount) -> World:
    return World(harness.resources, harness.emulator, account)


# --- the kinds with a confirmation (an order and its token) ---


@dataclass(frozen=True)
class Ordered:
    name: str
    action: str  # the paid call
    draft: Callable[[World], Awaitable[str]]
    confirm: Callable[[World, str], Awaitable[Outcome[UserRecord]]]
    recovers: bool = True  # a lost answer is found again at the provider


async def _draft_number(world: World) -> str:
    options = BuyOptions(service="tg", country=COUNTRY)
    return await world.resources.activation_service.draft(world.account, options)


async def _draft_multi(world: World) -> str:
    options = BuyOptions(service="tg", services=["tg", "wa"], country=COUNTRY)
    return await world.resources.activation_service.draft(world.account, options)


async def _confirm_number(world: World, token: str) -> Outcome[UserRecord]:
    return await world.resources.activation_service.buy(world.account, token)


async def _draft_rent(world: World) -> str:
    options = await first_rent_options(world.resources.rent_service, world.account)
    return await world.resources.rent_service.draft(world.account, options)


async def _confirm_rent(world: World, token: str) -> Outcome[UserRecord]:
    return await world.resources.rent_service.buy(world.account, token)


async def _draft_extension(world: World) -> str:
    service = world.resources.rent_service
    bought = await service.buy(world.account, await _draft_rent(world))
    assert bought.item is not None
    quote = await service.quote(world.account, bought.item, 4)
    return await service.draft_extension(world.account, bought.item, quote)


async def _confirm_extension(world: World, token: str) -> Outcome[UserRecord]:
    return await world.resources.rent_service.extend(world.account, token)


async def _mail_options(world: World) -> MailOptions:
    offer = (await world.resources.mail_service.offers(world.account, "apple.com"))[0]
    return MailOptions(
        site="apple.com", mail_type=offer.mail_type, domain=offer.name, price=offer.cost
    )


async def _draft_mailbox(world: World) -> str:
    options = await _mail_options(world)
    return await world.resources.mail_service.draft(world.account, options)


async def _confirm_mailbox(world: World, token: str) -> Outcome[UserRecord]:
    return await world.resources.mail_service.buy(world.account, token)


ORDERED = [
    Ordered("number", "getNumberV2", _draft_number, _confirm_number),
    Ordered("several services", "getMultiServiceNumber", _draft_multi, _confirm_number),
    Ordered("rent", "getRentNumber", _draft_rent, _confirm_rent),
    # An open rent extended: nothing in the provider's lists tells whether it went through.
    Ordered(
        "rent extension",
        "continueRentNumber",
        _draft_extension,
        _confirm_extension,
        recovers=False,
    ),
    Ordered("mailbox", "buyMailActivation", _draft_mailbox, _confirm_mailbox),
]


def _the_one_bought(first: Outcome[R], second: Outcome[R]) -> R:
    """Of two taps at once, what the one that bought got (the other was busy or found it)."""
    assert {first.status, second.status} <= {Status.BOUGHT, Status.BUSY, Status.ALREADY}
    bought = first if first.status is Status.BOUGHT else second
    assert bought.item is not None
    return bought.item


def _already(again: Outcome[R]) -> R:
    """A later tap on the same confirmation: it shows what was bought, and pays nothing."""
    assert again.status is Status.ALREADY
    assert again.item is not None
    return again.item


@pytest.fixture(params=ORDERED, ids=[kind.name for kind in ORDERED])
def ordered(request: pytest.FixtureRequest) -> Ordered:
    kind: Ordered = request.param
    return kind


async def test_a_double_tap_pays_once(world: World, ordered: Ordered) -> None:
    token = await ordered.draft(world)
    before = world.paid(ordered.action)
    first, second = await asyncio.gather(
        ordered.confirm(world, token), ordered.confirm(world, token)
    )
    assert world.paid(ordered.action) == before + 1
    assert Status.BOUGHT in {first.status, second.status}
    bought = _the_one_bought(first, second)
    assert _already(await ordered.confirm(world, token)).ref == bought.ref
    assert world.paid(ordered.action) == before + 1


# A timeout, a 429 after the purchase ran, and an unreadable answer are all "outcome unknown".
@pytest.mark.parametrize("kind", ["timeout", "rate_limit", "garbage"])
async def test_a_lost_answer_is_looked_up_never_paid_again(
    world: World, ordered: Ordered, kind: str
) -> None:
    token = await ordered.draft(world)
    before = world.paid(ordered.action)
    outcome = await world.answer_lost(ordered.action, ordered.confirm(world, token), kind)
    assert world.paid(ordered.action) == before + 1
    if ordered.recovers:
        assert outcome.status is Status.RECOVERED
        assert outcome.item is not None
        assert _already(await ordered.confirm(world, token)).ref == outcome.item.ref
    else:
        assert outcome.status is Status.UNKNOWN
        assert outcome.error is not None
        again = await ordered.confirm(world, token)
        assert again.status is Status.UNKNOWN
    assert world.paid(ordered.action) == before + 1


async def test_a_stale_or_foreign_token_buys_nothing(world: World, ordered: Ordered) -> None:
    token = await ordered.draft(world)
    before = world.paid(ordered.action)
    assert (await ordered.confirm(world, "no-such-token")).status is Status.EXPIRED
    other = ORDERED[2] if ordered.action != ORDERED[2].action else ORDERED[0]
    foreign = await other.draft(world)
    assert (await ordered.confirm(world, foreign)).status is Status.EXPIRED
    # The token of another user's confirmation is not this user's.
    stranger = UserAccount(world.account.user_id + 1, world.account.preset, world.account.client)
    theirs = await ordered.confirm(World(world.resources, world.emulator, stranger), token)
    assert theirs.status is Status.EXPIRED
    assert world.paid(ordered.action) == before
    # The user's own purchase lock held elsewhere: the tap waits its turn and buys nothing.
    lock = await world.resources.orders.lock(world.account.user_id)
    assert lock is not None
    assert (await ordered.confirm(world, token)).status is Status.BUSY
    await world.resources.orders.unlock(world.account.user_id, lock)
    assert world.paid(ordered.action) == before
    assert (await ordered.confirm(world, token)).status is Status.BOUGHT


# --- the kinds about an earlier number, quoted on its card ---


async def _finished_number(world: World) -> Activation:
    service = world.resources.activation_service
    options = BuyOptions(service="tg", country=COUNTRY)
    outcome = await service.buy(world.account, await service.draft(world.account, options))
    assert outcome.item is not None
    world.emulator.deliver_sms(outcome.item.id, "Your code 5151", code="5151")
    activation = await service.refresh(world.account, outcome.item)
    return await service.set_status(world.account, activation, ActivationAction.FINISH)


async def _extra_quote(world: World, parent: Activation) -> str:
    service = world.resources.activation_service
    info = await world.account.client.check_extra_activation(parent.id)
    return await service.draft_extra(world.account, parent, info.cost)


async def test_extra_activation_once_per_number(world: World) -> None:
    service = world.resources.activation_service
    parent = await _finished_number(world)
    token = await _extra_quote(world, parent)
    first, second = await asyncio.gather(
        service.buy_on_number(world.account, token, OrderKind.EXTRA),
        service.buy_on_number(world.account, token, OrderKind.EXTRA),
    )
    assert world.paid("getExtraActivation") == 1
    bought = _the_one_bought(first, second)
    assert bought.cost is not None  # the card shows what was paid
    # A second quote for the same finished number: the extra bought is shown, not bought again.
    again = await service.buy_on_number(
        world.account, await service.draft_extra(world.account, parent, None), OrderKind.EXTRA
    )
    assert _already(again).ref == bought.ref
    assert world.paid("getExtraActivation") == 1


async def test_extra_activation_with_a_lost_answer_is_found_again(world: World) -> None:
    service = world.resources.activation_service
    parent = await _finished_number(world)
    token = await _extra_quote(world, parent)
    outcome = await world.answer_lost(
        "getExtraActivation", service.buy_on_number(world.account, token, OrderKind.EXTRA)
    )
    assert outcome.status is Status.RECOVERED
    assert outcome.item is not None
    assert outcome.item.phone == parent.phone
    assert world.paid("getExtraActivation") == 1


async def test_additional_service_once_per_confirmation(world: World) -> None:
    service = world.resources.activation_service
    parent = await world.forwarding_number()
    token = await service.draft_additional(world.account, parent, "av")
    first, second = await asyncio.gather(
        service.buy_on_number(world.account, token, OrderKind.ADDITIONAL),
        service.buy_on_number(world.account, token, OrderKind.ADDITIONAL),
    )
    assert world.paid("getAdditionalService") == 1
    bought = _the_one_bought(first, second)
    # What it cost is what the balance lost: the emulator's fixed price.
    assert bought.cost == world.emulator.world.config.additional_service_price
    assert bought.service == "av"
    assert bought.phone == parent.phone


async def test_additional_service_with_a_lost_answer_is_found_again(world: World) -> None:
    service = world.resources.activation_service
    parent = await world.forwarding_number()
    token = await service.draft_additional(world.account, parent, "ym")
    outcome = await world.answer_lost(
        "getAdditionalService", service.buy_on_number(world.account, token, OrderKind.ADDITIONAL)
    )
    assert outcome.status is Status.RECOVERED
    assert outcome.item is not None
    assert outcome.item.service == "ym"
    assert outcome.item.phone == parent.phone
    assert world.paid("getAdditionalService") == 1


async def _mailbox_with_a_letter(world: World) -> Mailbox:
    service = world.resources.mail_service
    bought = await service.buy(world.account, await _draft_mailbox(world))
    assert bought.item is not None
    world.emulator.deliver_mail(bought.item.id, "Your code is 4242", value="4242")
    return await service.refresh(world.account, bought.item)


async def test_another_letter_once_per_letter(world: World) -> None:
    service = world.resources.mail_service
    mailbox = await _mailbox_with_a_letter(world)
    token = await service.draft_letter(world.account, mailbox, mailbox.cost)
    first, second = await asyncio.gather(
        service.reorder(world.account, token), service.reorder(world.account, token)
    )
    assert world.paid("reorderMailActivation") == 1
    bought = _the_one_bought(first, second)
    assert bought.id != mailbox.id
    # The card shows what the address has cost: the mailbox and the letter asked for.
    assert mailbox.cost is not None
    assert bought.cost is not None
    assert bought.cost > mailbox.cost
    # A quote from the old card (the id it was pressed with has moved on): nothing is paid.
    stale = await service.draft_letter(world.account, mailbox, mailbox.cost)
    assert _already(await service.reorder(world.account, stale)).id == bought.id
    assert world.paid("reorderMailActivation") == 1


async def test_another_letter_with_a_lost_answer_is_found_in_the_history(world: World) -> None:
    service = world.resources.mail_service
    mailbox = await _mailbox_with_a_letter(world)
    token = await service.draft_letter(world.account, mailbox, None)
    outcome = await world.answer_lost(
        "reorderMailActivation", service.reorder(world.account, token)
    )
    assert outcome.status is Status.RECOVERED
    assert outcome.item is not None
    assert outcome.item.id != mailbox.id
    assert world.paid("reorderMailActivation") == 1


class _FailsAfterPaying(Purchase[UserRecord]):
    """A paid call that ran, then something of ours failed (storage, a bug): not a refusal."""

    def __init__(self, found: UserRecord | None) -> None:
        self.found = found
        self.looked = False

    async def pay(self) -> UserRecord:
        raise RuntimeError("storage went away after the provider sold the number")

    async def look_up(self) -> UserRecord | None:
        self.looked = True
        return self.found


@pytest.mark.parametrize("found", [False, True])
async def test_an_unexpected_failure_of_a_paid_call_is_looked_up(
    world: World, found: bool
) -> None:
    record = await _finished_number(world) if found else None
    purchase = _FailsAfterPaying(record)
    service = world.resources.activation_service
    token = await service.draft(world.account, BuyOptions(service="tg", country=COUNTRY))

    async def start(order: Order) -> Purchase[UserRecord]:
        return purchase

    outcome = await service.checkout.confirm(
        world.account, token, OrderKind.ACTIVATION, start=start, load=service.activations.get
    )
    assert purchase.looked
    if record is None:
        assert outcome.status is Status.UNKNOWN
    else:
        assert outcome.status is Status.RECOVERED
        assert outcome.item == record
