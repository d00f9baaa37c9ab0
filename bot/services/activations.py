"""Activations as the bot sees them: buying, user actions, and reading the provider's status.

No Telegram here: handlers and the worker both call this and render the result themselves.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from bot.accounts import UserAccount
from bot.provider import errors as pe
from bot.provider.models import (
    ActivationAction,
    ActivationState,
    ActivationStatus,
    ActiveActivation,
)
from bot.provider.presets import Feature
from bot.storage.activations import Activation, ActivationRepo, BuyOptions, Code, State
from bot.storage.orders import OrderRepo
from bot.storage.schedule import Schedule
from bot.storage.users import UserRepo

log = logging.getLogger(__name__)

DEFAULT_LIFETIME = 20 * 60.0
#: Services the providers keep open longer (protocol reference, section 9.1).
SERVICE_LIFETIMES = {"ya": 40 * 60.0, "ig": 3600.0, "ft": 3600.0, "cy": 3600.0, "wx": 3600.0}
EARLY_CANCEL = 120.0


def member(ref: str) -> str:
    """The activation's name in the shared schedule."""
    return f"act:{ref}"


def lifetime_for(service: str) -> float:
    return SERVICE_LIFETIMES.get(service, DEFAULT_LIFETIME)


def cancel_wait(activation: Activation, now: float) -> int:
    """Seconds until the provider allows cancelling (0 when it does)."""
    return max(0, int(activation.created_at + EARLY_CANCEL - now + 0.999))


def apply_status(activation: Activation, status: ActivationStatus, now: float) -> Activation:
    """The record after the provider reported ``status``; a new code is appended undelivered."""
    state = status.state
    if not activation.is_open:
        return activation
    if state is ActivationState.CODE_RECEIVED and status.code is not None:
        waiting = activation.state in {State.WAITING, State.RETRY}
        if waiting or status.code != activation.last_code:
            activation.codes.append(Code(code=status.code, at=now))
        activation.state = State.CODE
        activation.waiting_since = None
    elif state is ActivationState.WAIT_RETRY and activation.state is State.CODE:
        activation.state = State.RETRY
        activation.waiting_since = now
    elif state is ActivationState.CANCELLED:
        activation.closed_at = now
        if activation.codes:
            activation.state = State.FINISHED
        elif now >= activation.expires_at - 60:
            activation.state = State.EXPIRED
        else:
            activation.state = State.CANCELLED
    return activation


def status_from_listing(item: ActiveActivation) -> ActivationStatus:
    """What getStatus would say, read from a getActiveActivations entry."""
    if item.codes:
        last = item.codes[-1]
        if item.status == 3:
            return ActivationStatus(state=ActivationState.WAIT_RETRY, code=last)
        return ActivationStatus(state=ActivationState.CODE_RECEIVED, code=last)
    return ActivationStatus(state=ActivationState.WAIT_CODE)


@dataclass(frozen=True, slots=True)
class Purchase:
    """What a confirmation tap led to."""

    activation: Activation | None = None
    already: bool = False  # the order had already bought this (a double tap)
    busy: bool = False  # another purchase of this user is running
    recovered: bool = False  # the answer was lost, but the number is in the active list
    unknown: bool = False  # the answer was lost and no new number shows up (yet)
    expired: bool = False  # the confirmation is too old or unknown
    error: pe.ProviderError | None = None


class ActivationService:
    def __init__(
        self,
        activations: ActivationRepo,
        orders: OrderRepo,
        schedule: Schedule,
        users: UserRepo,
        *,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.activations = activations
        self.orders = orders
        self.schedule = schedule
        self.users = users
        self.clock = clock

    # --- buying ---

    async def draft(self, user_id: int, options: BuyOptions) -> str:
        return await self.orders.draft(user_id, "activation", options.model_dump(mode="json"))

    async def buy(self, account: UserAccount, token: str) -> Purchase:
        """Carry out the confirmation ``token`` at most once."""
        user_id = account.user_id
        order = await self.orders.get(user_id, token)
        if order is None or order.kind != "activation":
            return Purchase(expired=True)
        if order.status == "done" and order.result:
            return Purchase(activation=await self.activations.get(order.result), already=True)
        lock = await self.orders.lock(user_id)
        if lock is None:
            return Purchase(busy=True)
        try:
            started = self.clock()
            order, mine = await self.orders.begin(user_id, token, started)
            if order is None:
                return Purchase(expired=True)
            if not mine:
                if order.status == "done" and order.result:
                    found = await self.activations.get(order.result)
                    return Purchase(activation=found, already=True)
                if order.status == "unknown":
                    return Purchase(unknown=True)
                return Purchase(busy=True)
            options = BuyOptions.model_validate(order.params)
            return await self._buy(account, token, options, started)
        finally:
            await self.orders.unlock(user_id, lock)

    async def _buy(
        self, account: UserAccount, token: str, options: BuyOptions, started: float
    ) -> Purchase:
        user_id = account.user_id
        known = {a.id for a in await self.activations.of_user(user_id, limit=200)}
        try:
            group = await self._purchase(account, options)
        except (pe.ProviderTimeout, pe.TransportError, pe.ServerError, pe.MalformedResponse) as e:
            # The number may or may not have been bought: look, never buy again blindly.
            log.warning("purchase outcome unknown for user %s: %s", user_id, type(e).__name__)
            group = await self._find_new(account, options, known)
            if not group:
                await self.orders.settle(user_id, token, "unknown")
                return Purchase(unknown=True, error=e)
            await self._follow_all(group)
            await self.orders.settle(user_id, token, "done", group[0].ref)
            return Purchase(activation=group[0], recovered=True)
        except pe.ProviderError as e:
            await self.orders.settle(user_id, token, "draft")
            return Purchase(error=e)
        await self._follow_all(group)
        await self.orders.settle(user_id, token, "done", group[0].ref)
        for service in options.services or [options.service]:
            await self.users.add_recent_service(user_id, service)
        return Purchase(activation=group[0])

    async def _purchase(self, account: UserAccount, options: BuyOptions) -> list[Activation]:
        if options.is_multi:
            return await self._purchase_multi(account, options)
        client = account.client
        now = self.clock()
        lifetime = lifetime_for(options.service)
        common: dict[str, Any] = {
            "operator": options.operator,
            "max_price": options.max_price,
            "phone_exception": options.phone_exception or None,
            "verification": options.verification,
            "forward": options.forward,
        }
        if account.supports(Feature.NUMBER_V2):
            bought = await client.get_number_v2(options.service, options.country, **common)
            if bought.end_time is not None and bought.activation_time is not None:
                lifetime = max(60.0, (bought.end_time - bought.activation_time).total_seconds())
            activation_id, phone = bought.activation_id, bought.phone
            cost: Decimal | None = bought.cost
            can_retry = bought.can_get_another_sms
            operator = bought.operator or options.operator
        else:
            number = await client.get_number(options.service, options.country, **common)
            activation_id, phone, cost, can_retry = number.activation_id, number.phone, None, True
            operator = options.operator
            if options.country is not None:
                cost = await self._price(account, options, options.service)
        activation = self._record(account, options, activation_id, phone, options.service, now)
        activation.expires_at = now + lifetime
        activation.cost = cost
        activation.can_retry = can_retry
        activation.operator = operator
        return [activation]

    async def _purchase_multi(self, account: UserAccount, options: BuyOptions) -> list[Activation]:
        now = self.clock()
        bought = await account.client.get_multi_service_number(
            options.services, options.country, operator=options.operator
        )
        group = [
            self._record(account, options, item.activation_id, item.phone, item.service, now)
            for item in bought
        ]
        refs = [activation.ref for activation in group]
        for activation in group:
            activation.group = refs
            activation.cost = await self._price(account, options, activation.service)
        return group

    def _record(
        self,
        account: UserAccount,
        options: BuyOptions,
        activation_id: int,
        phone: str,
        service: str,
        now: float,
    ) -> Activation:
        return Activation(
            id=activation_id,
            user_id=account.user_id,
            provider=account.provider,
            service=service,
            phone=phone,
            country=options.country,
            operator=options.operator,
            created_at=now,
            expires_at=now + lifetime_for(service),
            verification=options.verification,
            forward=options.forward,
            options=options,
            waiting_since=now,
        )

    async def _price(
        self, account: UserAccount, options: BuyOptions, service: str
    ) -> Decimal | None:
        try:
            prices = await account.client.get_prices(service, options.country)
        except pe.ProviderError:
            return None
        info = prices.get(options.country or 0, {}).get(service)
        return info.cost if info else None

    async def _find_new(
        self, account: UserAccount, options: BuyOptions, known: set[int]
    ) -> list[Activation]:
        """The activations this purchase created, found in the provider's active list."""
        try:
            active = await account.client.get_active_activations()
        except pe.ProviderError:
            return []
        wanted = set(options.services or [options.service])
        fresh = [
            item
            for item in active
            if item.activation_id not in known and item.service in wanted | {""}
        ]
        if not fresh:
            return []
        phone = fresh[0].phone
        group = [
            self.adopt(account, item, options=options)
            for item in fresh
            if options.is_multi and item.phone == phone
        ] or [self.adopt(account, fresh[0], options=options)]
        if len(group) > 1:
            for activation in group:
                activation.group = [a.ref for a in group]
        return [a for a in group if await self.activations.add(a)]

    def adopt(
        self,
        account: UserAccount,
        item: ActiveActivation,
        *,
        options: BuyOptions | None = None,
    ) -> Activation:
        """A record for an activation found in the provider's active list."""
        now = self.clock()
        service = item.service or (options.service if options else "ot")
        country = item.country
        if country is None and options is not None:
            country = options.country
        activation = Activation(
            id=item.activation_id,
            user_id=account.user_id,
            provider=account.provider,
            service=service,
            phone=item.phone,
            country=item.country
            if item.country is not None
            else options.country
            if options
            else None,
            cost=item.cost,
            created_at=now,
            expires_at=now + lifetime_for(service),
            can_retry=item.can_get_another_sms,
            options=options,
            external=options is None,
            waiting_since=now,
        )
        if item.codes:
            activation.codes = [Code(code=code, at=now) for code in item.codes]
            activation.state = State.CODE
            activation.waiting_since = None
        return activation

    async def buy_extra(self, account: UserAccount, parent: Activation) -> Purchase:
        """Reuse a finished number (getExtraActivation), once per parent activation."""
        if parent.extra_ref:
            return Purchase(activation=await self.activations.get(parent.extra_ref), already=True)
        lock = await self.orders.lock(account.user_id)
        if lock is None:
            return Purchase(busy=True)
        try:
            current = await self.activations.get(parent.ref)
            if current is not None and current.extra_ref:
                found = await self.activations.get(current.extra_ref)
                return Purchase(activation=found, already=True)
            try:
                number = await account.client.get_extra_activation(parent.id)
            except pe.ProviderError as error:
                return Purchase(error=error)
            now = self.clock()
            activation = Activation(
                id=number.activation_id,
                user_id=account.user_id,
                provider=account.provider,
                service=parent.service,
                phone=number.phone or parent.phone,
                country=parent.country,
                operator=parent.operator,
                created_at=now,
                expires_at=now + lifetime_for(parent.service),
                options=parent.options,
                waiting_since=now,
            )
            await self._follow(activation)

            def link(record: Activation) -> Activation:
                record.extra_ref = activation.ref
                return record

            await self.activations.update(parent.ref, link)
            return Purchase(activation=activation)
        finally:
            await self.orders.unlock(account.user_id, lock)

    async def buy_additional(
        self, account: UserAccount, parent: Activation, service: str
    ) -> Purchase:
        """Another service on a forwarding number that got its first code."""
        lock = await self.orders.lock(account.user_id)
        if lock is None:
            return Purchase(busy=True)
        try:
            try:
                number = await account.client.get_additional_service(parent.id, service)
            except pe.ProviderError as error:
                return Purchase(error=error)
            now = self.clock()
            activation = Activation(
                id=number.activation_id,
                user_id=account.user_id,
                provider=account.provider,
                service=service,
                phone=number.phone or parent.phone,
                country=parent.country,
                operator=parent.operator,
                created_at=now,
                expires_at=now + lifetime_for(service),
                waiting_since=now,
            )
            await self._follow(activation)
            return Purchase(activation=activation)
        finally:
            await self.orders.unlock(account.user_id, lock)

    async def reconcile(self, account: UserAccount) -> list[Activation]:
        """Follow activations the provider lists that the bot does not know (bought elsewhere)."""
        try:
            active = await account.client.get_active_activations()
        except pe.ProviderError:
            return []
        known = {a.id for a in await self.activations.of_user(account.user_id, limit=500)}
        adopted = []
        for item in active:
            if item.activation_id in known:
                continue
            activation = self.adopt(account, item)
            for code in activation.codes:
                code.delivered = True  # seen where it was bought; not news
            if await self.activations.add(activation):
                await self.schedule.add(member(activation.ref), self.clock())
                adopted.append(activation)
        return adopted

    async def _follow(self, activation: Activation) -> None:
        await self.activations.add(activation)
        await self.schedule.add(member(activation.ref), self.clock())

    async def _follow_all(self, group: list[Activation]) -> None:
        for activation in group:
            await self._follow(activation)

    # --- the user's buttons ---

    async def set_status(
        self, account: UserAccount, activation: Activation, action: ActivationAction
    ) -> Activation:
        """Ask the provider, then record what it accepted. Provider errors propagate."""
        await account.client.set_status(activation.id, action)
        now = self.clock()

        def change(record: Activation) -> Activation:
            record.version += 1
            record.changed_at = now
            if action is ActivationAction.SMS_SENT:
                record.ready_sent = True
            elif action is ActivationAction.ANOTHER_CODE:
                record.state = State.RETRY
                record.waiting_since = now
            elif action is ActivationAction.FINISH:
                record.state = State.FINISHED
                record.closed_at = now
            elif action is ActivationAction.CANCEL:
                record.state = State.CANCELLED
                record.closed_at = now
            return record

        _, after = await self.activations.update(activation.ref, change)
        if after.is_open:
            await self.schedule.due_now(member(after.ref))
        else:
            await self.schedule.forget(member(after.ref))
        return after

    async def refresh(self, account: UserAccount, activation: Activation) -> Activation:
        """Read the provider's status now and record it (used after a refused action)."""
        status = await account.client.get_status(activation.id)
        now = self.clock()

        def change(record: Activation) -> Activation:
            updated = apply_status(record, status, now)
            updated.version += 1
            return updated

        _, after = await self.activations.update(activation.ref, change)
        return after

    async def mark_delivered(self, ref: str, count: int) -> Activation:
        def change(record: Activation) -> Activation:
            for code in record.codes[:count]:
                code.delivered = True
            return record

        _, after = await self.activations.update(ref, change)
        return after

    async def set_card(self, ref: str, message_id: int) -> None:
        """The message that shows the card (shared by the services on one number)."""

        def change(record: Activation) -> Activation:
            record.card_message_id = message_id
            return record

        _, after = await self.activations.update(ref, change)
        for other in after.group:
            if other != ref:
                await self.activations.update(other, change)
