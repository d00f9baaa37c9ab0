"""Rents as the bot sees them: what can be rented, renting, extending, and following SMS.

No Telegram here: handlers and the worker both call this and render the result themselves.
Renting and extending spend money: both go through the checkout (``bot.services.checkout``).
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable, Iterable
from dataclasses import replace
from decimal import Decimal

from redis.asyncio import Redis

from bot.accounts import UserAccount
from bot.catalogue import COUNTRIES
from bot.provider import errors as pe
from bot.provider.client import RentAction
from bot.provider.models import RentListEntry, RentStatus
from bot.provider.presets import Feature
from bot.services.checkout import OrderKind, Outcome, Shop, Status
from bot.services.rent_purchases import ExtendOrder, ExtensionPurchase, RentLedger, RentPurchase
from bot.services.rent_rules import (
    DURATIONS,
    HOUR,
    CachedMenu,
    Quote,
    RentChoice,
    RentMenu,
    apply_status,
    member,
    popular_first,
    sms_key,
)
from bot.storage.cache import JsonCache
from bot.storage.orders import Order, OrderRepo
from bot.storage.rents import Rent, RentOptions, RentRepo, SmsKey
from bot.storage.rents import RentState as State
from bot.storage.schedule import Schedule

log = logging.getLogger(__name__)

MENU_TTL = 60
DURATIONS_TTL = 6 * 3600
MAX_STATUS_PAGES = 20


class RentService(Shop[RentOptions]):
    kind = OrderKind.RENT

    def __init__(
        self,
        rents: RentRepo,
        orders: OrderRepo,
        schedule: Schedule,
        redis: Redis,
        *,
        clock: Callable[[], float] = time.time,
        webhook_url: Callable[[UserAccount], str | None] | None = None,
    ) -> None:
        super().__init__(orders, schedule, clock)
        self.rents = rents
        self._cache = JsonCache(redis)
        self.ledger = RentLedger(rents, schedule, clock, member, window=500)
        self.purchases = {
            OrderKind.RENT.value: self._rent_purchase,
            OrderKind.RENT_EXTENSION.value: self._extension,
        }
        # Rent webhooks are not taken from the profile: each rent carries its owner's url.
        self._webhook_url = webhook_url

    # --- what can be rented ---

    async def durations(self, account: UserAccount) -> list[int]:
        """The offered durations the provider accepts (it answers INVALID_TIME to others)."""
        name = f"{account.provider}:rent:durations"
        cached: list[int] | None = await self._cache.get(name)
        if cached is not None:
            return cached
        accepted = await asyncio.gather(*(self._accepts(account, h) for h in DURATIONS))
        hours = [h for h, ok in zip(DURATIONS, accepted, strict=True) if ok]
        await self._cache.put(name, hours, DURATIONS_TTL)
        return hours

    async def _accepts(self, account: UserAccount, hours: int) -> bool:
        try:
            await self.menu(account, hours)
        except pe.InvalidTime:
            return False
        return True

    async def menu(self, account: UserAccount, hours: int, country: int | None = None) -> RentMenu:
        """Countries, operators and services with prices for ``hours`` (INVALID_TIME raises)."""
        name = f"{account.provider}:rent:{hours}:{country}"
        raw = await self._cache.get(name)
        if raw is None:
            offer = await self._fetch_menu(account, hours, country)
            await self._cache.put(name, offer.model_dump(mode="json"), MENU_TTL)
        else:
            offer = CachedMenu.model_validate(raw)
        choices = (RentChoice(code, cost, count) for code, cost, count in offer.services)
        countries = offer.countries or [c.id for c in COUNTRIES.values() if c.rent]
        return RentMenu(
            countries=tuple(countries),
            operators=tuple(op for op in offer.operators if op and op != "any"),
            choices=tuple(sorted(choices, key=popular_first)),
        )

    async def _fetch_menu(
        self, account: UserAccount, hours: int, country: int | None
    ) -> CachedMenu:
        try:
            offer = await account.client.get_rent_services_and_countries(hours, country=country)
        except pe.OutOfStock:
            return CachedMenu()
        return CachedMenu(
            countries=offer.countries,
            operators=offer.operators,
            services=[
                (code, item.cost, item.count)
                for code, item in offer.services.items()
                if item.count > 0
            ],
        )

    # --- renting ---

    def quoted(self, options: RentOptions) -> Decimal | None:
        return options.price

    async def buy(self, account: UserAccount, token: str) -> Outcome[Rent]:
        """Carry out the confirmation ``token`` at most once."""

        async def start(order: Order) -> RentPurchase:
            return await self._rent_purchase(account, order)

        return await self.checkout.confirm(
            account, token, OrderKind.RENT, start=start, load=self.rents.get
        )

    async def _rent_purchase(self, account: UserAccount, order: Order) -> RentPurchase:
        options = RentOptions.model_validate(order.params)
        webhook_url = self._webhook_url(account) if self._webhook_url else None
        return RentPurchase(self.ledger, account, options, self._adopt_bought, webhook_url)

    async def _extension(self, account: UserAccount, order: Order) -> ExtensionPurchase | None:
        params = ExtendOrder.model_validate(order.params)
        rent = await self.rents.get(params.ref)
        if rent is None or rent.user_id != account.user_id:
            return None
        return ExtensionPurchase(self.ledger, account, rent, params)

    async def _adopt_bought(
        self, account: UserAccount, entry: RentListEntry, options: RentOptions, started: float
    ) -> Rent:
        return await self.adopt(account, entry, options=options, started=started)

    async def adopt(
        self,
        account: UserAccount,
        entry: RentListEntry,
        *,
        options: RentOptions | None = None,
        started: float | None = None,
    ) -> Rent:
        """A record for a rent found in the provider's list (getRentList has id and phone)."""
        now = self.clock()
        latest = await self.rents.of_user(account.user_id, limit=1)
        same = latest and latest[0].bought_with(account.account_id, account.provider)
        offset = latest[0].utc_offset if same else 0.0
        rent = Rent(
            id=entry.id,
            user_id=account.user_id,
            provider=account.provider,
            account_id=account.account_id or None,
            service=options.service if options else "",  # getRentList does not say
            phone=entry.phone,
            country=options.country if options else None,
            operator=options.operator if options else None,
            hours=options.hours if options else None,
            cost=options.price if options else None,
            created_at=started or now,
            ends_at=(started or now) + options.hours * HOUR if options else None,
            term_started_at=started or now,
            utc_offset=offset,
            external=options is None,
        )
        if options is None:
            # SMS that came before the bot saw the rent were read where it was made.
            await self._backfill(account, rent)
        return rent

    async def _backfill(self, account: UserAccount, rent: Rent) -> None:
        try:
            status = await self.read_status(account, rent)
        except pe.ProviderError:
            return
        apply_status(rent, status, self.clock())
        for sms in rent.sms:
            sms.delivered = True

    async def reconcile(self, account: UserAccount) -> list[Rent]:
        """Follow rents the provider lists that the bot does not know; re-check the others."""
        try:
            listed = await account.client.get_rent_list()
        except pe.ProviderError:
            return []
        known = await self.ledger.known_ids(account.user_id)
        adopted = []
        for entry in listed:
            if entry.id in known:
                continue
            rent = await self.adopt(account, entry)
            if await self.ledger.follow(rent):
                adopted.append(rent)
        listed_ids = {entry.id for entry in listed}
        for rent in await self.rents.open_of_user(account.user_id):
            if (
                rent.bought_with(account.account_id, account.provider)
                and rent.id not in listed_ids
            ):
                # The provider no longer lists it: most likely over; the worker will see.
                await self.schedule.due_now(member(rent.ref))
        return adopted

    # --- following ---

    async def read_status(self, account: UserAccount, rent: Rent) -> RentStatus:
        """getRentStatus, with older pages when more SMS arrived than one page holds."""
        client = account.client
        status = await client.get_rent_status(rent.id)
        messages = list(status.messages)
        known = rent.known_keys()
        page = 2
        while (
            status.quantity > len(messages)
            and status.messages
            and page <= MAX_STATUS_PAGES
            and sms_key(messages[0]) not in known  # older pages hold nothing new
        ):
            older = await client.get_rent_status(rent.id, page=page, size=len(status.messages))
            if not older.messages:
                break
            messages = list(older.messages) + messages
            page += 1
        return status.model_copy(update={"messages": messages})

    async def record_status(self, ref: str, status: RentStatus) -> tuple[Rent, Rent]:
        now = self.clock()

        def change(record: Rent) -> Rent:
            return apply_status(record, status, now)

        return await self.rents.update(ref, change)

    async def refresh(self, account: UserAccount, rent: Rent) -> Rent:
        """Read the provider's status now and record it; the worker pushes what is new."""
        status = await self.read_status(account, rent)
        _, after = await self.record_status(rent.ref, status)
        await self.schedule.due_now(member(after.ref))
        return after

    async def mark_delivered(self, ref: str, keys: Iterable[SmsKey]) -> Rent:
        done = set(keys)

        def change(record: Rent) -> Rent:
            for sms in record.sms:
                if sms.key in done:
                    sms.delivered = True
            return record

        _, after = await self.rents.update(ref, change)
        return after

    async def mark_reminded(self, ref: str, ends_at: float) -> None:
        await self.rents.assign(ref, reminded_for=ends_at)

    async def mark_shown(self, ref: str, shown: str) -> None:
        await self.rents.assign(ref, shown=shown)

    async def set_card(self, ref: str, message_id: int) -> None:
        await self.rents.remember_card(ref, message_id)

    async def close_unknown(self, ref: str) -> Rent:
        """The provider no longer knows the rent: it ended."""
        now = self.clock()

        def change(record: Rent) -> Rent:
            if record.is_open:
                record.state = State.FINISHED
                record.closed_at = now
            return record

        _, after = await self.rents.update(ref, change)
        return after

    # --- the card's buttons ---

    async def finish(self, account: UserAccount, rent: Rent) -> Rent:
        """setRentStatus 1; provider errors propagate."""
        await account.client.set_rent_status(rent.id, RentAction.FINISH)
        return await self._closed(rent.ref, State.FINISHED)

    async def cancel(self, account: UserAccount, rent: Rent) -> Rent:
        """setRentStatus 2 (refund); CANT_CANCEL hides the button for good, then propagates."""
        try:
            await account.client.set_rent_status(rent.id, RentAction.CANCEL)
        except pe.CantCancel:
            await self.rents.assign(rent.ref, cancel_refused=True)
            raise
        return await self._closed(rent.ref, State.CANCELLED)

    async def _closed(self, ref: str, state: State) -> Rent:
        now = self.clock()

        def change(record: Rent) -> Rent:
            record.state = state
            record.close(now)
            return record

        _, after = await self.rents.update(ref, change)
        # Due now rather than forgotten: SMS recorded but not yet pushed still go out.
        await self.schedule.due_now(member(ref))
        return after

    # --- extending ---

    async def quote(self, account: UserAccount, rent: Rent, hours: int) -> Quote:
        """The price of extending by ``hours``; MAX_HOURS_EXCEED and RENT_DIE propagate."""
        price: Decimal | None = None
        exact = False
        if account.supports(Feature.RENT_PRICE):
            try:
                found = await account.client.get_continue_rent_price_number(rent.id, hours)
            except (pe.BadOperator, pe.BadAction):
                pass  # some providers price extensions only on certain operators
            else:
                price, exact = found.price, True
        if price is None and rent.country is not None:
            price = await self._list_price(account, rent, hours)
        renews = not rent.is_open
        start = self.clock() if renews else rent.ends_at
        ends_at = start + hours * HOUR if start is not None else None
        return Quote(hours=hours, price=price, exact=exact, renews=renews, ends_at=ends_at)

    async def _list_price(self, account: UserAccount, rent: Rent, hours: int) -> Decimal | None:
        try:
            menu = await self.menu(account, hours, rent.country)
        except pe.ProviderError:
            return None
        choice = menu.choice(rent.service)
        return choice.price if choice else None

    async def draft_extension(self, account: UserAccount, rent: Rent, quote: Quote) -> str:
        order = ExtendOrder(ref=rent.ref, hours=quote.hours, price=quote.price)
        return await self.checkout.draft(account, OrderKind.RENT_EXTENSION, order, quote.price)

    async def extend(self, account: UserAccount, token: str) -> Outcome[Rent]:
        """Carry out the extension ``token`` at most once."""
        extended: list[Rent] = []

        async def start(order: Order) -> ExtensionPurchase | None:
            purchase = await self._extension(account, order)
            if purchase is not None:
                extended.append(purchase.rent)
            return purchase

        outcome = await self.checkout.confirm(
            account, token, OrderKind.RENT_EXTENSION, start=start, load=self.rents.get
        )
        paid = outcome.status in {Status.BOUGHT, Status.RECOVERED}
        if paid and outcome.item is not None and extended and outcome.item.id != extended[0].id:
            return replace(outcome, renewed=True)
        return outcome
