"""Mailboxes the bot follows (e-mail activations), as JSON records in Redis.

Stored as :class:`bot.storage.records.UserRecords` describes: ``mail:<provider>:<id>``, under
the provider's *current* id for the mailbox, and the index ``user:<uid>:mails``.

"Another letter" (reorderMailActivation) gives the same address a new id: the record moves to
the new ref in one transaction and remembers its earlier ids, so a button that still carries
an old id (a second tap, another device) finds the mailbox instead of buying twice. As with
activations, a button's id is resolved only through the presser's own index.
"""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal
from enum import StrEnum

from pydantic import BaseModel, Field
from redis.exceptions import WatchError

from bot.storage import records

#: Letters are kept up to this many characters; longer ones are cut when recorded.
LETTER_LIMIT = 20_000
_MOVE_ATTEMPTS = 50


class MailState(StrEnum):
    WAITING = "waiting"  # the current id waits for a letter
    LETTER = "letter"  # a letter arrived; "Another letter" may follow
    CANCELLED = "cancelled"  # cancelled before a letter, refunded
    EXPIRED = "expired"  # no letter within the lifetime, refunded
    GONE = "gone"  # the provider no longer knows the mailbox

    @property
    def is_waiting(self) -> bool:
        return self is MailState.WAITING


class Letter(BaseModel):
    mail_id: int  # the provider id that received it: one letter per id
    value: str | None = None  # what the provider extracted (a code or a link)
    full_message: str | None = None
    at: float
    cut: bool = False  # longer than LETTER_LIMIT when it arrived
    delivered: bool = False


class Mailbox(records.UserRecord, records.Expiring):
    site: str
    email: str
    domain: str
    mail_type: int
    cost: Decimal | None = None
    # created_at: the purchase (or the last "Another letter") of the current id
    expires_at: float
    state: MailState = MailState.WAITING
    letters: list[Letter] = Field(default_factory=list)
    previous_ids: list[int] = Field(default_factory=list)  # ids before each reorder
    milestone: int | None = None  # last countdown milestone shown on the card (minutes)
    reorder_unsure: bool = False  # an "Another letter" got no answer: look before asking again

    @property
    def is_waiting(self) -> bool:
        return self.state.is_waiting

    @property
    def is_open(self) -> bool:
        return self.is_waiting

    def ids(self) -> set[int]:
        return {self.id, *self.previous_ids}

    def owns_id(self, mail_id: int) -> bool:
        return mail_id in self.ids()

    def has_letter_for(self, mail_id: int) -> bool:
        return any(letter.mail_id == mail_id for letter in self.letters)


class MailRepo(records.UserRecords[Mailbox]):
    model = Mailbox
    kind = "mail"
    index = "mails"

    async def find(self, user_id: int, mail_id: int, *, limit: int = 200) -> Mailbox | None:
        """The user's own mailbox that has or had this id, or None."""
        suffix = f":{mail_id}"
        refs = await self.refs(user_id, limit=limit)
        # Current ids first (no record to read for the others), then earlier ids.
        ordered = [r for r in refs if r.endswith(suffix)] + [
            r for r in refs if not r.endswith(suffix)
        ]
        for ref in ordered:
            found = await self.get(ref)
            if found is not None and found.user_id == user_id and found.owns_id(mail_id):
                return found
        return None

    async def move(self, ref: str, change: Callable[[Mailbox], Mailbox]) -> Mailbox:
        """Apply ``change`` (which gives the mailbox a new id) and re-key it atomically.

        The old key and index entry go and the new ones appear in one transaction, so a
        reader sees the mailbox under exactly one ref. ``change`` may run more than once.
        """
        old_key = self.key(ref)
        for _ in range(_MOVE_ATTEMPTS):
            async with self._redis.pipeline(transaction=True) as pipe:
                try:
                    await pipe.watch(old_key)
                    raw = await pipe.get(old_key)
                    if raw is None:
                        raise records.RecordMissing(old_key)
                    before = Mailbox.model_validate_json(raw)
                    after = change(before.model_copy(deep=True))
                    pipe.multi()  # type: ignore[no-untyped-call]
                    pipe.set(self.key(after.ref), records.dump(after))
                    pipe.zadd(self.user_index(after.user_id), {after.ref: after.created_at})
                    if after.ref != ref:
                        pipe.zrem(self.user_index(before.user_id), ref)
                        pipe.delete(old_key)
                    await pipe.execute()
                    return after
                except WatchError:
                    continue
        raise RuntimeError(f"too much contention on {old_key}")
