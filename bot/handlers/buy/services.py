"""Step 1 of /buy: the service, from the list, typed, or several on one number."""

from __future__ import annotations

from aiogram import F
from aiogram.types import CallbackQuery, Message
from aiogram.utils.callback_answer import CallbackAnswer

from bot.catalogue import search_services
from bot.handlers.buy.countries import show_countries
from bot.handlers.buy.draft import BuyContext, BuyFlow, Needs, step
from bot.handlers.routes import Routes
from bot.handlers.unsettled import alert
from bot.i18n import gettext as _
from bot.i18n import ngettext
from bot.keyboards.callbacks import (
    BuyAction,
    BuyCallback,
    BuyServiceCallback,
    BuyServicesCallback,
)
from bot.keyboards.pager import paginate
from bot.provider.presets import Feature
from bot.telegram import show
from bot.views.buy import service_search_view, services_view

router = Routes(name=__name__)

SERVICES_PER_PAGE = 12
MAX_MULTI = 5


async def show_services(target: CallbackQuery | Message, buy: BuyContext, page: int = 0) -> None:
    account = buy.account
    codes = await buy.service_codes()
    offered = set(codes)
    recent = [code for code in await buy.users.recent_services(account.user_id) if code in offered]
    ordered = recent + [code for code in codes if code not in recent]
    shown = paginate(ordered, page, SERVICES_PER_PAGE)
    buy.draft.page = shown.page
    await buy.save(BuyFlow.service)
    multi = account.supports(Feature.MULTI_SERVICE)
    await show(target, *services_view(shown, recent, buy.draft.picked, buy.locale, multi=multi))


@router.callback_query(BuyServicesCallback.filter(), flags=step(Needs.NOTHING))
async def services_page(
    query: CallbackQuery, callback_data: BuyServicesCallback, buy: BuyContext
) -> None:
    await show_services(query, buy, callback_data.page)


@router.callback_query(
    BuyCallback.filter(F.action == BuyAction.MULTI),
    flags=step(Needs.NOTHING, Feature.MULTI_SERVICE),
)
async def multi_toggled(query: CallbackQuery, buy: BuyContext) -> None:
    draft = buy.draft
    draft.picked = None if draft.picked is not None else []
    await show_services(query, buy, draft.page)


@router.callback_query(
    BuyCallback.filter(F.action == BuyAction.MULTI_DONE), flags=step(Needs.NOTHING)
)
async def multi_done(
    query: CallbackQuery, buy: BuyContext, callback_answer: CallbackAnswer
) -> None:
    draft = buy.draft
    if draft.picked is None or len(draft.picked) < 2:
        alert(callback_answer, _("Pick at least two services."))
        return
    draft.choose_service(draft.picked[0])
    await show_countries(query, buy)


@router.callback_query(BuyServiceCallback.filter(), flags=step(Needs.NOTHING))
async def service_chosen(
    query: CallbackQuery,
    callback_data: BuyServiceCallback,
    buy: BuyContext,
    callback_answer: CallbackAnswer,
) -> None:
    code, draft = callback_data.code, buy.draft
    if not await buy.is_service(code):
        alert(callback_answer, _("This service is not offered."))
        return
    if draft.picked is None:
        draft.choose_service(code)
        await show_countries(query, buy)
        return
    picked = (
        [c for c in draft.picked if c != code] if code in draft.picked else [*draft.picked, code]
    )
    if len(picked) > MAX_MULTI:
        most = ngettext(
            "At most {count} service on one number.",
            "At most {count} services on one number.",
            MAX_MULTI,
        )
        alert(callback_answer, most.format(count=MAX_MULTI))
        return
    draft.picked = picked
    await show_services(query, buy, draft.page)


@router.message(BuyFlow.service, F.text, ~F.text.startswith("/"), flags=step(Needs.NOTHING))
async def service_typed(message: Message, buy: BuyContext) -> None:
    assert message.text is not None
    if not message.text.strip():
        await show_services(message, buy, buy.draft.page)  # nothing typed: the list again
        return
    offered = set(await buy.catalogue.service_codes(buy.account))
    matches = [s for s in search_services(message.text, buy.locale) if s.code in offered]
    if len(matches) == 1:
        buy.draft.choose_service(matches[0].code)
        await show_countries(message, buy)
        return
    choices = [(s.code, s.name(buy.locale)) for s in matches[:12]]
    await show(message, *service_search_view(message.text, choices))
