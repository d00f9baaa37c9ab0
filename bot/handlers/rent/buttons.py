"""The buttons of /rent, one handler each.

A button of a dialog that has ended (or never reached its step) is refused as out of date by
``WizardMiddleware``; a value the provider no longer offers is refused before anything is bought.
"""

from __future__ import annotations

from aiogram import F
from aiogram.fsm.context import FSMContext
from aiogram.types import CallbackQuery
from aiogram.utils.callback_answer import CallbackAnswer

from bot.handlers.cancelled import cancel_dialog
from bot.handlers.rent.context import Needs, Wizard, step
from bot.handlers.rent.dialog import update_draft
from bot.handlers.rent.order import (
    choose_country,
    choose_duration,
    choose_service,
    show_confirm,
    show_countries,
    show_durations,
    show_rented,
    show_services,
)
from bot.handlers.routes import Routes
from bot.handlers.unsettled import alert
from bot.i18n import gettext as _
from bot.keyboards.callback_data import CallbackFilter
from bot.keyboards.callbacks import RentBuyAction, RentBuyCallback
from bot.keyboards.rent import operators_keyboard
from bot.middlewares.callback_answer import BUYING
from bot.services.checkout import OrderKind
from bot.storage.orders import OrderRepo
from bot.storage.rents import RentOptions
from bot.telegram import show

router = Routes(name=__name__)


def _on(*actions: RentBuyAction) -> CallbackFilter:
    """The filter of a /rent button (of any of ``actions``)."""
    return RentBuyCallback.filter(F.action.in_(actions))


@router.callback_query(_on(RentBuyAction.CANCEL))
async def cancel(
    query: CallbackQuery, state: FSMContext, callback_answer: CallbackAnswer, orders: OrderRepo
) -> None:
    text = _("Nothing was rented. /rent starts again.")
    await cancel_dialog(query, state, callback_answer, text, orders, OrderKind.RENT)


@router.callback_query(_on(RentBuyAction.TO_DURATIONS), flags=step())
async def to_durations(query: CallbackQuery, wizard: Wizard) -> None:
    await show_durations(wizard, query)


@router.callback_query(_on(RentBuyAction.DURATION), flags=step())
async def duration_chosen(
    query: CallbackQuery,
    callback_data: RentBuyCallback,
    wizard: Wizard,
    callback_answer: CallbackAnswer,
) -> None:
    hours = callback_data.hours
    if hours not in await wizard.service.durations(wizard.account):
        alert(callback_answer, _("This duration is not offered."))
        return
    refusal = await choose_duration(wizard, query, hours)
    if refusal is not None:
        alert(callback_answer, refusal)


@router.callback_query(
    _on(RentBuyAction.COUNTRY_PAGE, RentBuyAction.TO_COUNTRIES), flags=step(Needs.HOURS)
)
async def countries_page(
    query: CallbackQuery, callback_data: RentBuyCallback, wizard: Wizard, hours: int
) -> None:
    await show_countries(wizard, query, hours, callback_data.page)


@router.callback_query(_on(RentBuyAction.COUNTRY), flags=step(Needs.HOURS))
async def country_chosen(
    query: CallbackQuery,
    callback_data: RentBuyCallback,
    wizard: Wizard,
    hours: int,
    callback_answer: CallbackAnswer,
) -> None:
    menu = await wizard.service.menu(wizard.account, hours)
    if callback_data.country not in menu.countries:
        alert(callback_answer, _("This country is not offered for rent."))
        return
    await choose_country(wizard, query, hours, callback_data.country)


@router.callback_query(
    _on(RentBuyAction.SERVICE_PAGE, RentBuyAction.TO_SERVICES), flags=step(Needs.COUNTRY)
)
async def services_page(
    query: CallbackQuery, callback_data: RentBuyCallback, wizard: Wizard, hours: int, country: int
) -> None:
    await show_services(wizard, query, hours, country, callback_data.page)


@router.callback_query(_on(RentBuyAction.SERVICE), flags=step(Needs.COUNTRY))
async def service_chosen(
    query: CallbackQuery,
    callback_data: RentBuyCallback,
    wizard: Wizard,
    hours: int,
    country: int,
    callback_answer: CallbackAnswer,
) -> None:
    menu = await wizard.service.menu(wizard.account, hours, country)
    if menu.choice(callback_data.service) is None:
        alert(callback_answer, _("This service is not offered here."))
        return
    await choose_service(wizard, query, callback_data.service)


@router.callback_query(_on(RentBuyAction.OPERATORS), flags=step(Needs.CHOICE))
async def operators(query: CallbackQuery, wizard: Wizard, chosen: RentOptions) -> None:
    menu = await wizard.service.menu(wizard.account, chosen.hours, chosen.country)
    await show(
        query,
        _("Choose the operator:"),
        operators_keyboard(menu.operators, chosen.operator, _("any"), _("Back")),
    )


@router.callback_query(_on(RentBuyAction.OPERATOR), flags=step(Needs.CHOICE))
async def operator_chosen(
    query: CallbackQuery,
    callback_data: RentBuyCallback,
    wizard: Wizard,
    chosen: RentOptions,
    callback_answer: CallbackAnswer,
) -> None:
    operator = callback_data.operator or None
    if operator is not None:
        menu = await wizard.service.menu(wizard.account, chosen.hours, chosen.country)
        if operator not in menu.operators:
            alert(callback_answer, _("This operator is not offered here."))
            return
    await update_draft(wizard.state, lambda old: old.with_operator(operator))
    await show_confirm(wizard, query, chosen.model_copy(update={"operator": operator}))


@router.callback_query(_on(RentBuyAction.TO_CONFIRM), flags=step(Needs.CHOICE))
async def to_confirm(query: CallbackQuery, wizard: Wizard, chosen: RentOptions) -> None:
    await show_confirm(wizard, query, chosen)


@router.callback_query(_on(RentBuyAction.CONFIRM), flags={**step(), **BUYING})
async def confirmed(
    query: CallbackQuery,
    callback_data: RentBuyCallback,
    wizard: Wizard,
    callback_answer: CallbackAnswer,
) -> None:
    # The token names the order kept at the confirmation: the FSM data is not needed.
    await show_rented(wizard, query, callback_answer, callback_data.token)
