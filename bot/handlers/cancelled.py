"""How a purchase dialog starts and ends, the same in every dialog: a new one forgets the
last (and its confirmation), Cancel forgets it and says so."""

from __future__ import annotations

from typing import Any

from aiogram.fsm.context import FSMContext
from aiogram.types import CallbackQuery
from aiogram.utils.callback_answer import CallbackAnswer

from bot.i18n import gettext as _
from bot.services.checkout import OrderKind, Shop
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


async def new_dialog(state: FSMContext, shop: Shop[Any], user_id: int) -> None:
    """A purchase dialog starts afresh: the earlier one is forgotten, and the confirmation it
    showed buys nothing any more (only what is on screen buys)."""
    await state.clear()
    await shop.checkout.void(user_id, [shop.kind])
