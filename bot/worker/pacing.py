"""When an activation is polled next, and which countdown milestone its card shows."""

from __future__ import annotations

import math
import random

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


def next_poll(
    activation: Activation, now: float, base: float, cancel_before: float | None = None
) -> float | None:
    """Poll often while a code is likely, less often later; None once it is closed."""
    if not activation.is_open:
        return None
    if any(not code.delivered for code in activation.codes):
        # A push is still owed (the user blocked the bot, or a deliverer died mid-push).
        return now + max(base, 5.0)
    if activation.state in {State.WAITING, State.RETRY}:
        since = now - (activation.waiting_since or activation.created_at)
        interval = base if since < 180 else base * 2 if since < 600 else base * 3
    else:
        # A code is in: a second SMS without "Another code" is rare, and expiry is known.
        interval = max(base * 12, 60.0)
    at = now + interval * random.uniform(0.85, 1.15)
    if now >= activation.expires_at:
        return now + max(interval, 30.0)
    at = min(at, activation.expires_at + 2, _next_milestone(activation, now))
    if cancel_before is not None and activation.state is State.WAITING:
        cancel_at = activation.expires_at - cancel_before
        if cancel_at > now:
            at = min(at, cancel_at)
    return at
