"""What the rent dialogs share: their states, their FSM data and how a button is answered.

The dialog's choices live in FSM data as one typed model, read and written only here. Buttons
are answered by aiogram's ``CallbackAnswerMiddleware``: a handler sets the text it wants on the
``CallbackAnswer`` it is given.
"""

from __future__ import annotations

from collections.abc import Callable

from aiogram.fsm.context import FSMContext
from aiogram.fsm.state import State, StatesGroup
from aiogram.types import Message
from aiogram.utils.callback_answer import CallbackAnswer
from pydantic import BaseModel

from bot.handlers.unsettled import alert
from bot.i18n import gettext as _
from bot.storage.rents import RentOptions
from bot.views.rent import hours_problem

_DRAFT_KEY = "rent"


class RentFlow(StatesGroup):
    duration = State()
    country = State()
    service = State()
    confirm = State()
    extend = State()


class RentDraft(BaseModel):
    """The choices of /rent so far, and the rent the extension dialog is about."""

    hours: int | None = None
    country: int | None = None
    service: str | None = None
    operator: str | None = None  # None is any operator
    extend_id: int | None = None

    # A choice clears the ones after it: they depend on it (a country's services, ...).
    def with_hours(self, hours: int) -> RentDraft:
        return RentDraft(hours=hours, extend_id=self.extend_id)

    def with_country(self, country: int) -> RentDraft:
        return RentDraft(hours=self.hours, country=country, extend_id=self.extend_id)

    def with_service(self, service: str) -> RentDraft:
        return RentDraft(
            hours=self.hours, country=self.country, service=service, extend_id=self.extend_id
        )

    def with_operator(self, operator: str | None) -> RentDraft:
        return self.model_copy(update={"operator": operator})

    def extending(self, rent_id: int) -> RentDraft:
        return self.model_copy(update={"extend_id": rent_id})

    def chosen(self) -> RentOptions | None:
        """The whole choice (with no price yet), or None before a service is chosen."""
        if self.hours is None or self.country is None or self.service is None:
            return None
        return RentOptions(
            service=self.service, country=self.country, hours=self.hours, operator=self.operator
        )


async def load_draft(state: FSMContext) -> RentDraft:
    data = await state.get_data()
    return RentDraft.model_validate(data.get(_DRAFT_KEY) or {})


async def update_draft(state: FSMContext, change: Callable[[RentDraft], RentDraft]) -> RentDraft:
    draft = change(await load_draft(state))
    # Under its own key: other dialogs keep what they put in FSM data.
    await state.update_data({_DRAFT_KEY: draft.model_dump(mode="json")})
    return draft


def parse_hours(text: str) -> int | None:
    value = text.strip()
    return int(value) if value.isdecimal() and len(value) <= 6 else None


async def read_hours(message: Message, text: str) -> int | None:
    """The hours typed in ``text``, or None once the user has been told what is wrong."""
    hours = parse_hours(text)
    problem = hours_problem(hours)
    if problem is not None:
        await message.answer(problem)
        return None
    return hours


def stale_text() -> str:
    return _("This menu is out of date. Start again with /rent.")


def stale_menu(callback_answer: CallbackAnswer) -> None:
    alert(callback_answer, stale_text())
