"""The paid calls behind numbers: a number (one or several services), an extra activation on a
finished number, and an additional service on a forwarding number.

Each supplies the call and its look-up to the checkout (``bot.services.checkout``), which owns
locking, settling and "outcome unknown".
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from decimal import Decimal

from pydantic import BaseModel

from bot.accounts import UserAccount
from bot.provider import errors as pe
from bot.provider.actions.activations import NumberOptions
from bot.provider.presets import Feature
from bot.services.activation_rules import adopted, lifetime_for, new_activation
from bot.services.checkout import READ_BUDGET, Outcome, Purchase, Status
from bot.services.ledger import Ledger
from bot.storage.activations import Activation, BuyOptions


async def list_price(account: UserAccount, country: int | None, service: str) -> Decimal | None:
    """The price list's figure, for providers whose purchase answer carries no cost."""
    try:
        prices = await account.client.get_prices(service, country)
    except pe.ProviderError:
        return None
    info = prices.get(country or 0, {}).get(service)
    return info.cost if info else None


async def verification_price(
    account: UserAccount, country: int | None, service: str
) -> Decimal | None:
    """What a number costs with a call instead of an SMS (getPricesVerification)."""
    try:
        prices = await account.client.get_prices_verification(service)
    except pe.ProviderError:
        return None
    info = prices.get(service, {}).get(country or 0)
    return info.cost if info else None


async def price_of(account: UserAccount, options: BuyOptions) -> Decimal | None:
    """What ``options`` cost now at the provider (summed for several services on one
    number; the call price with call verification); None when the provider does not say."""
    if options.country is None:
        return None
    read = verification_price if options.verification else list_price
    total = Decimal(0)
    for service in options.services or [options.service]:
        cost = await read(account, options.country, service)
        if cost is None:
            return None
        total += cost
    return total


@dataclass
class NumberPurchase(Purchase[Activation]):
    """getNumberV2 / getNumber, or getMultiServiceNumber for several services on one number."""

    _ledger: Ledger[Activation]
    _account: UserAccount
    _options: BuyOptions
    _quoted: Decimal | None = None  # the price the confirmation showed
    _known: set[int] = field(default_factory=set, init=False)

    @property
    def ceiling(self) -> Decimal | None:
        """The most the provider may charge (maxPrice): the quote, or the user's own Free-Price
        ceiling where lower or where it is what the confirmation showed."""
        limits = [p for p in (self._quoted, self._options.max_price) if p is not None]
        return min(limits) if limits else None

    def rose(self, error: pe.ProviderError) -> bool:
        # Against the user's own ceiling the refusal is theirs to answer (raise it or not).
        own = self._options.max_price
        quoted = self._quoted
        return (
            isinstance(error, pe.WrongMaxPrice)
            and quoted is not None
            and (own is None or quoted < own)
        )

    async def pay(self) -> Activation:
        self._known = await self._ledger.known_ids(self._account.user_id)
        if self._options.is_multi:
            group = await self._multi()
        else:
            group = [await self._single()]
        for activation in group:
            await self._ledger.follow(activation)
        return group[0]

    async def _single(self) -> Activation:
        account, options = self._account, self._options
        now = self._ledger.clock()
        lifetime = lifetime_for(options.service)
        common: NumberOptions = {
            "operator": options.operator,
            "max_price": self.ceiling,
            "phone_exception": options.phone_exception or None,
            "verification": options.verification,
            "forward": options.forward,
        }
        if account.supports(Feature.NUMBER_V2):
            bought = await account.client.get_number_v2(options.service, options.country, **common)
            if bought.end_time is not None and bought.activation_time is not None:
                lifetime = max(60.0, (bought.end_time - bought.activation_time).total_seconds())
            activation_id, phone = bought.activation_id, bought.phone
            cost: Decimal | None = bought.cost
            can_retry = bought.can_get_another_sms
            operator = bought.operator or options.operator
        else:
            number = await account.client.get_number(options.service, options.country, **common)
            activation_id, phone, cost, can_retry = number.activation_id, number.phone, None, True
            operator = options.operator
            cost = await price_of(account, options)
        activation = new_activation(account, options, activation_id, phone, options.service, now)
        activation.expires_at = now + lifetime
        activation.cost = cost
        activation.can_retry = can_retry
        activation.operator = operator
        return activation

    async def _multi(self) -> list[Activation]:
        account, options = self._account, self._options
        now = self._ledger.clock()
        bought = await account.client.get_multi_service_number(
            options.services, options.country, operator=options.operator
        )
        group = [
            new_activation(account, options, item.activation_id, item.phone, item.service, now)
            for item in bought
        ]
        refs = [activation.ref for activation in group]
        for activation in group:
            activation.group = refs
            activation.cost = await list_price(account, options.country, activation.service)
        return group

    async def resume(self, since: float) -> None:
        self._known = await self._ledger.known_ids(self._account.user_id, before=since)

    async def price(self) -> Decimal | None:
        return await price_of(self._account, self._options)

    async def look_up(self) -> Activation | None:
        """The activations this purchase created, found in the provider's active list."""
        account, options = self._account, self._options
        active = await account.client.get_active_activations()
        wanted = set(options.services or [options.service])
        fresh = [
            item
            for item in active
            if item.activation_id not in self._known and item.service in wanted | {""}
        ]
        if not fresh:
            return None
        now = self._ledger.clock()
        phone = fresh[0].phone
        group = [
            adopted(account, item, now, options=options)
            for item in fresh
            if options.is_multi and item.phone == phone
        ] or [adopted(account, fresh[0], now, options=options)]
        if len(group) > 1:
            for activation in group:
                activation.group = [a.ref for a in group]
        for activation in group:
            await self._ledger.follow(activation)
        # Recorded already (the start-up reconcile can adopt it first): still this purchase.
        return await self._ledger.records.get(group[0].ref)


class ExtraOrder(BaseModel):
    """A confirmation about an earlier number: which one (its record's ref)."""

    ref: str


class AdditionalOrder(ExtraOrder):
    """A confirmation to add ``service`` to a forwarding number."""

    service: str


async def balance_now(account: UserAccount) -> Decimal | None:
    """The balance, where it can be read in time; None otherwise (nothing depends on it)."""
    try:
        async with asyncio.timeout(READ_BUDGET):
            return await account.client.get_balance()
    except (pe.ProviderError, TimeoutError):
        return None


@dataclass
class SameNumberPurchase(Purchase[Activation]):
    """A purchase on an earlier number (``parent``): what it buys shows up under a new id with
    the parent's phone, and is recorded like the parent."""

    _ledger: Ledger[Activation]
    _account: UserAccount
    _parent: Activation
    _known: set[int] = field(default_factory=set, init=False)

    #: The service bought; the parent's by default.
    @property
    def service(self) -> str:
        return self._parent.service

    async def resume(self, since: float) -> None:
        self._known = await self._ledger.known_ids(self._account.user_id, before=since)

    async def look_up(self) -> Activation | None:
        """The number again under a new id in the active list (the phone tells it)."""
        active = await self._account.client.get_active_activations()
        for item in active:
            if (
                item.activation_id not in self._known
                and item.phone == self._parent.phone
                and item.service in (self.service, "")
            ):
                return await self._record(item.activation_id, item.phone, item.cost)
        return None

    async def _record(self, activation_id: int, phone: str, cost: Decimal | None) -> Activation:
        parent, account = self._parent, self._account
        now = self._ledger.clock()
        activation = Activation(
            id=activation_id,
            user_id=account.user_id,
            provider=account.provider,
            account_id=account.account_id or None,
            service=self.service,
            phone=phone or parent.phone,
            country=parent.country,
            operator=parent.operator,
            created_at=now,
            expires_at=now + lifetime_for(self.service),
            options=parent.options if self.service == parent.service else None,
            cost=self._cost_of(cost),
        )
        await self._ledger.follow(activation)
        await self._recorded(activation)
        return activation

    def _cost_of(self, paid: Decimal | None) -> Decimal | None:
        """What the card shows as paid, given what the call or the list said (``paid``)."""
        return paid

    async def _recorded(self, activation: Activation) -> None:
        """After ``activation`` was recorded and followed: what else this kind remembers."""


@dataclass
class ExtraPurchase(SameNumberPurchase):
    """getExtraActivation: the same number once more, at most once per finished activation."""

    _quoted: Decimal | None = None  # the price the confirmation showed
    _cost: Decimal | None = field(default=None, init=False)  # the price read just before

    async def settled(self) -> Outcome[Activation] | None:
        current = await self._ledger.records.get(self._parent.ref)
        if current is not None and current.extra_ref:
            found = await self._ledger.records.get(current.extra_ref)
            return Outcome(Status.ALREADY, found)
        return None

    async def price(self) -> Decimal | None:
        info = await self._account.client.check_extra_activation(self._parent.id)
        self._cost = info.cost
        return info.cost

    async def pay(self) -> Activation:
        self._known = await self._ledger.known_ids(self._account.user_id)
        number = await self._account.client.get_extra_activation(self._parent.id)
        return await self._record(number.activation_id, number.phone, None)

    def _cost_of(self, paid: Decimal | None) -> Decimal | None:
        return next((c for c in (paid, self._cost, self._quoted) if c is not None), None)

    async def _recorded(self, activation: Activation) -> None:
        def link(record: Activation) -> Activation:
            record.extra_ref = activation.ref
            return record

        await self._ledger.records.update(self._parent.ref, link)


@dataclass
class AdditionalPurchase(SameNumberPurchase):
    """getAdditionalService: another service on a forwarding number that got its first code.

    The protocol publishes no price for it: what it cost is what the balance lost across the
    call (the user's purchases run one at a time under the checkout's lock)."""

    _service: str = ""

    @property
    def service(self) -> str:
        return self._service

    async def pay(self) -> Activation:
        account = self._account
        self._known = await self._ledger.known_ids(account.user_id)
        before = await balance_now(account)
        number = await account.client.get_additional_service(self._parent.id, self._service)
        after = await balance_now(account)
        cost = None
        if before is not None and after is not None and before >= after:
            cost = before - after  # a refund meanwhile would make it nonsense: then unknown
        return await self._record(number.activation_id, number.phone, cost)
