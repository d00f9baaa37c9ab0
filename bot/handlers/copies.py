"""A card redrawn by a tap: in the tapped message at once, and in every other copy of it.

A record's card may be shown in several messages (the one it was bought in, others reopened
from /active, /rents or /mails). Whatever a tap changes is shown in all of them, so an old copy
never offers what the new one has ended. The tapped message is edited directly, as every
answer to a tap is; the other copies are edited through the worker's notifier, so they share its
per-chat and global pace. A copy Telegram no longer has is forgotten.
"""

from __future__ import annotations

import contextlib
from dataclasses import dataclass
from typing import Any, TypeVar

from aiogram.types import Message

from bot.keyboards.markup import Keyboard
from bot.storage.records import UserRecord, UserRecords
from bot.telegram import edit_text
from bot.worker.notifier import DeliveryFailed, Notifier

R = TypeVar("R", bound=UserRecord)


@dataclass(frozen=True, slots=True)
class Copies:
    notifier: Notifier

    @classmethod
    def of(cls, data: dict[str, Any]) -> Copies:
        """From a handler's data: its bot and the application's Redis, users and settings."""
        return cls(Notifier.paced(data["bot_api"], data["redis"], data["users"], data["settings"]))

    async def draw(
        self,
        tapped: Message | None,
        record: R,
        store: UserRecords[R],
        text: str,
        markup: Keyboard | None,
    ) -> None:
        """Show ``record``'s card in ``tapped`` (None: no message was tapped) and every copy.

        A tapped card the record did not list (drawn before copies were counted, or pushed
        out by newer ones) is listed from now on.
        """
        if tapped is not None:
            await edit_text(tapped, text, markup)
            if tapped.message_id not in record.cards:
                record = await store.remember_card(record.ref, tapped.message_id, newest=False)
        drawn = tapped.message_id if tapped is not None else None
        # The tapped card shows it already; a copy Telegram keeps refusing waits for the next
        # redraw rather than turning the tap into an error.
        with contextlib.suppress(DeliveryFailed):
            await self.notifier.edit_cards(record, store, text, markup, drawn=drawn)
