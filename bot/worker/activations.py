"""Following one activation: read its status, record what changed, push new codes once.

A code is recorded (undelivered) before it is pushed and marked delivered after Telegram took
it, so a crash in between repeats the push rather than losing it; a short claim per code keeps
two deliverers (a webhook and a poll, or two workers) from pushing it at the same moment.

A user with several open activations is served from one getActiveActivations snapshot shared
by all of them instead of one getStatus each, and only one of them keeps the user's pace: the
others are polled when the snapshot shows them changed (see snapshots.py).
"""

from __future__ import annotations

import logging
from functools import partial

from bot.accounts import Accounts, UserAccount
from bot.events import Delivery
from bot.i18n import gettext as _
from bot.keyboards.markup import Keyboard
from bot.provider import errors as pe
from bot.provider.models import (
    ActivationState,
    ActivationStatus,
)
from bot.provider.presets import Feature
from bot.services.activation_rules import (
    apply_status,
    close_as_ended,
    member,
    overdue,
    status_from_listing,
    wants_auto_cancel,
)
from bot.services.activations import ActivationService
from bot.storage import keys
from bot.storage.activations import Activation, State
from bot.storage.records import Stored
from bot.views.activation import code_push, render_card
from bot.worker.clockguard import Burst
from bot.worker.context import PAUSED_RETRY, Poller, WorkerContext
from bot.worker.notifier import Sent
from bot.worker.outbox import Push
from bot.worker.pacing import Pace, milestone, next_poll
from bot.worker.snapshots import FetchedElsewhere, Snapshots

log = logging.getLogger(__name__)

#: From this many open activations on, one getActiveActivations serves them all.
BATCH_FROM = 3

#: At most this many auto-cancels per BURST_WINDOW seconds (steady clock) in one process.
#: More numbers reaching their last minute together is what a clock jump nobody saw looks
#: like (one while no worker ran): cancels are irreversible, so the rest wait. A number held
#: back is cancelled a poll later, or refunded by the provider's own expiry.
BURST_CANCELS = 20
BURST_WINDOW = 10.0


class ActivationPoller(Poller[ActivationService]):
    def __init__(self, ctx: WorkerContext, service: ActivationService, accounts: Accounts) -> None:
        super().__init__(ctx, service, accounts)
        self._cancel_burst = Burst(ctx.steady, BURST_CANCELS, BURST_WINDOW)
        self.snapshots = Snapshots(ctx, service.schedule)
        self._fresh_reads: set[int] = set()  # being polled for a webhook: no snapshot

    @property
    def _cancel_before(self) -> float | None:
        settings = self.ctx.settings
        return settings.auto_cancel_before if settings.auto_cancel else None

    async def _key_refused(self, account: UserAccount, activation: Activation) -> None:
        user_id = activation.user_id
        self.ctx.views.forget(user_id)
        now = await self.accounts.of_item(user_id, activation.account_id, activation.provider)
        if now is not None and now.client.key_fingerprint != account.client.key_fingerprint:
            return  # the user has just replaced the key: the new one gets its chance
        await self.ctx.key_refused(account)

    async def poll(self, ref: str, stored: Stored | None = None) -> float | None:
        activation = await self.service.activations.get(ref, stored)
        if activation is None:
            return None
        # Judged on the clock the record was made with (a wall-clock jump since is taken
        # out, see clockguard.py); the next time goes back to the wall clock for the schedule.
        next_at = await self._poll(activation, stored)
        return self.ctx.wall_time(next_at, activation.created_at)

    async def _poll(self, activation: Activation, stored: Stored | None = None) -> float | None:
        ctx = self.ctx
        ref, since = activation.ref, activation.created_at
        now = ctx.now_for(since)
        if not activation.is_open:
            await self.deliver(activation)
            return None
        view = await ctx.views.get(activation.user_id)
        account = view.account_of(self.accounts, activation)
        if account is None:
            return None  # the key is gone: nothing left to ask the provider with
        if view.pauses.covers(account.account_id):
            return now + PAUSED_RETRY
        seen_version = activation.version
        try:
            status, pace = await self._status(account, activation)
        except FetchedElsewhere:
            # Its answer will be in Redis in a moment: come back then, at no cost.
            return now + min(1.0, self.snapshots.fresh_for() / 2)
        except pe.AuthError:
            await self._key_refused(account, activation)
            return now + PAUSED_RETRY
        except pe.NoActivation:
            return await self._close_unknown(activation)
        except pe.ProviderError as error:
            return now + await ctx.backoff(activation.ref, error)
        await ctx.recovered(activation.ref)
        caller = await self._caller(account, activation)
        now = ctx.now_for(since)
        waiting = status.state in {ActivationState.WAIT_CODE, ActivationState.WAIT_RETRY}

        def change(record: Activation) -> Activation | None:
            if record.version != seen_version:
                return None  # the user acted meanwhile: this answer may be stale
            updated = apply_status(record, status, now)
            if caller and not updated.call_from:
                updated.call_from = caller
            if overdue(updated, now, provider_waiting=waiting):
                close_as_ended(updated, now)
            if updated.is_open:
                updated.milestone = milestone(updated, now)
            return updated

        if _nothing_new(activation, status, caller, now) or (
            change(activation.model_copy(deep=True)) == activation
        ):
            before = after = activation  # nothing new: most polls end here, without a write
        else:
            before, after = await self.service.activations.update(ref, change, stored)
            if after.version != seen_version:
                return now + 0.5
        owed = not await self.deliver(after)
        if await self._auto_cancel(account, after, now):
            return None
        if _card_changed(before, after):
            await self.render_card(after)
        return next_poll(
            after, now, ctx.settings.poll_interval, self._cancel_before, pace=pace, owed=owed
        )

    # --- reading the provider ---

    async def poll_fresh(self, ref: str, activation_id: int) -> float | None:
        """Poll now with its own getStatus, not the snapshot (a webhook said it moved)."""
        self._fresh_reads.add(activation_id)
        try:
            return await self.poll(ref)
        finally:
            self._fresh_reads.discard(activation_id)

    async def _status(
        self, account: UserAccount, activation: Activation
    ) -> tuple[ActivationStatus, Pace]:
        """One getStatus, or the user's shared snapshot when they have several open; and
        the pace that sets (see pacing.py, snapshots.py)."""
        client = account.client
        if activation.id in self._fresh_reads or not account.supports(Feature.ACTIVE_LIST):
            return await client.get_status(activation.id), Pace.OWN
        snapshots = self.snapshots
        snapshot = snapshots.fresh(account)
        if snapshot is None:
            if not snapshots.lists_many(account, BATCH_FROM) and (
                await self.service.activations.open_count(activation.user_id) < BATCH_FROM
            ):
                return await client.get_status(activation.id), Pace.OWN
            snapshot = await snapshots.get(account, activation.id)
        # A snapshot from before the user's last action may show what that action replaced.
        if snapshot.at <= activation.changed_at:
            return await client.get_status(activation.id), Pace.OWN
        listed = snapshot.items.get(activation.id)
        if listed is None:
            # No longer listed: closed. getStatus tells how (and is rare).
            return await client.get_status(activation.id), Pace.OWN
        follows = snapshot.leader not in {None, activation.id}
        return status_from_listing(listed), Pace.FOLLOW if follows else Pace.LEAD

    async def _caller(self, account: UserAccount, activation: Activation) -> str | None:
        """For a number bought for call verification: who called, once someone has."""
        if not activation.verification or activation.call_from or not activation.is_open:
            return None
        try:
            call = await account.client.get_incoming_call_status(activation.id)
        except pe.ProviderError:
            return None  # the code still comes through getStatus
        return call.phone

    async def _close_unknown(self, activation: Activation) -> float | None:
        """The provider no longer knows the activation: close it as it most likely ended."""
        now = self.ctx.now_for(activation.created_at)

        _, after = await self.service.activations.update(
            activation.ref, lambda record: close_as_ended(record, now)
        )
        await self.deliver(after)
        await self.render_card(after)
        return None

    # --- acting for the user ---

    async def _auto_cancel(self, account: UserAccount, activation: Activation, now: float) -> bool:
        """Cancel a number that got no code shortly before it expires, so the refund is now."""
        if not wants_auto_cancel(activation, now, self._cancel_before):
            return False
        if not self._cancel_burst.allow():
            return False  # held back a few seconds (or refunded by the provider's expiry)
        cancelled = await self.service.auto_cancel(account, activation, now, self._cancel_before)
        if cancelled is None:
            return False
        await self.render_card(cancelled)
        locale = await self.ctx.locale(activation.user_id)
        with self.ctx.i18n.context(), self.ctx.i18n.use_locale(locale):
            text = _(
                "No code came for +{phone}, so I cancelled it just before it expired: the "
                "money is refunded."
            ).format(phone=cancelled.phone)
        await self.ctx.notifier.send(cancelled.user_id, text, reply_to=cancelled.card_message_id)
        self.ctx.events.auto_cancelled(cancelled)
        return True

    # --- telling the user ---

    async def deliver(self, activation: Activation) -> bool:
        """Hand every code not yet delivered to the outbox, in order, each once: it pushes
        them beside the poll and records each as delivered once Telegram took it. False when
        one was left (another deliverer holds it)."""
        pending = [i for i, code in enumerate(activation.codes) if not code.delivered]
        if not pending:
            return True
        ctx = self.ctx
        locale = await ctx.locale(activation.user_id)
        for index in pending:
            claim = await ctx.outbox.claim(keys.code_claim(activation.ref, index))
            if claim is None:
                return False  # another deliverer is pushing it right now
            with ctx.i18n.context(), ctx.i18n.use_locale(locale):
                text = code_push(activation, activation.codes[index].code, locale)
            push = Push(
                text,
                claim,
                sent=partial(self._pushed, activation, index),
                failed=partial(self._push_failed, activation.ref),
                reply_to=activation.card_message_id,
            )
            ctx.outbox.push(activation.user_id, push)
        return True

    async def _pushed(self, activation: Activation, index: int, sent: Sent) -> None:
        ctx = self.ctx
        after = await self.service.mark_delivered(activation.ref, index, unsure=sent.uncertain)
        if sent.uncertain:
            await self.render_card(after)  # the card says the push may be missing
        learned = activation.codes[index].at
        ctx.events.pushed(Delivery("activation", activation.ref, index, learned, ctx.clock()))

    async def _push_failed(self, ref: str) -> None:
        """Telegram kept refusing the push: the code waits, and the item is polled again
        (it may be closed by now, and no longer due at all)."""
        delay = await self.ctx.backoff(ref)
        await self.service.schedule.add(member(ref), self.ctx.clock() + delay)

    async def render_card(self, activation: Activation) -> None:
        """Redraw every copy of the activation's card."""
        if not activation.cards:
            return
        text, markup = await self._card(activation)
        # Sent beside the poll: the code went first, the card follows within the chat's rate.
        self.ctx.outbox.submit_copies(activation, self.service.activations, text, markup)

    async def present(self, activation: Activation) -> None:
        """A card for an activation the user has none for yet (found after a lost answer)."""
        await self.send_card(activation, *await self._card(activation))

    async def _card(self, activation: Activation) -> tuple[str, Keyboard | None]:
        ctx = self.ctx
        locale = await ctx.locale(activation.user_id)
        preset = self.accounts.hub.preset(activation.provider)
        now = ctx.now_for(activation.created_at)
        group = await self.service.activations.with_group(activation)
        with ctx.i18n.context(), ctx.i18n.use_locale(locale):
            text, markup = render_card(
                group,
                locale,
                ready_status=bool(preset and preset.supports(Feature.READY_STATUS)),
                extra=bool(preset and preset.supports(Feature.EXTRA_ACTIVATION)),
                now=now,
            )
        return text, markup


def _nothing_new(
    activation: Activation, status: ActivationStatus, caller: str | None, now: float
) -> bool:
    """The usual poll answer, "still as it was", recognised without copying the record."""
    if caller or now > activation.expires_at or milestone(activation, now) != activation.milestone:
        return False
    state = status.state
    if state is ActivationState.WAIT_CODE:
        return activation.state in {State.WAITING, State.RETRY}
    if state is ActivationState.WAIT_RETRY:
        return activation.state is State.RETRY
    if state is ActivationState.CODE_RECEIVED:
        return activation.state is State.CODE and status.code == activation.last_code
    return False


def _card_changed(before: Activation, after: Activation) -> bool:
    return (
        before.state != after.state
        or before.call_from != after.call_from
        or len(before.codes) != len(after.codes)
        or before.milestone != after.milestone
    )
