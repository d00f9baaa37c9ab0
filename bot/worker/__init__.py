"""Polling the provider and pushing what arrives; see runner.py."""

from __future__ import annotations

from bot.resources import Resources
from bot.services.checkout import OrderKind
from bot.worker.activations import ActivationPoller
from bot.worker.context import WorkerContext
from bot.worker.mails import MailPoller
from bot.worker.notifier import Notifier
from bot.worker.reconcile import Reconciler
from bot.worker.rents import RentPoller
from bot.worker.runner import Worker
from bot.worker.settle import SettlePoller, Settles
from bot.worker.views import UserViews, ViewedRecipients


def build_context(resources: Resources) -> WorkerContext:
    settings = resources.settings
    views = UserViews(resources.users, resources.steady)
    recipients = ViewedRecipients(views)
    # A quarter of a second's budget at a time (see Notifier): one Redis call per slice.
    rate_slice = max(1, settings.telegram_rate // 4)
    notifier = Notifier.paced(
        resources.bot_api, resources.redis, recipients, settings, rate_slice=rate_slice
    )
    return WorkerContext(
        settings=settings,
        redis=resources.redis,
        users=resources.users,
        i18n=resources.i18n,
        notifier=notifier,
        views=views,
        clock=resources.clock,
        steady=resources.steady,
    )


def build_activation_poller(resources: Resources, ctx: WorkerContext) -> ActivationPoller:
    return ActivationPoller(ctx, resources.activation_service, resources.worker_accounts)


def build_worker(resources: Resources, ctx: WorkerContext | None = None) -> Worker:
    ctx = ctx or build_context(resources)
    activations = build_activation_poller(resources, ctx)
    accounts = resources.worker_accounts
    reconciler = Reconciler(ctx, resources.activation_service, accounts)
    mails = MailPoller(ctx, resources.mail_service, accounts)
    rents = RentPoller(ctx, resources.rent_service, accounts)
    rent_kind = Settles(resources.rent_service.purchase_for, rents.present)
    number_kind = Settles(resources.activation_service.purchase_for, activations.present)
    settles = SettlePoller(
        ctx,
        resources.orders,
        accounts,
        {
            OrderKind.ACTIVATION.value: number_kind,
            OrderKind.EXTRA.value: number_kind,
            OrderKind.ADDITIONAL.value: number_kind,
            OrderKind.RENT.value: rent_kind,
            OrderKind.RENT_EXTENSION.value: rent_kind,
            OrderKind.MAIL.value: Settles(resources.mail_service.purchase_for, mails.present),
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
        # Read with each claim, so a poll starts without a round trip for its record.
        records={
            repo.kind: repo.key("")
            for repo in (
                resources.activation_service.activations,
                resources.mail_service.mails,
                resources.rent_service.rents,
            )
        },
    )


__all__ = ["Worker", "build_activation_poller", "build_context", "build_worker"]
