"""Following one rent: read getRentStatus, record new SMS, push each once, remind before the end.

An SMS is recorded (undelivered) before it is pushed and marked delivered after Telegram took
it, so a crash in between repeats the push rather than losing it. A webhook records SMS through
the same service, deduplicated with this poller.
"""

from __future__ import annotations

import logging
import random

from bot.accounts import UserAccount
from bot.events import Delivery
from bot.keyboards.markup import Keyboard
from bot.provider import errors as pe
from bot.services.rent_rules import CANCEL_WINDOW, apply_status, overdue
from bot.services.rents import RentService
from bot.storage import records
from bot.storage.records import Stored
from bot.storage.rents import Rent
from bot.views.rent import card_markup, card_signature, card_text, reminder, sms_push
from bot.worker.context import PAUSED_RETRY, Poller

log = logging.getLogger(__name__)

#: A rent the provider never closes is given up this long after its end time.
#: After this long without an SMS the rent is polled half as often.
QUIET_AFTER = 3600.0


def next_poll(rent: Rent, now: float, base: float, reminder_lead: float) -> float | None:
    """Often while the rent runs, and exactly at the moments the card or a reminder changes."""
    if not rent.is_open:
        return None
    last = max([rent.term_started_at, *(sms.at for sms in rent.sms[-1:])])
    interval = base * (2 if now - last < QUIET_AFTER else 4)
    interval *= random.uniform(0.85, 1.15)
    moments = [now + interval]
    window_end = rent.created_at + CANCEL_WINDOW
    if now < window_end:
        moments.append(window_end + 1)
    if rent.ends_at is not None:
        remind_at = rent.ends_at - reminder_lead
        if reminder_lead > 0 and now < remind_at and rent.reminded_for != rent.ends_at:
            moments.append(remind_at)
        if now < rent.ends_at:
            moments.append(rent.ends_at + 2)
        else:
            moments = [now + max(interval, 30.0)]
    return min(moments)


class RentPoller(Poller[RentService]):
    async def poll(self, ref: str, stored: Stored | None = None) -> float | None:
        rent = await self.service.rents.get(ref, stored)
        if rent is None:
            return None
        try:
            # Judged on the rent's own clock (a wall-clock jump since is taken out).
            return self.ctx.wall_time(await self._poll(rent), rent.created_at)
        except records.RecordMissing:
            return None  # re-ordered under a new id meanwhile: the new ref is followed

    async def _poll(self, rent: Rent) -> float | None:
        ctx = self.ctx
        now = ctx.now_for(rent.created_at)
        if not rent.is_open:
            await self._deliver(rent)
            await self.redraw(rent)
            return None
        account = await self.poll_account(rent, now)
        if not isinstance(account, UserAccount):
            return account
        try:
            status = await self.service.read_status(account, rent)
        except pe.AuthError:
            await ctx.key_refused(account)
            return now + PAUSED_RETRY
        except pe.NoRent:
            after = await self.service.close_unknown(rent.ref)
            await self._deliver(after)
            await self.redraw(after)
            return None
        except pe.ProviderError as error:
            return now + await ctx.backoff(rent.ref, error)
        await ctx.recovered(rent.ref)
        now = ctx.now_for(rent.created_at)
        if apply_status(rent.model_copy(deep=True), status, now) == rent:
            after = rent  # nothing new: most polls end here, without a write
        else:
            _, after = await self.service.record_status(rent.ref, status)
        if overdue(after, now):
            after = await self.service.close_unknown(rent.ref)
        await self._deliver(after)
        await self._remind(after, now)
        await self.redraw(after)
        return next_poll(after, now, ctx.settings.poll_interval, ctx.settings.rent_reminder)

    async def _deliver(self, rent: Rent) -> None:
        pending = [sms for sms in rent.sms if not sms.delivered]
        if not pending:
            return
        ctx = self.ctx
        locale = await ctx.locale(rent.user_id)
        for sms in pending:
            with ctx.i18n.context(), ctx.i18n.use_locale(locale):
                text = sms_push(rent, sms)
            sent = await ctx.notifier.send(rent.user_id, text, reply_to=rent.card_message_id)
            if not sent.done:
                return  # blocked: the SMS waits, undelivered, for the user to come back
            await self.service.mark_delivered(rent.ref, [sms.key])
            index = rent.sms.index(sms)
            ctx.events.pushed(Delivery("rent", rent.ref, index, None, ctx.clock()))

    async def _remind(self, rent: Rent, now: float) -> None:
        """Once per end time, some time before it: "extend it to keep the number"."""
        lead = self.ctx.settings.rent_reminder
        ends_at = rent.ends_at
        if lead <= 0 or not rent.is_open or ends_at is None or rent.reminded_for == ends_at:
            return
        remind_at = ends_at - lead
        # A term shorter than the lead was chosen knowingly: nothing to remind of.
        if not remind_at <= now < ends_at or remind_at < rent.term_started_at:
            return
        ctx = self.ctx
        locale = await ctx.locale(rent.user_id)
        with ctx.i18n.context(), ctx.i18n.use_locale(locale):
            text, markup = reminder(rent, now)
        await ctx.notifier.send(
            rent.user_id, text, reply_markup=markup, reply_to=rent.card_message_id
        )
        await self.service.mark_reminded(rent.ref, ends_at)

    async def redraw(self, rent: Rent) -> None:
        """Edit the card when what it shows changed (state, SMS, end, countdown, Cancel)."""
        if not rent.cards:
            return
        ctx = self.ctx
        now = ctx.now_for(rent.created_at)
        signature = card_signature(rent, now)
        if signature == rent.shown:
            return
        text, markup = await self._card(rent, now)
        await ctx.notifier.edit_cards(rent, self.service.rents, text, markup)
        await self.service.mark_shown(rent.ref, signature)

    async def present(self, rent: Rent) -> None:
        """A card for a rent the user has none for yet (found after a lost answer)."""
        now = self.ctx.now_for(rent.created_at)
        if await self.send_card(rent, *await self._card(rent, now)):
            await self.service.mark_shown(rent.ref, card_signature(rent, now))

    async def _card(self, rent: Rent, now: float) -> tuple[str, Keyboard | None]:
        ctx = self.ctx
        locale = await ctx.locale(rent.user_id)
        with ctx.i18n.context(), ctx.i18n.use_locale(locale):
            return card_text(rent, locale, now), card_markup(rent, now)
