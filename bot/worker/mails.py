"""Following one mailbox: ask whether its letter came, record it, push it once.

A letter is recorded (undelivered) before it is pushed and marked delivered after Telegram
took it, so a crash in between repeats the push rather than losing it; a short claim per
letter keeps two deliverers (two workers, or a future webhook and a poll) from pushing it at
the same moment. Recording goes through ``MailService.record_letter``, which deduplicates.
"""

from __future__ import annotations

import logging
import random

from bot.accounts import UserAccount
from bot.events import Delivery
from bot.keyboards.markup import Keyboard
from bot.provider import errors as pe
from bot.services.mail_rules import closed_state, forgotten_state, overdue
from bot.services.mails import MailService
from bot.storage import keys
from bot.storage.mails import Mailbox, MailState
from bot.storage.records import RecordMissing, Stored
from bot.views.mail import card_markup, card_text, letter_push
from bot.worker.context import PAUSED_RETRY, Poller
from bot.worker.pacing import MILESTONES

log = logging.getLogger(__name__)

#: A mailbox the provider keeps answering "no letter yet" is closed this long after expiry.
#: A letter the user could not get (they blocked the bot) is offered again this often...
RETRY_PUSH_EVERY = 300.0
#: ...for this long: a code older than a day is of no use to anyone.
RETRY_PUSH_FOR = 24 * 3600.0


def milestone(mailbox: Mailbox, now: float) -> int | None:
    left = mailbox.seconds_left(now) / 60
    passed = [m for m in MILESTONES if left <= m]
    return min(passed) if passed else None


def next_poll(mailbox: Mailbox, now: float, base: float) -> float:
    """Often while a letter is likely (right after buying), less often later."""
    since = now - mailbox.created_at
    interval = base if since < 180 else base * 2 if since < 600 else base * 3
    interval *= random.uniform(0.85, 1.15)
    if now < mailbox.expires_at:
        return min(now + interval, mailbox.expires_at + 2)
    return now + max(interval, 30.0)


class MailPoller(Poller[MailService]):
    async def poll(self, ref: str, stored: Stored | None = None) -> float | None:
        try:
            mailbox = await self.service.mails.get(ref, stored)
            if mailbox is None:
                return None
            # Judged on the mailbox's own clock (a wall-clock jump since is taken out).
            return self.ctx.wall_time(await self._poll(mailbox), mailbox.created_at)
        except RecordMissing:
            return None  # moved to a new id by "Another letter", or forgotten

    async def _poll(self, mailbox: Mailbox) -> float | None:
        ctx = self.ctx
        ref, since = mailbox.ref, mailbox.created_at
        if not mailbox.is_waiting:
            return await self._push_letters(mailbox)
        await self._push_letters(mailbox)
        now = ctx.now_for(since)
        account = await self.poll_account(mailbox, now)
        if not isinstance(account, UserAccount):
            return account
        try:
            check = await account.client.check_mail_activation(mailbox.id)
        except pe.AuthError:
            await ctx.key_refused(account)
            return now + PAUSED_RETRY
        except pe.NoActivation:
            await self._close(ref, forgotten_state(mailbox, now))
            return None
        except pe.StateAnswer as answer:
            if answer.token != "STATUS_CANCEL":
                raise
            await self._close(ref, closed_state(mailbox, ctx.now_for(since)))
            return None
        except pe.ProviderError as error:
            return ctx.now_for(since) + await ctx.backoff(ref, error)
        await ctx.recovered(ref)
        if check.received:
            await self.service.record_letter(ref, check.value, check.full_message)
            current = await self.service.mails.get(ref)
            return None if current is None else await self._push_letters(current)
        return await self._still_waiting(mailbox)

    async def _push_letters(self, mailbox: Mailbox) -> float | None:
        """Push what is pending and update the card; when to look again for what is left."""
        if await self._deliver(mailbox):
            await self.render_card(mailbox.ref)
        current = await self.service.mails.get(mailbox.ref)
        now = self.ctx.now_for(mailbox.created_at)
        waiting = [
            letter
            for letter in (current.letters if current is not None else [])
            if not letter.delivered and now - letter.at < RETRY_PUSH_FOR
        ]
        return now + RETRY_PUSH_EVERY if waiting else None

    async def _still_waiting(self, mailbox: Mailbox) -> float | None:
        now = self.ctx.now_for(mailbox.created_at)
        if overdue(mailbox, now):
            await self._close(mailbox.ref, MailState.EXPIRED)
            return None
        seen = mailbox.version
        mark = milestone(mailbox, now)

        def change(record: Mailbox) -> Mailbox | None:
            if record.version != seen or record.milestone == mark:
                return None  # the user acted meanwhile, or nothing to show
            record.milestone = mark
            return record

        before, after = await self.service.mails.update(mailbox.ref, change)
        if after.milestone != before.milestone:
            await self.render_card(after.ref)
        return next_poll(after, now, self.ctx.settings.poll_interval)

    async def _close(self, ref: str, state: MailState) -> None:
        await self.service.close(ref, state)
        await self.render_card(ref)

    async def _deliver(self, mailbox: Mailbox) -> bool:
        """Push the letters not pushed yet; True when one went out."""
        pending = [letter for letter in mailbox.letters if not letter.delivered]
        if not pending:
            return False
        ctx = self.ctx
        locale = await ctx.locale(mailbox.user_id)
        pushed = False
        for letter in pending:
            claim = await ctx.outbox.claim(keys.letter_claim(mailbox.provider, letter.mail_id))
            if claim is None:
                return pushed  # another deliverer is pushing it right now
            with ctx.i18n.context(), ctx.i18n.use_locale(locale):
                text, markup = letter_push(mailbox, letter)
            try:
                sent = await ctx.notifier.send(
                    mailbox.user_id, text, reply_markup=markup, reply_to=mailbox.card_message_id
                )
            except BaseException:
                await ctx.outbox.give_back(claim)
                raise
            if not sent.done:
                await ctx.outbox.give_back(claim)
                return pushed  # blocked: the letter waits, undelivered, for the user to return
            await self.service.mark_delivered(mailbox.ref, letter.mail_id)
            index = mailbox.letters.index(letter)
            ctx.events.pushed(Delivery("mail", mailbox.ref, index, None, ctx.clock()))
            pushed = True
        return pushed

    async def render_card(self, ref: str) -> None:
        mailbox = await self.service.mails.get(ref)
        if mailbox is None or not mailbox.cards:
            return
        text, markup = await self._card(mailbox)
        self.ctx.outbox.submit_copies(mailbox, self.service.mails, text, markup)

    async def present(self, mailbox: Mailbox) -> None:
        """A card for a mailbox the user has none for yet (found after a lost answer)."""
        await self.send_card(mailbox, *await self._card(mailbox))

    async def _card(self, mailbox: Mailbox) -> tuple[str, Keyboard | None]:
        ctx = self.ctx
        locale = await ctx.locale(mailbox.user_id)
        preset = self.accounts.hub.preset(mailbox.provider)
        title = preset.title if preset is not None else mailbox.provider
        with ctx.i18n.context(), ctx.i18n.use_locale(locale):
            text = card_text(mailbox, title, ctx.now_for(mailbox.created_at))
            markup = card_markup(mailbox)
        return text, markup
