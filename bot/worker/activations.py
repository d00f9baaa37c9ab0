"""Following one activation: read its status, record what changed, push new codes once.

A code is recorded (undelivered) before it is pushed and marked delivered after Telegram took
it, so a crash in between repeats the push rather than losing it; a short claim per code keeps
two deliverers (a webhook and a poll, or two workers) from pushing it at the same moment.

A user with several open activations is served from one getActiveActivations snapshot shared
by all of them (cached in Redis for a fraction of the poll interval) instead of one getStatus
each.
"""

from __future__ import annotations

import asyncio
import json
import logging
from functools import partial
from typing import Any

from aiogram.types import InlineKeyboardMarkup
from aiogram.utils.i18n import gettext as _

from bot.accounts import Accounts, UserAccount
from bot.events import Delivery
from bot.provider import errors as pe
from bot.provider.models import (
    ActivationState,
    ActivationStatus,
    ActiveActivation,
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
from bot.storage.records import make_ref
from bot.views.activation import code_push, render_card
from bot.worker.clockguard import Burst
from bot.worker.context import PAUSED_RETRY, Poller, WorkerContext
from bot.worker.notifier import Sent
from bot.worker.outbox import Push
from bot.worker.pacing import milestone, next_poll

log = logging.getLogger(__name__)

#: From this many open activations on, one getActiveActivations serves them all.
BATCH_FROM = 3


CACHE_BOUND = 1_000
#: At most this many auto-cancels per BURST_WINDOW seconds (steady clock) in one process.
#: More numbers reaching their last minute together is what a clock jump nobody saw looks
#: like (one while no worker ran): cancels are irreversible, so the rest wait. A number held
#: back is cancelled a poll later, or refunded by the provider's own expiry.
BURST_CANCELS = 20
BURST_WINDOW = 10.0


class _FetchedElsewhere(Exception):
    """Another worker process is fetching this user's snapshot."""


#: When a user's active list was fetched (the bot's clock), and its entries by id.
Snapshot = tuple[float, dict[int, ActiveActivation]]


class ActivationPoller(Poller[ActivationService]):
    def __init__(self, ctx: WorkerContext, service: ActivationService, accounts: Accounts) -> None:
        super().__init__(ctx, service, accounts)
        self._cancel_burst = Burst(ctx.steady, BURST_CANCELS, BURST_WINDOW)
        # Parsed snapshots by Redis key: every sibling poll reuses one parse.
        self._parsed: dict[str, Snapshot] = {}
        self._inflight: dict[str, asyncio.Future[Snapshot]] = {}
        # Useful for seconds only; past this size, stale entries are dropped
        # (and the bound doubles when most entries are still fresh, so dropping stays cheap).
        self._parsed_bound = CACHE_BOUND
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

    async def poll(self, ref: str) -> float | None:
        activation = await self.service.activations.get(ref)
        if activation is None:
            return None
        # Judged on the clock the record was made with (a wall-clock jump since is taken
        # out, see clockguard.py); the next time goes back to the wall clock for the schedule.
        next_at = await self._poll(activation)
        return self.ctx.wall_time(next_at, activation.created_at)

    async def _poll(self, activation: Activation) -> float | None:
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
            status = await self._status(account, activation)
        except _FetchedElsewhere:
            # Its answer will be in Redis in a moment: come back then, at no cost.
            return now + min(1.0, self._fresh_for() / 2)
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
            before, after = await self.service.activations.update(ref, change)
            if after.version != seen_version:
                return now + 0.5
        await self.deliver(after)
        if await self._auto_cancel(account, after, now):
            return None
        if _card_changed(before, after):
            await self.render_card(after)
        return next_poll(after, now, ctx.settings.poll_interval, self._cancel_before)

    # --- reading the provider ---

    async def poll_fresh(self, ref: str, activation_id: int) -> float | None:
        """Poll now with its own getStatus, not the snapshot (a webhook said it moved)."""
        self._fresh_reads.add(activation_id)
        try:
            return await self.poll(ref)
        finally:
            self._fresh_reads.discard(activation_id)

    async def _status(self, account: UserAccount, activation: Activation) -> ActivationStatus:
        """One getStatus, or the user's shared snapshot when they have several open."""
        client = account.client
        if activation.id in self._fresh_reads or not account.supports(Feature.ACTIVE_LIST):
            return await client.get_status(activation.id)
        snapshot = self._fresh_snapshot(account)
        if snapshot is None:
            if not self._lists_many(account) and (
                await self.service.activations.open_count(activation.user_id) < BATCH_FROM
            ):
                return await client.get_status(activation.id)
            snapshot = await self._snapshot(account)
        # A snapshot from before the user's last action may show what that action replaced.
        if snapshot[0] <= activation.changed_at:
            return await client.get_status(activation.id)
        listed = snapshot[1].get(activation.id)
        if listed is None:
            # No longer listed: closed. getStatus tells how (and is rare).
            return await client.get_status(activation.id)
        return status_from_listing(listed)

    async def _caller(self, account: UserAccount, activation: Activation) -> str | None:
        """For a number bought for call verification: who called, once someone has."""
        if not activation.verification or activation.call_from or not activation.is_open:
            return None
        try:
            call = await account.client.get_incoming_call_status(activation.id)
        except pe.ProviderError:
            return None  # the code still comes through getStatus
        return call.phone

    def _snapshot_key(self, account: UserAccount) -> str:
        return keys.snapshot(account.provider, account.user_id, account.account_id)

    def _fresh_for(self) -> float:
        # A user's items come due together (pacing.py): a snapshot serves the polls of one
        # moment, not the next round's, which must see what arrived since.
        return max(0.2, min(1.0, self.ctx.settings.poll_interval * 0.2))

    def _lists_many(self, account: UserAccount) -> bool:
        """A snapshot is being fetched for the user, or their last one listed several items:
        no need to count their open items (a snapshot costs one request, as getStatus does)."""
        key = self._snapshot_key(account)
        known = self._parsed.get(key)
        return key in self._inflight or (known is not None and len(known[1]) >= BATCH_FROM)

    def _fresh_snapshot(self, account: UserAccount) -> Snapshot | None:
        """The user's snapshot if this process parsed it recently: no Redis needed."""
        known = self._parsed.get(self._snapshot_key(account))
        # A snapshot from the clock's future (it was stepped back) is stale, not fresh.
        if known is not None and 0 <= self.ctx.clock() - known[0] < self._fresh_for():
            return known
        return None

    async def _snapshot(self, account: UserAccount) -> Snapshot:
        """The user's active list, fetched at most once per moment their items are due.

        Sibling polls in this process wait for the fetch in flight; when another process is
        fetching it, _FetchedElsewhere tells the poll to come back in a moment.
        """
        key = self._snapshot_key(account)
        inflight = self._inflight.get(key)
        if inflight is not None:
            return await asyncio.shield(inflight)
        future: asyncio.Future[Snapshot] = asyncio.get_running_loop().create_future()
        self._inflight[key] = future
        try:
            result = await self._load_snapshot(account, key)
        except BaseException as error:
            future.set_exception(error)
            raise
        else:
            future.set_result(result)
            return result
        finally:
            del self._inflight[key]
            if future.done() and not future.cancelled():
                future.exception()  # retrieved: a failure is reported by the fetching poll

    async def _load_snapshot(self, account: UserAccount, key: str) -> Snapshot:
        ctx = self.ctx
        redis = ctx.redis
        fresh_for = self._fresh_for()
        data = await self._stored_snapshot(key, fresh_for)
        if data is None:
            if await redis.set(f"{key}:lock", 1, nx=True, px=int(fresh_for * 1000)):
                fetched_at = ctx.clock()
                try:
                    listing = await account.client.get_active_activations()
                finally:
                    await redis.delete(f"{key}:lock")
                data = {
                    "at": fetched_at,
                    "items": [item.model_dump(mode="json", by_alias=True) for item in listing],
                }
                await redis.set(key, json.dumps(data), ex=max(5, int(fresh_for * 10)))
                before = self._parsed.get(key)
                parsed = self._parse(key, data)
                await self._wake_changed(account, before, parsed)
                return parsed
            raise _FetchedElsewhere  # another process is fetching it right now
        return self._parse(key, data)

    async def _wake_changed(
        self, account: UserAccount, before: Snapshot | None, after: Snapshot
    ) -> None:
        """Items whose entry changed since the user's last snapshot are polled now, answered
        by this one: an item polled less often than its siblings (waiting long, or a code
        already in) learns of a new SMS as soon as they do, at no request of its own."""
        if before is None:
            return
        for activation_id, item in after[1].items():
            known = before[1].get(activation_id)
            if known is not None and (known.status, known.codes) != (item.status, item.codes):
                ref = make_ref(account.provider, activation_id)
                await self.service.schedule.due_now(member(ref))

    async def _stored_snapshot(self, key: str, fresh_for: float) -> dict[str, Any] | None:
        raw = await self.ctx.redis.get(key)
        if raw is None:
            return None
        data: dict[str, Any] = json.loads(raw)
        # Freshness is judged by the bot's clock; the Redis expiry only clears leftovers.
        if not 0 <= self.ctx.clock() - float(data["at"]) < fresh_for:
            return None
        return data

    def _parse(self, key: str, data: dict[str, Any]) -> Snapshot:
        at = float(data["at"])
        cached = self._parsed.get(key)
        if cached is not None and cached[0] == at:
            return cached
        items = [ActiveActivation.model_validate(item) for item in data["items"]]
        parsed = (at, {item.activation_id: item for item in items})
        if len(self._parsed) >= self._parsed_bound:
            horizon = self.ctx.clock() - self._fresh_for()
            self._parsed = {k: v for k, v in self._parsed.items() if v[0] > horizon}
            self._parsed_bound = max(CACHE_BOUND, 2 * len(self._parsed))
        self._parsed[key] = parsed
        return parsed

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

    async def deliver(self, activation: Activation) -> None:
        """Hand every code not yet delivered to the outbox, in order, each once: it pushes
        them beside the poll and records each as delivered once Telegram took it."""
        pending = [i for i, code in enumerate(activation.codes) if not code.delivered]
        if not pending:
            return
        ctx = self.ctx
        locale = await ctx.locale(activation.user_id)
        for index in pending:
            claim = await ctx.outbox.claim(keys.code_claim(activation.ref, index))
            if claim is None:
                return  # another deliverer is pushing it right now
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

    async def _card(self, activation: Activation) -> tuple[str, InlineKeyboardMarkup | None]:
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
