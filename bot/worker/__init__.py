"""Polling the provider and pushing what arrives; see runner.py."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from aiogram import Bot

from bot.accounts import UserAccount
from bot.resources import Resources
from bot.services.checkout import OrderKind, Purchase
from bot.storage.orders import Order
from bot.worker.activations import ActivationPoller
from bot.worker.context import WorkerContext
from bot.worker.mails import MailPoller
from bot.worker.notifier import Notifier
from bot.worker.reconcile import Reconciler
from bot.worker.rents import RentPoller
from bot.worker.runner import Worker
from bot.worker.settle import SettlePoller, Settles


def build_context(resources: Resources, bot: Bot) -> WorkerContext:
    settings = resources.settings
    notifier = Notifier(
        bot,
        resources.redis,
        resources.users,
        global_rate=settings.telegram_rate,
        chat_interval=settings.telegram_chat_interval,
    )
    return WorkerContext(
        settings=settings,
        redis=resources.redis,
        users=resources.users,
        i18n=resources.i18n,
        notifier=notifier,
        clock=resources.clock,
    )


def build_activation_poller(resources: Resources, ctx: WorkerContext) -> ActivationPoller:
    return ActivationPoller(ctx, resources.activation_service, resources.accounts)


def build_worker(resources: Resources, bot: Bot, ctx: WorkerContext | None = None) -> Worker:
    ctx = ctx or build_context(resources, bot)
    activations = build_activation_poller(resources, ctx)
    reconciler = Reconciler(ctx, resources.activation_service, resources.accounts)
    mails = MailPoller(ctx, resources.mail_service, resources.accounts)
    rents = RentPoller(ctx, resources.rent_service, resources.accounts)
    rent_kind = Settles(resources.rent_service.resume, rents.present)
    number_kind = Settles(resources.activation_service.resume_any, activations.present)
    settles = SettlePoller(
        ctx,
        resources.orders,
        resources.accounts,
        {
            OrderKind.ACTIVATION.value: number_kind,
            OrderKind.EXTRA.value: number_kind,
            OrderKind.RENT.value: rent_kind,
            OrderKind.RENT_EXTENSION.value: rent_kind,
            OrderKind.MAIL.value: Settles(_resumed(resources.mail_service.resume), mails.present),
        },
    )
    return Worker(
        ctx,
        resources.schedule,
        {
            "act": activations.poll,
            "mail": mails.poll,
            "rent": rents.poll,
            "settle": settles.poll,
        },
        on_start=[reconciler.run],
    )


def _resumed(
    resume: Callable[[UserAccount, Order], Purchase[Any]],
) -> Callable[[UserAccount, Order], Awaitable[Purchase[Any] | None]]:
    async def resumed(account: UserAccount, order: Order) -> Purchase[Any] | None:
        return resume(account, order)

    return resumed


__all__ = ["Worker", "build_activation_poller", "build_context", "build_worker"]
