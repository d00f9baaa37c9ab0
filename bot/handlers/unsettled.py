"""The answer to a confirmation tap that bought nothing yet, shared by /buy, /rent and /mail."""

from __future__ import annotations

from typing import Protocol

from aiogram.fsm.context import FSMContext
from aiogram.types import CallbackQuery
from aiogram.utils.i18n import gettext as _

from bot.telegram import show


class Outcome(Protocol):
    @property
    def busy(self) -> bool: ...  # another purchase of this user is running

    @property
    def expired(self) -> bool: ...  # the confirmation is too old or unknown

    @property
    def unknown(self) -> bool: ...  # the answer was lost and nothing new shows up


async def answer_unsettled(
    query: CallbackQuery, state: FSMContext, outcome: Outcome, *, expired: str, unknown: str
) -> bool:
    """Answer an outcome that is not a result (busy, out of date, lost); False for a result.

    ``expired`` is the alert for an out-of-date confirmation; ``unknown`` replaces the
    confirmation when the provider's answer was lost, and the dialog ends.
    """
    if outcome.busy:
        await query.answer(_("A purchase is already in progress. One moment…"), show_alert=True)
    elif outcome.expired:
        await query.answer(expired, show_alert=True)
    elif outcome.unknown:
        await query.answer()
        await state.clear()
        await show(query, unknown, None)
    else:
        return False
    return True
