"""A dialog's buttons work only in its current menu: an old menu says it is out of date.

/buy, /rent, the rent extension and /mail draw their steps in one message, edited in place;
typed input (or the dialog starting again) moves the dialog to a new message below. The FSM
data keeps that message's id: a step's button (``dialog_of`` its callback data) from any other
message would act on the current dialog's state and turn an old menu into another screen, so
it is answered with an alert and nothing changes. The id is kept here, in one place, from what
``show`` drew with a dialog's buttons; a dialog without one (ended, or started by an older
version) leaves its buttons to the steps' own checks.
"""

from __future__ import annotations

from typing import Any, Final

from aiogram import BaseMiddleware
from aiogram.fsm.context import FSMContext
from aiogram.types import CallbackQuery, TelegramObject

from bot.i18n import gettext as _
from bot.keyboards.callbacks import Dialog, dialog_of
from bot.keyboards.markup import Keyboard
from bot.middlewares.base import Handler
from bot.telegram import drawing

#: The FSM data key of the current dialog's message id.
MENU_KEY: Final = "menu"


def out_of_date(dialog: Dialog) -> str:
    texts = {
        Dialog.BUY: _("This menu is out of date. Start again with /buy."),
        Dialog.RENT: _("This menu is out of date. Start again with /rent."),
        Dialog.EXTEND: _("This menu is out of date. Press Extend on the rent's card again."),
        Dialog.MAIL: _("This menu is out of date. Start again with /mail."),
    }
    return texts[dialog]


def _is_menu(markup: Keyboard | None) -> bool:
    rows = markup.inline_keyboard if markup is not None else []
    return any(dialog_of(button.callback_data) for row in rows for button in row)


class MenuBinding(BaseMiddleware):
    """Inner, on messages and taps: refuses a step from an old menu, keeps the current one."""

    async def __call__(self, handler: Handler, event: TelegramObject, data: dict[str, Any]) -> Any:
        state: FSMContext | None = data.get("state")
        if state is None:
            return await handler(event, data)
        menu: int | None = None
        if isinstance(event, CallbackQuery) and event.message is not None:
            dialog = dialog_of(event.data)
            if dialog is not None:
                menu = (await state.get_data()).get(MENU_KEY)
                if menu is not None and menu != event.message.message_id:
                    await event.answer(out_of_date(dialog), show_alert=True)
                    return None
        with drawing() as drawn:
            result = await handler(event, data)
        menus = [message_id for message_id, markup in drawn if _is_menu(markup)]
        # A dialog that has ended (its state cleared) keeps no menu.
        if menus and menus[-1] != menu and await state.get_state() is not None:
            await state.update_data({MENU_KEY: menus[-1]})
        return result
