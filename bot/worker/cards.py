"""Card edits, sent beside the polls rather than inside them.

A poll that learns something pushes the code first and leaves the card's new text here. Each
chat with edits waiting gets a task of its own that sends them within the chat's rate (one
message a second), so a poll never keeps one of the worker's concurrency slots asleep on a
chat's slot, and a chat's wait never holds up another chat. Edits of one card are merged:
only the newest text is sent.

Every copy of a card the record knows of is edited (a card reopened from /active is a copy);
a copy Telegram no longer has is forgotten in the record.

A card edit is cosmetic (the record, and the code push, are what count): one lost in a crash
leaves the card a step behind until its next change.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from functools import partial

from aiogram.types import InlineKeyboardMarkup

from bot.storage.records import UserRecord
from bot.worker.notifier import CardStore, DeliveryFailed, Notifier

log = logging.getLogger(__name__)

#: The text, the buttons, and what to do when the message is gone.
Edit = tuple[str, InlineKeyboardMarkup | None, Callable[[], Awaitable[None]] | None]


class CardEdits:
    def __init__(self, notifier: Notifier) -> None:
        self._notifier = notifier
        self._pending: dict[int, dict[int, Edit]] = {}  # chat -> card message -> newest edit
        self._senders: dict[int, asyncio.Task[None]] = {}

    def submit_copies(
        self,
        record: UserRecord,
        store: CardStore,
        text: str,
        markup: InlineKeyboardMarkup | None,
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
        markup: InlineKeyboardMarkup | None,
        *,
        gone: Callable[[], Awaitable[None]] | None = None,
    ) -> None:
        waiting = self._pending.setdefault(chat_id, {})
        waiting.pop(message_id, None)  # the newest goes last, after older cards' edits
        waiting[message_id] = (text, markup, gone)
        if chat_id not in self._senders:
            self._senders[chat_id] = asyncio.create_task(self._send(chat_id))

    async def _send(self, chat_id: int) -> None:
        try:
            while waiting := self._pending.get(chat_id):
                message_id = next(iter(waiting))
                text, markup, gone = waiting.pop(message_id)
                try:
                    if not await self._notifier.edit(chat_id, message_id, text, markup) and gone:
                        await gone()
                except DeliveryFailed:
                    log.warning("a card edit for %s was dropped: Telegram kept refusing", chat_id)
                except Exception:
                    log.exception("a card edit for %s failed", chat_id)
        finally:
            self._pending.pop(chat_id, None)
            self._senders.pop(chat_id, None)

    async def drain(self, timeout: float | None = None) -> None:
        """Wait until every edit waiting now has been sent (tests, benchmarks, shutdown)."""
        while self._senders:
            done, _ = await asyncio.wait(list(self._senders.values()), timeout=timeout)
            if not done:
                return
