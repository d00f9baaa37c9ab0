"""What the worker sends to a chat, sent beside the polls rather than inside them.

A poll that learns of a code hands the push over here and goes on: each chat with messages
waiting gets a task of its own that sends them within the chat's rate (one message a second,
in bursts of two: see notifier.py), so a poll never keeps one of the worker's concurrency
slots asleep on a chat's turn, and a chat's wait never holds up another chat. Measured at
10,000 open activations, polls waiting in the push for their chat's slot held every slot, and
most codes were lost to the wait.

In a chat, pushes go first (FIFO), then card edits; edits of one card are merged, only the
newest text is sent. A card edit waits until it leaves the chat a message for a push, so a
code that arrives right after it is not held up by it. Every copy of a card the record
knows of is edited (a card reopened from /active is a copy); a copy Telegram no longer has
is forgotten in the record.

A push carries the claim its deliverer took (see claims.py): while it is held nobody else
pushes the code, and the record says "delivered" only once Telegram took it, so a crash in
between repeats the push rather than losing it. A push that waited about as long as its
claim lasts checks it is still held before it is sent. A push that could not be sent gives
its claim back and says so (``failed``: its item is polled again later); one to a user who
blocked the bot waits, undelivered, for them to come back.

A card edit is cosmetic (the record, and the code push, are what count): one lost in a crash
leaves the card a step behind until its next change.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections import deque
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from functools import partial

from bot.keyboards.markup import Keyboard
from bot.storage.claims import Claims
from bot.storage.records import UserRecord
from bot.worker.notifier import CardStore, DeliveryFailed, Notifier, Sent

log = logging.getLogger(__name__)

#: How long a delivery claim lasts (seconds), from when it is taken or last checked.
CLAIM_SECONDS = 30

#: The text, the buttons, and what to do when the message is gone.
Edit = tuple[str, Keyboard | None, Callable[[], Awaitable[None]] | None]


@dataclass(frozen=True, slots=True)
class HeldClaim:
    key: str
    token: str
    taken_at: float  # steady clock


@dataclass(frozen=True, slots=True)
class Push:
    text: str
    claim: HeldClaim
    #: Telegram took it (or as good as: see Sent.done): record it as delivered.
    sent: Callable[[Sent], Awaitable[None]]
    #: It could not be sent (its claim is given back): have the item polled again later.
    failed: Callable[[], Awaitable[None]]
    reply_to: int | None = None
    markup: Keyboard | None = None


class Outbox:
    def __init__(
        self, notifier: Notifier, claims: Claims, steady: Callable[[], float] = time.monotonic
    ) -> None:
        self._notifier = notifier
        self._claims = claims
        self._steady = steady
        self._pushes: dict[int, deque[Push]] = {}
        self._edits: dict[int, dict[int, Edit]] = {}  # chat -> card message -> newest edit
        self._senders: dict[int, asyncio.Task[None]] = {}
        self._woken: dict[int, asyncio.Event] = {}  # chats whose card edit waits for its turn

    async def claim(self, key: str) -> HeldClaim | None:
        """Claim the right to push one code or letter; None while another deliverer has it."""
        token = await self._claims.take(key, CLAIM_SECONDS)
        return None if token is None else HeldClaim(key, token, self._steady())

    async def give_back(self, claim: HeldClaim) -> None:
        """Let the next deliverer push it (only while this claim is still the one held)."""
        await self._claims.give_back(claim.key, claim.token)

    def push(self, chat_id: int, push: Push) -> None:
        self._pushes.setdefault(chat_id, deque()).append(push)
        if woken := self._woken.get(chat_id):
            woken.set()
        self._start(chat_id)

    def submit_copies(
        self,
        record: UserRecord,
        store: CardStore,
        text: str,
        markup: Keyboard | None,
    ) -> None:
        """Edit every copy of the record's card; the ones Telegram lost are forgotten."""
        for message_id in record.cards:
            gone = partial(store.forget_cards, record.ref, [message_id])
            self.submit(record.user_id, message_id, text, markup, gone=gone)

    def submit(
        self,
        chat_id: int,
        message_id: int,
        text: str,
        markup: Keyboard | None,
        *,
        gone: Callable[[], Awaitable[None]] | None = None,
    ) -> None:
        waiting = self._edits.setdefault(chat_id, {})
        waiting.pop(message_id, None)  # the newest goes last, after older cards' edits
        waiting[message_id] = (text, markup, gone)
        self._start(chat_id)

    def _start(self, chat_id: int) -> None:
        if chat_id not in self._senders:
            self._senders[chat_id] = asyncio.create_task(self._send(chat_id))

    async def _send(self, chat_id: int) -> None:
        try:
            while True:
                if pushes := self._pushes.get(chat_id):
                    await self._push(chat_id, pushes.popleft())
                elif edits := self._edits.get(chat_id):
                    if (wait := self._notifier.edit_ready_in(chat_id)) > 0:
                        await self._nap(chat_id, wait)  # a push coming meanwhile goes first
                        continue
                    message_id = next(iter(edits))
                    await self._edit(chat_id, message_id, *edits.pop(message_id))
                else:
                    break
        finally:
            # Nothing is awaited between the last look and here: nothing added is left behind.
            self._pushes.pop(chat_id, None)
            self._edits.pop(chat_id, None)
            self._senders.pop(chat_id, None)
            self._woken.pop(chat_id, None)

    async def _nap(self, chat_id: int, seconds: float) -> None:
        """Sleep until a card edit may go, or until a push for the chat comes."""
        woken = self._woken[chat_id] = asyncio.Event()
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(woken.wait(), seconds)
        self._woken.pop(chat_id, None)

    async def _push(self, chat_id: int, push: Push) -> None:
        claim = push.claim
        try:
            if self._steady() - claim.taken_at > CLAIM_SECONDS / 2 and not (
                await self._claims.keep(claim.key, claim.token, CLAIM_SECONDS)
            ):
                log.info("a push for %s waited past its claim; left to its new deliverer", chat_id)
                return
            try:
                sent = await self._notifier.send(
                    chat_id, push.text, reply_markup=push.markup, reply_to=push.reply_to
                )
            except Exception as error:
                if isinstance(error, DeliveryFailed):
                    log.warning(
                        "a push to %s failed (%s); its item is polled again", chat_id, error
                    )
                else:
                    log.exception("a push to %s failed; polled again later", chat_id)
                await self.give_back(claim)
                await push.failed()
                return
            if not sent.done:
                await self.give_back(claim)  # blocked: it waits for the user
                return
            await push.sent(sent)
        except Exception:
            # Redis failed around the push: the claim runs out, and the next poll tries again.
            log.exception("a push to %s could not be settled", chat_id)

    async def _edit(
        self,
        chat_id: int,
        message_id: int,
        text: str,
        markup: Keyboard | None,
        gone: Callable[[], Awaitable[None]] | None,
    ) -> None:
        try:
            if not await self._notifier.edit(chat_id, message_id, text, markup) and gone:
                await gone()
        except DeliveryFailed:
            log.warning("a card edit for %s was dropped: Telegram kept refusing", chat_id)
        except Exception:
            log.exception("a card edit for %s failed", chat_id)

    async def drain(self, timeout: float | None = None) -> None:
        """Wait until everything waiting now has been sent (tests, benchmarks, shutdown)."""
        while self._senders:
            done, _ = await asyncio.wait(list(self._senders.values()), timeout=timeout)
            if not done:
                return
