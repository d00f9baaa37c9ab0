"""Where bought items are recorded, so the worker follows them from then on.

Shared by every purchase kind: a record added to its owner's index is put on the schedule, and
"which ids does the bot know" (to tell a new purchase from old ones after a lost answer) is
read the same way for numbers, rents and mailboxes.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Generic, TypeVar

from bot.storage.records import UserRecord, UserRecords
from bot.storage.schedule import Schedule

R = TypeVar("R", bound=UserRecord)


@dataclass(frozen=True, slots=True)
class Ledger(Generic[R]):
    records: UserRecords[R]
    schedule: Schedule
    clock: Callable[[], float]
    member: Callable[[str], str]  # the record's name in the schedule
    window: int = 200  # how many of the user's latest records tell "new" from "known"

    async def follow(self, item: R) -> bool:
        """Record and schedule ``item``; False when it was already recorded (and followed)."""
        added = await self.records.add(item)
        if added:
            await self.schedule.add(self.member(item.ref), self.clock())
        return added

    async def renamed(self, old_ref: str, new_ref: str) -> None:
        """The record moved to a new provider id: the schedule follows the new name now."""
        await self.schedule.forget(self.member(old_ref))
        await self.schedule.add(self.member(new_ref), self.clock())

    async def known_ids(self, user_id: int, *, before: float | None = None) -> set[int]:
        """Ids of the user's records (only those recorded before ``before``, if given)."""
        mine = await self.records.of_user(user_id, limit=self.window)
        return {
            known
            for record in mine
            if before is None or record.created_at < before
            for known in record.ids()
        }
