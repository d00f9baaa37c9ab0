"""A dialog's Cancel button, the same in every dialog: forget the dialog and say so."""

from __future__ import annotations

from aiogram.fsm.context import FSMContext
from aiogram.types import CallbackQuery
from aiogram.utils.callback_answer import CallbackAnswer
from aiogram.utils.i18n import gettext as _

from bot.services.checkout import OrderKind
from bot.storage.orders import OrderRepo
from bot.telegram import show


async def cancel_dialog(
    query: CallbackQuery,
    state: FSMContext,
    callback_answer: CallbackAnswer,
    text: str,
    orders: OrderRepo,
    kind: OrderKind,
) -> None:
    """Clear the dialog's state, end its confirmation (``kind``: a later tap on it buys
    nothing) and put ``text`` in place of its message (keyboard gone)."""
    await state.clear()
    await orders.void(query.from_user.id, [kind.value])
    callback_answer.text = _("Cancelled.")
    await show(query, text, None)
