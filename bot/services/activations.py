"""Activations as the bot sees them: buying, user actions, and reading the provider's status.

No Telegram here: handlers and the worker both call this and render the result themselves.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from decimal import Decimal

from bot.accounts import UserAccount
from bot.provider import errors as pe
from bot.provider.models import ActivationAction, ActiveActivation
from bot.services.activation_purchases import (
    AdditionalOrder,
    AdditionalPurchase,
    ExtraOrder,
    ExtraPurchase,
    NumberPurchase,
)
from bot.services.activation_rules import adopted, apply_status, member, wants_auto_cancel
from bot.services.checkout import OrderKind, Outcome, Purchase, Shop, Status
from bot.services.ledger import Ledger
from bot.storage.activations import Activation, ActivationRepo, BuyOptions, State
from bot.storage.orders import Order, OrderRepo
from bot.storage.schedule import Schedule
from bot.storage.users import UserRepo

log = logging.getLogger(__name__)


class ActivationService(Shop[BuyOptions]):
    kind = OrderKind.ACTIVATION

    def __init__(
        self,
        activations: ActivationRepo,
        orders: OrderRepo,
        schedule: Schedule,
        users: UserRepo,
        *,
        clock: Callable[[], float] = time.time,
    ) -> None:
        super().__init__(orders, schedule, clock)
        self.activations = activations
        self.users = users
        self.ledger = Ledger(activations, schedule, clock, member)
        self.purchases = {
            OrderKind.ACTIVATION.value: self._number,
            OrderKind.EXTRA.value: self._extra,
            OrderKind.ADDITIONAL.value: self._additional,
        }

    # --- buying ---

    async def buy(self, account: UserAccount, token: str) -> Outcome[Activation]:
        """Carry out the confirmation ``token`` at most once."""

        async def start(order: Order) -> NumberPurchase:
            return await self._number(account, order)

        outcome = await self.checkout.confirm(
            account, token, OrderKind.ACTIVATION, start=start, load=self.activations.get
        )
        bought = outcome.item if outcome.status is Status.BOUGHT else None
        if bought is not None and bought.options is not None:
            for service in bought.options.services or [bought.options.service]:
                await self.users.add_recent_service(account.user_id, service)
        return outcome

    async def _number(self, account: UserAccount, order: Order) -> NumberPurchase:
        options = BuyOptions.model_validate(order.params)
        return NumberPurchase(self.ledger, account, options, order.price)

    def adopt(
        self,
        account: UserAccount,
        item: ActiveActivation,
        *,
        options: BuyOptions | None = None,
    ) -> Activation:
        """A record for an activation found in the provider's active list."""
        return adopted(account, item, self.clock(), options=options)

    async def draft_extra(
        self, account: UserAccount, parent: Activation, price: Decimal | None
    ) -> str:
        """The confirmation to reuse the finished number ``parent`` at ``price``."""
        order = ExtraOrder(ref=parent.ref)
        return await self.checkout.draft(account, OrderKind.EXTRA, order, price)

    async def draft_additional(
        self, account: UserAccount, parent: Activation, service: str
    ) -> str:
        """The confirmation to add ``service`` to the forwarding number ``parent`` (with no
        price: the protocol publishes none)."""
        order = AdditionalOrder(ref=parent.ref, service=service)
        return await self.checkout.draft(account, OrderKind.ADDITIONAL, order)

    async def buy_on_number(
        self, account: UserAccount, token: str, kind: OrderKind
    ) -> Outcome[Activation]:
        """Carry out a confirmation about an earlier number (``EXTRA``: reuse it, at most once
        per parent; ``ADDITIONAL``: add a service to it) as confirmed."""
        make = self.purchases[kind.value]

        async def start(order: Order) -> Purchase[Activation] | None:
            return await make(account, order)

        return await self.checkout.confirm(
            account, token, kind, start=start, load=self.activations.get
        )

    async def _parent(self, account: UserAccount, order: Order) -> Activation | None:
        """The user's own number an order about an earlier number names; None if gone."""
        parent = await self.activations.get(ExtraOrder.model_validate(order.params).ref)
        return parent if parent is not None and parent.user_id == account.user_id else None

    async def _extra(self, account: UserAccount, order: Order) -> ExtraPurchase | None:
        parent = await self._parent(account, order)
        if parent is None:
            return None
        return ExtraPurchase(self.ledger, account, parent, order.price)

    async def _additional(self, account: UserAccount, order: Order) -> AdditionalPurchase | None:
        parent = await self._parent(account, order)
        if parent is None:
            return None
        service = AdditionalOrder.model_validate(order.params).service
        return AdditionalPurchase(self.ledger, account, parent, service)

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

    # --- the user's buttons ---

    async def set_status(
        self,
        account: UserAccount,
        activation: Activation,
        action: ActivationAction,
        *,
        cancelled_as: State = State.CANCELLED,
    ) -> Activation:
        """Ask the provider, then record what it accepted. Provider errors propagate.

        ``cancelled_as``: the state a cancel records (the bot's own cancel of a number that got
        no code in time is an expiry to the user, not a cancel they asked for)."""
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
                record.state = cancelled_as
                record.closed_at = now
            return record

        _, after = await self.activations.update(activation.ref, change)
        if after.is_open:
            await self.schedule.due_now(member(after.ref))
        else:
            await self.schedule.forget(member(after.ref))
        return after

    async def auto_cancel(
        self,
        account: UserAccount,
        activation: Activation,
        now: float,
        cancel_before: float | None,
    ) -> Activation | None:
        """Cancel a number that got no code shortly before it expires, so the refund is now.

        None when the rule does not apply, or the provider refused (the expiry refunds then).
        """
        if not wants_auto_cancel(activation, now, cancel_before):
            return None
        try:
            cancel = ActivationAction.CANCEL
            return await self.set_status(account, activation, cancel, cancelled_as=State.EXPIRED)
        except pe.ProviderError as error:
            log.info("auto-cancel refused (%s); the expiry will refund", type(error).__name__)
            return None

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

    async def mark_delivered(self, ref: str, index: int, *, unsure: bool = False) -> Activation:
        """Code ``index`` was pushed; ``unsure``: the push may not have arrived (Telegram
        failed twice after sending), and the card says so."""

        def change(record: Activation) -> Activation:
            code = record.codes[index]
            code.delivered = True
            code.push_unsure = code.push_unsure or unsure
            return record

        _, after = await self.activations.update(ref, change)
        return after

    async def set_card(self, ref: str, message_id: int) -> None:
        """The message that shows the card (shared by the services on one number)."""

        after = await self.activations.remember_card(ref, message_id)
        for other in after.group:
            if other != ref:
                await self.activations.remember_card(other, message_id)
