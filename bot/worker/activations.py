"""Following one activation: read its status, record what changed, push new codes once.

A code is recorded (undelivered) before it is pushed and marked delivered after Telegram took
it, so a crash in between repeats the push rather than losing it.
"""

from __future__ import annotations

import logging
import random

from bot.accounts import Accounts
from bot.errors import NoKeyConnected, ProviderUnavailable
from bot.provider import errors as pe
from bot.provider.presets import Feature
from bot.services.activations import ActivationService, apply_status
from bot.storage.activations import Activation, State
from bot.views.activation import card_keyboard, card_text, code_push
from bot.worker.context import WorkerContext

log = logging.getLogger(__name__)

#: Card countdown refreshes (minutes left): the card is edited when one is crossed.
MILESTONES = (15, 10, 5, 2)
#: An activation the provider never closes is given up this long after its expiry.
GIVE_UP_AFTER = 3600.0


def milestone(activation: Activation, now: float) -> int | None:
    left = activation.seconds_left(now) / 60
    passed = [m for m in MILESTONES if left <= m]
    return min(passed) if passed else None


def next_poll(activation: Activation, now: float, base: float) -> float | None:
    """Poll often while a code is likely, less often later; None once it is closed."""
    if not activation.is_open:
        return None
    if activation.state in {State.WAITING, State.RETRY}:
        since = now - (activation.waiting_since or activation.created_at)
        interval = base if since < 180 else base * 2 if since < 600 else base * 3
    else:
        interval = max(base * 4, 20.0)
    interval *= random.uniform(0.85, 1.15)
    if now < activation.expires_at:
        return min(now + interval, activation.expires_at + 2)
    return now + max(interval, 30.0)


class ActivationPoller:
    def __init__(self, ctx: WorkerContext, service: ActivationService, accounts: Accounts) -> None:
        self.ctx = ctx
        self.service = service
        self.accounts = accounts

    async def poll(self, ref: str) -> float | None:
        ctx = self.ctx
        activation = await self.service.activations.get(ref)
        if activation is None:
            return None
        now = ctx.clock()
        if not activation.is_open:
            await self._deliver(activation)
            return None
        if await ctx.users.is_paused(activation.user_id):
            return now + 600
        try:
            account = await self.accounts.get(activation.user_id)
        except (NoKeyConnected, ProviderUnavailable):
            return None  # the key is gone: nothing left to ask the provider with
        if account.provider != activation.provider:
            return None
        seen_version = activation.version
        try:
            status = await account.client.get_status(activation.id)
        except pe.AuthError:
            await ctx.key_refused(activation.user_id, account.preset.title)
            return now + 600
        except pe.NoActivation:
            return await self._close_unknown(activation)
        except pe.ProviderError as error:
            ctx.transient(error)
            return now + await ctx.backoff(activation.ref)
        await ctx.recovered(activation.ref)
        now = ctx.clock()

        def change(record: Activation) -> Activation | None:
            if record.version != seen_version:
                return None  # the user acted meanwhile: this answer may be stale
            updated = apply_status(record, status, now)
            if updated.is_open and now > updated.expires_at + GIVE_UP_AFTER:
                updated.state = State.FINISHED if updated.codes else State.EXPIRED
                updated.closed_at = now
            if updated.is_open:
                updated.milestone = milestone(updated, now)
            return updated

        before, after = await self.service.activations.update(ref, change)
        if after.version != seen_version:
            return now + 0.5
        await self._deliver(after)
        if _card_changed(before, after):
            await self.render_card(after)
        return next_poll(after, now, ctx.settings.poll_interval)

    async def _close_unknown(self, activation: Activation) -> float | None:
        """The provider no longer knows the activation: close it as it most likely ended."""
        now = self.ctx.clock()

        def change(record: Activation) -> Activation:
            if record.is_open:
                record.state = State.FINISHED if record.codes else State.EXPIRED
                record.closed_at = now
            return record

        _, after = await self.service.activations.update(activation.ref, change)
        await self._deliver(after)
        await self.render_card(after)
        return None

    async def _deliver(self, activation: Activation) -> None:
        pending = [i for i, code in enumerate(activation.codes) if not code.delivered]
        if not pending:
            return
        ctx = self.ctx
        locale = await ctx.locale(activation.user_id)
        for index in pending:
            code = activation.codes[index].code
            with ctx.i18n.context(), ctx.i18n.use_locale(locale):
                text = code_push(activation, code, locale)
            sent = await ctx.notifier.send(
                activation.user_id, text, reply_to=activation.card_message_id
            )
            if sent.message_id is None:
                return  # blocked: the code waits, undelivered, for the user to come back
            await self.service.mark_delivered(activation.ref, index + 1)
            ctx.emit("delivered", activation, index)

    async def render_card(self, activation: Activation) -> None:
        if activation.card_message_id is None:
            return
        ctx = self.ctx
        locale = await ctx.locale(activation.user_id)
        preset = self.accounts.hub.preset(activation.provider)
        now = ctx.clock()
        with ctx.i18n.context(), ctx.i18n.use_locale(locale):
            text = card_text(activation, locale, now)
            markup = card_keyboard(
                activation,
                ready_status=bool(preset and preset.supports(Feature.READY_STATUS)),
                extra=bool(preset and preset.supports(Feature.EXTRA_ACTIVATION)),
            )
        await ctx.notifier.edit(activation.user_id, activation.card_message_id, text, markup)


def _card_changed(before: Activation, after: Activation) -> bool:
    return (
        before.state != after.state
        or len(before.codes) != len(after.codes)
        or before.milestone != after.milestone
    )
