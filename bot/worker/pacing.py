"""When an activation is polled next, and which countdown milestone its card shows.

Every poll of one user's activations falls on that user's own grid: the moments ``phase + k *
base``, where the phase spreads users evenly over the interval. A user's items then come due
together and are answered by one fresh getActiveActivations (fetched when they are due, not
one left from an earlier poll), and the provider sees an even stream of requests rather than
bursts (no random jitter is needed to break them up). A new item joins the grid within a few
polls, each at most 15% off its interval.
"""

from __future__ import annotations

import math
from enum import Enum

from bot.storage.activations import Activation, State

#: Card countdown refreshes (minutes left): the card is edited when one is crossed. The card
#: also shows the end as a clock time, which stays true between them; a tap redraws it too.
MILESTONES = (15, 10, 5, 4, 3, 2, 1)


def milestone(activation: Activation, now: float) -> int | None:
    left = activation.seconds_left(now) / 60
    passed = [m for m in MILESTONES if left <= m]
    return min(passed) if passed else None


def _next_milestone(activation: Activation, now: float) -> float:
    """When the card's countdown next crosses a milestone (a poll then redraws it at once)."""
    ahead = [activation.expires_at - m * 60 for m in MILESTONES]
    return min([at + 0.5 for at in ahead if at >= now] or [math.inf])


#: How far one poll may move from its interval to reach the user's grid.
STEP = 0.15
#: The golden ratio's fraction: consecutive user ids land far apart on the interval.
_SPREAD = (math.sqrt(5) - 1) / 2


def on_grid(user_id: int, at: float, base: float) -> float:
    """The moment on the user's grid nearest ``at``."""
    if base <= 0:
        return at
    phase = (user_id * _SPREAD) % 1.0 * base
    return phase + round((at - phase) / base) * base


class Pace(Enum):
    """How an item's status was read, which sets when it is polled next."""

    OWN = "own"  # its own getStatus: polled at its interval, nothing to share a moment with
    LEAD = "lead"  # keeps its user's snapshot fresh: on the user's grid
    FOLLOW = "follow"  # woken by the leader's snapshots: seldom polled on its own


#: An item whose user's snapshot another item keeps up (snapshots.py) is polled this many
#: times less often (and at least this many seconds apart): the leader's polls wake it when
#: its entry changes, so its own polls are for a wake that went missing, besides its card's
#: milestones and its deadlines, which come on time anyway.
FOLLOW = 24
FOLLOW_AT_LEAST = 120.0
#: How seldom an item whose code is in is asked with a getStatus of its own (see next_poll).
CODE_IN_ALONE = 300.0


def next_poll(
    activation: Activation,
    now: float,
    base: float,
    cancel_before: float | None = None,
    *,
    pace: Pace = Pace.LEAD,
    owed: bool | None = None,
) -> float | None:
    """Poll often while a code is likely, less often later; None once it is closed.

    ``owed``: whether a push is still owed (by default: any code not yet delivered; a poll
    that has just handed every push to the outbox owes none).
    """
    if not activation.is_open:
        return None
    if owed if owed is not None else any(not code.delivered for code in activation.codes):
        # A push is still owed (the user blocked the bot, or a deliverer died mid-push).
        return now + max(base, 5.0)
    if activation.state in {State.WAITING, State.RETRY}:
        since = now - (activation.waiting_since or activation.created_at)
        interval = base if since < 180 else base * 2 if since < 600 else base * 3
        cancelling = cancel_before is not None and now >= activation.expires_at - cancel_before
        # An auto-cancel held back comes back at the pace.
        follows = pace is Pace.FOLLOW and not cancelling
    else:
        # A code is in. No new SMS comes before "Another code" (which makes it RETRY, protocol
        # §9.1) and expiry is known, so a poll only notices a close made elsewhere (on the
        # provider's site). A listing tells that nearly for free; a getStatus of its own is a
        # request that mostly finds nothing, so it is asked far less often.
        interval = max(base * FOLLOW, CODE_IN_ALONE) if pace is Pace.OWN else max(base * 12, 60.0)
        follows = pace is Pace.FOLLOW
    if follows:
        interval = max(interval, base * FOLLOW, FOLLOW_AT_LEAST)
    # Toward the user's grid by at most STEP of the interval each time (a poll is never
    # further off its interval than that): an item is on the grid after a few polls.
    # An item asked on its own has no moment to share: moving it early would only cost
    # requests (a getStatus-only provider asked more often than the naive poller).
    target = (
        now + interval if pace is Pace.OWN else on_grid(activation.user_id, now + interval, base)
    )
    at = min(max(target, now + interval * (1 - STEP)), now + interval * (1 + STEP))
    if now >= activation.expires_at:
        return now + max(interval, 30.0)
    at = min(at, activation.expires_at + 2, _next_milestone(activation, now))
    if cancel_before is not None and activation.state is State.WAITING:
        cancel_at = activation.expires_at - cancel_before
        if cancel_at > now:
            at = min(at, cancel_at)
    return at
