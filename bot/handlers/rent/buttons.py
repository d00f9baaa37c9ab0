"""The buttons of /rent, one handler each.

A button of a dialog that has ended (or never reached its step) is refused as out of date; a
value the provider no longer offers is refused before anything is bought.
"""

from __future__ import annotations

from dataclasses import replace

from aiogram import F
from aiogram.fsm.context import FSMContext
from aiogram.types import CallbackQuery, Message
from aiogram.utils.callback_answer import CallbackAnswer
from aiogram.utils.i18n import gettext as _

from bot.accounts import UserAccount
from bot.handlers.rent.dialog import Wizard, load_draft, stale_menu, update_draft
from bot.handlers.rent.order import (
    choose_country,
    choose_duration,
    show_confirm,
    show_countries,
    show_durations,
    show_rented,
    show_services,
)
from bot.handlers.routes import Routes
from bot.handlers.unsettled import alert
from bot.keyboards.callbacks import RentBuyAction, RentBuyCallback
from bot.keyboards.rent import operators_keyboard
from bot.middlewares.account import NEEDS_ACCOUNT
from bot.services.rents import RentService
from bot.telegram import edit_text, show

router = Routes(name=__name__)


@router.callback_query(RentBuyCallback.filter(F.action == RentBuyAction.CANCEL))
async def cancel(query: CallbackQuery, state: FSMContext, callback_answer: CallbackAnswer) -> None:
    await state.clear()
    callback_answer.text = _("Cancelled.")
    if isinstance(query.message, Message):
        await edit_text(query.message, _("Nothing was rented. /rent starts again."))


@router.callback_query(
    RentBuyCallback.filter(F.action == RentBuyAction.TO_DURATIONS), flags=NEEDS_ACCOUNT
)
async def to_durations(
    query: CallbackQuery,
    state: FSMContext,
    account: UserAccount,
    rent_service: RentService,
    locale: str,
) -> None:
    await show_durations(Wizard(state, account, rent_service, locale), query)


@router.callback_query(
    RentBuyCallback.filter(F.action == RentBuyAction.DURATION), flags=NEEDS_ACCOUNT
)
async def duration_chosen(
    query: CallbackQuery,
    callback_data: RentBuyCallback,
    state: FSMContext,
    account: UserAccount,
    rent_service: RentService,
    locale: str,
    callback_answer: CallbackAnswer,
) -> None:
    hours = callback_data.hours
    if hours not in await rent_service.durations(account):
        alert(callback_answer, _("This duration is not offered."))
        return
    refusal = await choose_duration(Wizard(state, account, rent_service, locale), query, hours)
    if refusal is not None:
        alert(callback_answer, refusal)


@router.callback_query(
    RentBuyCallback.filter(F.action.in_({RentBuyAction.COUNTRY_PAGE, RentBuyAction.TO_COUNTRIES})),
    flags=NEEDS_ACCOUNT,
)
async def countries_page(
    query: CallbackQuery,
    callback_data: RentBuyCallback,
    state: FSMContext,
    account: UserAccount,
    rent_service: RentService,
    locale: str,
    callback_answer: CallbackAnswer,
) -> None:
    draft = await load_draft(state)
    if draft.hours is None:
        stale_menu(callback_answer)
        return
    wizard = Wizard(state, account, rent_service, locale)
    await show_countries(wizard, query, draft.hours, callback_data.page)


@router.callback_query(
    RentBuyCallback.filter(F.action == RentBuyAction.COUNTRY), flags=NEEDS_ACCOUNT
)
async def country_chosen(
    query: CallbackQuery,
    callback_data: RentBuyCallback,
    state: FSMContext,
    account: UserAccount,
    rent_service: RentService,
    locale: str,
    callback_answer: CallbackAnswer,
) -> None:
    draft = await load_draft(state)
    if draft.hours is None:
        stale_menu(callback_answer)
        return
    menu = await rent_service.menu(account, draft.hours)
    if callback_data.country not in menu.countries:
        alert(callback_answer, _("This country is not offered for rent."))
        return
    wizard = Wizard(state, account, rent_service, locale)
    await choose_country(wizard, query, draft.hours, callback_data.country)


@router.callback_query(
    RentBuyCallback.filter(F.action.in_({RentBuyAction.SERVICE_PAGE, RentBuyAction.TO_SERVICES})),
    flags=NEEDS_ACCOUNT,
)
async def services_page(
    query: CallbackQuery,
    callback_data: RentBuyCallback,
    state: FSMContext,
    account: UserAccount,
    rent_service: RentService,
    locale: str,
    callback_answer: CallbackAnswer,
) -> None:
    draft = await load_draft(state)
    if draft.hours is None or draft.country is None:
        stale_menu(callback_answer)
        return
    wizard = Wizard(state, account, rent_service, locale)
    await show_services(wizard, query, draft.hours, draft.country, callback_data.page)


@router.callback_query(
    RentBuyCallback.filter(F.action == RentBuyAction.SERVICE), flags=NEEDS_ACCOUNT
)
async def service_chosen(
    query: CallbackQuery,
    callback_data: RentBuyCallback,
    state: FSMContext,
    account: UserAccount,
    rent_service: RentService,
    locale: str,
    callback_answer: CallbackAnswer,
) -> None:
    draft = await load_draft(state)
    if draft.hours is None or draft.country is None:
        stale_menu(callback_answer)
        return
    menu = await rent_service.menu(account, draft.hours, draft.country)
    if menu.choice(callback_data.service) is None:
        alert(callback_answer, _("This service is not offered here."))
        return
    draft = await update_draft(state, lambda old: old.with_service(callback_data.service))
    chosen = draft.chosen()
    assert chosen is not None
    await show_confirm(Wizard(state, account, rent_service, locale), query, chosen)


@router.callback_query(
    RentBuyCallback.filter(F.action == RentBuyAction.OPERATORS), flags=NEEDS_ACCOUNT
)
async def operators(
    query: CallbackQuery,
    state: FSMContext,
    account: UserAccount,
    rent_service: RentService,
    callback_answer: CallbackAnswer,
) -> None:
    chosen = (await load_draft(state)).chosen()
    if chosen is None:
        stale_menu(callback_answer)
        return
    menu = await rent_service.menu(account, chosen.hours, chosen.country)
    await show(
        query,
        _("Choose the operator:"),
        operators_keyboard(menu.operators, chosen.operator, _("any"), _("Back")),
    )


@router.callback_query(
    RentBuyCallback.filter(F.action == RentBuyAction.OPERATOR), flags=NEEDS_ACCOUNT
)
async def operator_chosen(
    query: CallbackQuery,
    callback_data: RentBuyCallback,
    state: FSMContext,
    account: UserAccount,
    rent_service: RentService,
    locale: str,
    callback_answer: CallbackAnswer,
) -> None:
    chosen = (await load_draft(state)).chosen()
    if chosen is None:
        stale_menu(callback_answer)
        return
    operator = callback_data.operator or None
    if operator is not None:
        menu = await rent_service.menu(account, chosen.hours, chosen.country)
        if operator not in menu.operators:
            alert(callback_answer, _("This operator is not offered here."))
            return
    await update_draft(state, lambda old: old.with_operator(operator))
    wizard = Wizard(state, account, rent_service, locale)
    await show_confirm(wizard, query, replace(chosen, operator=operator))


@router.callback_query(
    RentBuyCallback.filter(F.action == RentBuyAction.TO_CONFIRM), flags=NEEDS_ACCOUNT
)
async def to_confirm(
    query: CallbackQuery,
    state: FSMContext,
    account: UserAccount,
    rent_service: RentService,
    locale: str,
    callback_answer: CallbackAnswer,
) -> None:
    chosen = (await load_draft(state)).chosen()
    if chosen is None:
        stale_menu(callback_answer)
        return
    await show_confirm(Wizard(state, account, rent_service, locale), query, chosen)


@router.callback_query(
    RentBuyCallback.filter(F.action == RentBuyAction.CONFIRM), flags=NEEDS_ACCOUNT
)
async def confirmed(
    query: CallbackQuery,
    callback_data: RentBuyCallback,
    state: FSMContext,
    account: UserAccount,
    rent_service: RentService,
    locale: str,
    callback_answer: CallbackAnswer,
) -> None:
    # The token names the order kept at the confirmation: the FSM data is not needed.
    wizard = Wizard(state, account, rent_service, locale)
    await show_rented(wizard, query, callback_answer, callback_data.token)
