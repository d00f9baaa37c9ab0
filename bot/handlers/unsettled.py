"""Answers shared by the features: an alert, and a confirmation tap that bought nothing yet."""

from __future__ import annotations

from typing import TypeVar

from aiogram.fsm.context import FSMContext
from aiogram.types import CallbackQuery
from aiogram.utils.callback_answer import CallbackAnswer
from pydantic import BaseModel

from bot.i18n import gettext as _
from bot.services.checkout import Outcome
from bot.storage.records import UserRecord
from bot.telegram import show
from bot.texts import requote_notice


def alert(callback_answer: CallbackAnswer, text: str) -> None:
    """The tap's answer as an alert the user must dismiss (a refusal, not a toast)."""
    callback_answer.text = text
    callback_answer.show_alert = True


async def answer_unsettled(
    query: CallbackQuery,
    state: FSMContext,
    callback_answer: CallbackAnswer,
    outcome: Outcome[UserRecord],
    *,
    expired: str,
    unknown: str,
) -> bool:
    """Answer an outcome that is not a result (busy, out of date, lost); False for a result.

    ``expired`` is the alert for an out-of-date confirmation; ``unknown`` replaces the
    confirmation when the provider's answer was lost, and the dialog ends.
    """
    if outcome.busy:
        alert(callback_answer, _("A purchase is already in progress. One moment…"))
    elif outcome.expired:
        alert(callback_answer, expired)
    elif outcome.unknown:
        await state.clear()
        await show(query, unknown, None)
    else:
        return False
    return True


Choices = TypeVar("Choices", bound=BaseModel)


def dead_quote(
    outcome: Outcome[UserRecord], callback_answer: CallbackAnswer, choices: type[Choices]
) -> Choices | None:
    """When a tap bought nothing because its quote died or the price rose: the alert that
    says so, and the quote's choices to show afresh in its place; None for any other outcome."""
    if not outcome.requote or outcome.quote is None:
        return None
    alert(callback_answer, requote_notice(outcome.price))
    return choices.model_validate(outcome.quote.params)
