"""Step 1 of /buy: the service, from the list, typed, or several on one number."""

from __future__ import annotations

from aiogram import F
from aiogram.fsm.context import FSMContext
from aiogram.types import CallbackQuery, Message
from aiogram.utils.callback_answer import CallbackAnswer
from aiogram.utils.i18n import gettext as _

from bot.accounts import UserAccount
from bot.catalogue import search_services
from bot.handlers.buy.countries import show_countries
from bot.handlers.buy.draft import BuyDraft, BuyFlow, Needs, save_draft, step
from bot.handlers.routes import Routes
from bot.handlers.unsettled import alert
from bot.keyboards.callbacks import (
    BuyAction,
    BuyCallback,
    BuyServiceCallback,
    BuyServicesCallback,
)
from bot.keyboards.pager import paginate
from bot.provider.presets import Feature
from bot.services.catalogue import CatalogueService
from bot.storage.users import UserRepo
from bot.telegram import show
from bot.views.buy import service_search_view, services_view

router = Routes(name=__name__)

SERVICES_PER_PAGE = 12
MAX_MULTI = 5


async def show_services(
    target: CallbackQuery | Message,
    state: FSMContext,
    draft: BuyDraft,
    account: UserAccount,
    catalogue: CatalogueService,
    users: UserRepo,
    locale: str,
    page: int = 0,
) -> None:
    codes = await catalogue.service_codes(account)
    offered = set(codes)
    recent = [code for code in await users.recent_services(account.user_id) if code in offered]
    ordered = recent + [code for code in codes if code not in recent]
    shown = paginate(ordered, page, SERVICES_PER_PAGE)
    draft.page = shown.page
    await save_draft(state, draft, BuyFlow.service)
    multi = account.supports(Feature.MULTI_SERVICE)
    await show(target, *services_view(shown, recent, draft.picked, locale, multi=multi))


@router.callback_query(BuyServicesCallback.filter(), flags=step(Needs.NOTHING))
async def services_page(
    query: CallbackQuery,
    callback_data: BuyServicesCallback,
    state: FSMContext,
    draft: BuyDraft,
    account: UserAccount,
    catalogue: CatalogueService,
    users: UserRepo,
    locale: str,
) -> None:
    await show_services(query, state, draft, account, catalogue, users, locale, callback_data.page)


@router.callback_query(BuyCallback.filter(F.action == BuyAction.MULTI), flags=step(Needs.NOTHING))
async def multi_toggled(
    query: CallbackQuery,
    state: FSMContext,
    draft: BuyDraft,
    account: UserAccount,
    catalogue: CatalogueService,
    users: UserRepo,
    locale: str,
    callback_answer: CallbackAnswer,
) -> None:
    if not account.supports(Feature.MULTI_SERVICE):
        alert(callback_answer, _("This provider sells one service per number."))
        return
    draft.picked = None if draft.picked is not None else []
    await show_services(query, state, draft, account, catalogue, users, locale, draft.page)


@router.callback_query(
    BuyCallback.filter(F.action == BuyAction.MULTI_DONE), flags=step(Needs.NOTHING)
)
async def multi_done(
    query: CallbackQuery,
    state: FSMContext,
    draft: BuyDraft,
    account: UserAccount,
    catalogue: CatalogueService,
    locale: str,
    callback_answer: CallbackAnswer,
) -> None:
    if draft.picked is None or len(draft.picked) < 2:
        alert(callback_answer, _("Pick at least two services."))
        return
    draft.choose_service(draft.picked[0])
    await show_countries(query, state, draft, account, catalogue, locale)


@router.callback_query(BuyServiceCallback.filter(), flags=step(Needs.NOTHING))
async def service_chosen(
    query: CallbackQuery,
    callback_data: BuyServiceCallback,
    state: FSMContext,
    draft: BuyDraft,
    account: UserAccount,
    catalogue: CatalogueService,
    users: UserRepo,
    locale: str,
    callback_answer: CallbackAnswer,
) -> None:
    code = callback_data.code
    if not await catalogue.is_service(account, code):
        alert(callback_answer, _("This service is not offered."))
        return
    if draft.picked is None:
        draft.choose_service(code)
        await show_countries(query, state, draft, account, catalogue, locale)
        return
    picked = (
        [c for c in draft.picked if c != code] if code in draft.picked else [*draft.picked, code]
    )
    if len(picked) > MAX_MULTI:
        alert(
            callback_answer, _("At most {count} services on one number.").format(count=MAX_MULTI)
        )
        return
    draft.picked = picked
    await show_services(query, state, draft, account, catalogue, users, locale, draft.page)


@router.message(BuyFlow.service, F.text, ~F.text.startswith("/"), flags=step(Needs.NOTHING))
async def service_typed(
    message: Message,
    state: FSMContext,
    draft: BuyDraft,
    account: UserAccount,
    catalogue: CatalogueService,
    locale: str,
) -> None:
    assert message.text is not None
    offered = set(await catalogue.service_codes(account))
    matches = [s for s in search_services(message.text, locale) if s.code in offered]
    if len(matches) == 1:
        draft.choose_service(matches[0].code)
        await show_countries(message, state, draft, account, catalogue, locale)
        return
    choices = [(s.code, s.name(locale)) for s in matches[:12]]
    await show(message, *service_search_view(message.text, choices))
