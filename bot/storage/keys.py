"""Every Redis key the bot and the worker write, named in one place (arq's constants.py is the
model): a reader sees the whole layout here, and no module spells a key by hand.

All keys live under ``PREFIX``, so one Redis can be shared with other applications.

* ``user:<id>`` — hash: ``provider``, ``key`` (ciphertext), ``created``, ``key_set_at``,
  ``tg_locale``, ``sandbox_key``; ``user:<id>:<what>`` — the user's locale, recent services,
  paused and blocked flags, and the indexes of their records (``storage/records.py``)
* ``users`` — set of every user id (the operator's statistics, reconciliation)
* ``<kind>:<ref>`` — one activation, rent or mailbox record
* ``order:<uid>:<token>`` — a drafted confirmation; ``lock:buy:<uid>`` — the purchase lock
* ``sched:due`` / ``sched:leases`` — the worker's schedule (sorted sets)
* ``fsm:...`` — aiogram's FSM storage and the per-chat update lock
* ``cache:<provider>:...`` — what providers sell (short TTLs)
* ``snap:<provider>:<uid>:<account>`` — an account's getActiveActivations snapshot, shared
  by workers
* ``deliver:...`` — one claim per code or letter pushed, so it is pushed once
* ``fail:<ref>`` — consecutive failures of one item's polls
* ``budget:<digest>``, ``tg:rate``, ``tg:chat:<id>`` — rate limits
* ``worker:<name>`` — worker heartbeats; ``reconcile:lock`` — one reconciliation at a time
* ``stats:<yyyymmdd>`` — daily totals for /stats
"""

from __future__ import annotations

from datetime import date
from typing import Final

PREFIX: Final = "sab"

USERS: Final = f"{PREFIX}:users"
SCHEDULE_DUE: Final = f"{PREFIX}:sched:due"
SCHEDULE_LEASES: Final = f"{PREFIX}:sched:leases"
#: The schedule's own clock: the last Redis TIME any schedule call saw (jump detection).
SCHEDULE_CLOCK: Final = f"{PREFIX}:sched:clock"
#: Users whose key or pause changed: member user id, score = USER_CHANGES_SEQ at the change
#: (the last few thousand kept). Workers cache each user's key and read this with every claim.
USER_CHANGES: Final = f"{PREFIX}:user:changes"
USER_CHANGES_SEQ: Final = f"{PREFIX}:user:changes:seq"
#: The most users USER_CHANGES holds (each once, at its last change); the oldest go first.
USER_CHANGES_KEPT: Final = 5_000
#: Wall-clock jumps the workers detected: member "<size>", score = when it landed.
CLOCK_JUMPS: Final = f"{PREFIX}:clock:jumps"
FSM_PREFIX: Final = f"{PREFIX}:fsm"
TELEGRAM_RATE: Final = f"{PREFIX}:tg:rate"
RECONCILE_LOCK: Final = f"{PREFIX}:reconcile:lock"
WORKER_HEARTBEATS: Final = f"{PREFIX}:worker:*"


def clock_seen(boot: str) -> str:
    """The last (wall, steady) clock reading a worker took during this boot of the machine."""
    return f"{PREFIX}:clock:seen:{boot}"


def user(user_id: int, *suffix: str) -> str:
    return ":".join((PREFIX, "user", str(user_id), *suffix))


def record(kind: str, ref: str) -> str:
    return f"{PREFIX}:{kind}:{ref}"


def order(user_id: int, token: str) -> str:
    return f"{PREFIX}:order:{user_id}:{token}"


def live_quote(user_id: int, kind: str) -> str:
    """The token of the one confirmation of ``kind`` the user may still tap."""
    return f"{PREFIX}:quote:{user_id}:{kind}"


def purchase_lock(user_id: int) -> str:
    return f"{PREFIX}:lock:buy:{user_id}"


def cache(name: str) -> str:
    return f"{PREFIX}:cache:{name}"


def snapshot(provider: str, user_id: int, account_id: str = "") -> str:
    """One account's getActiveActivations snapshot (``account_id``: see storage/accounts)."""
    tail = f":{account_id}" if account_id else ""
    return f"{PREFIX}:snap:{provider}:{user_id}{tail}"


def code_claim(ref: str, index: int) -> str:
    return f"{PREFIX}:deliver:{ref}:{index}"


def letter_claim(provider: str, mail_id: int) -> str:
    return f"{PREFIX}:deliver:mail:{provider}:{mail_id}"


def failures(ref: str) -> str:
    return f"{PREFIX}:fail:{ref}"


def budget(digest: str) -> str:
    return f"{PREFIX}:budget:{digest}"


def telegram_chat(chat_id: int) -> str:
    return f"{PREFIX}:tg:chat:{chat_id}"


def worker_heartbeat(name: str) -> str:
    return f"{PREFIX}:worker:{name}"


def stats(day: date) -> str:
    return f"{PREFIX}:stats:{day:%Y%m%d}"


#: A value only the right SECRET_KEY decrypts: a changed key is caught at start.
SECRET_CHECK: Final = f"{PREFIX}:secret:check"
#: Written by every health check: a Redis that refuses writes is not healthy.
HEALTH_PROBE: Final = f"{PREFIX}:health:probe"
