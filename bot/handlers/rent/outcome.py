"""What a confirmation tap (a rent or an extension) led to: the one reader of its outcome."""

from __future__ import annotations

from dataclasses import dataclass

from aiogram.fsm.context import FSMContext
from aiogram.types import CallbackQuery
from aiogram.utils.callback_answer import CallbackAnswer

from bot.handlers.unsettled import answer_unsettled
from bot.provider import errors as pe
from bot.services.checkout import Outcome
from bot.storage.rents import Rent


@dataclass(frozen=True, slots=True)
class OutcomeTexts:
    expired: str  # the alert for an out-of-date confirmation
    unknown: str  # replaces the confirmation when the provider's answer was lost
    done: str
    already: str  # a double tap: the order had already been carried out
    recovered: str | None = None  # the answer was lost, but the provider's list shows it
    renewed: str | None = None  # an extension re-ordered a finished rent


async def settle(
    query: CallbackQuery,
    state: FSMContext,
    callback_answer: CallbackAnswer,
    result: Outcome[Rent],
    texts: OutcomeTexts,
) -> Rent | pe.ProviderError | None:
    """Answer the tap and say what to show: the rent (the dialog is over), the provider's
    refusal, or None when nothing more is shown (busy, out of date, lost)."""
    if await answer_unsettled(
        query, state, callback_answer, result, expired=texts.expired, unknown=texts.unknown
    ):
        return None
    if result.error is not None or result.item is None:
        return result.error or pe.MalformedResponse("no rent", "")
    await state.clear()
    if result.already:
        callback_answer.text = texts.already
    elif result.recovered and texts.recovered is not None:
        callback_answer.text = texts.recovered
    elif result.renewed and texts.renewed is not None:
        callback_answer.text = texts.renewed
    else:
        callback_answer.text = texts.done
    return result.item
