"""What a rent handler is handed, built once here instead of in every handler.

A /rent step says with its flags how far the dialog must have come (``step(Needs.COUNTRY)``);
``WizardMiddleware`` then hands it ``wizard: Wizard`` and the choices so far (``hours: int``,
``country: int`` or ``chosen: RentOptions``), or tells the user the menu is out of date. A button
that names a rent is flagged ``OWNED``: it is handed ``rent: Rent`` once ``owned_rent`` has
checked it, and a ``wizard`` on the account the rent was rented with.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import IntEnum
from typing import Any, Final

from aiogram import BaseMiddleware
from aiogram.dispatcher.flags import get_flag
from aiogram.fsm.context import FSMContext
from aiogram.types import Message, TelegramObject
from aiogram.utils.callback_answer import CallbackAnswer

from bot.accounts import UserAccount
from bot.handlers.copies import Copies
from bot.handlers.owned import owned_rent
from bot.handlers.rent.dialog import RentDraft, load_draft, stale_menu, stale_text
from bot.middlewares.account import NEEDS_ACCOUNT
from bot.middlewares.base import Handler
from bot.services.rents import RentService

_STEP_FLAG: Final = "rent_step"
_OWNED_FLAG: Final = "rent_owned"


#: Flags of a button that names a rent by id (``RentCallback``, ``RentExtendCallback``).
OWNED: Final = {_OWNED_FLAG: True}


@dataclass(frozen=True, slots=True)
class Wizard:
    """What a rent handler uses, handed to it by ``WizardMiddleware``."""

    state: FSMContext
    account: UserAccount
    service: RentService
    locale: str
    copies: Copies

    @property
    def provider(self) -> str:
        return self.account.preset.title


class Needs(IntEnum):
    """How far the /rent draft must have come for a step, and what the step is handed."""

    NOTHING = 0  # the draft is not read: the step starts a dialog or carries a token
    HOURS = 1  # ``hours: int``
    COUNTRY = 2  # ``hours: int`` and ``country: int``
    CHOICE = 3  # ``chosen: RentOptions`` (no price yet): a service is chosen


def step(needs: Needs = Needs.NOTHING) -> dict[str, Any]:
    """Flags of a /rent step: the presser's account, ``wizard`` and the draft up to ``needs``."""
    return {**NEEDS_ACCOUNT, _STEP_FLAG: needs}


def _reached(draft: RentDraft, needs: Needs) -> dict[str, Any] | None:
    """The choices a step of ``needs`` is handed; None when the draft has not come that far."""
    if needs is Needs.CHOICE:
        chosen = draft.chosen()
        return None if chosen is None else {"chosen": chosen}
    if draft.hours is None:
        return None
    if needs is Needs.HOURS:
        return {"hours": draft.hours}
    return None if draft.country is None else {"hours": draft.hours, "country": draft.country}


class WizardMiddleware(BaseMiddleware):
    """Hands flagged rent handlers their context; inner, so the chosen handler's flags show."""

    async def __call__(self, handler: Handler, event: TelegramObject, data: dict[str, Any]) -> Any:
        needs: Needs | None = get_flag(data, _STEP_FLAG)
        owned: bool = bool(get_flag(data, _OWNED_FLAG))
        if needs is None and not owned:
            return await handler(event, data)
        state: FSMContext = data["state"]
        rent_service: RentService = data["rent_service"]
        if owned:
            # Callback data is never trusted: the rent must be the presser's own.
            rent_id: int = data["callback_data"].id
            user_id: int = data["event_from_user"].id
            data["rent"], data["account"] = await owned_rent(
                rent_service.rents, data["accounts"], user_id, rent_id, data.get("glance")
            )
        if needs:
            reached = _reached(await load_draft(state), needs)
            if reached is None:
                await _stale(event, data.get("callback_answer"))
                return None
            data.update(reached)
        account: UserAccount = data["account"]
        data["wizard"] = Wizard(state, account, rent_service, data["locale"], Copies.of(data))
        return await handler(event, data)


async def _stale(event: TelegramObject, callback_answer: CallbackAnswer | None) -> None:
    if callback_answer is not None:
        stale_menu(callback_answer)
    elif isinstance(event, Message):
        # The state outlived its data (FSM data was cleared elsewhere): start again.
        await event.answer(stale_text())
