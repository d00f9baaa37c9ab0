"""Step 2 of /buy: the country, from the sorted and paged offers, or typed."""

from __future__ import annotations

from aiogram import F
from aiogram.types import CallbackQuery, Message
from aiogram.utils.callback_answer import CallbackAnswer

from bot.catalogue import search_countries
from bot.handlers.buy.draft import BuyContext, BuyFlow, Needs, step
from bot.handlers.buy.offers import show_offers
from bot.handlers.buy.options import offer_of, show_options
from bot.handlers.routes import Routes
from bot.handlers.unsettled import alert
from bot.i18n import gettext as _
from bot.keyboards.callbacks import (
    BuyCountriesCallback,
    BuyCountryCallback,
    BuySort,
    BuySortCallback,
)
from bot.keyboards.pager import paginate
from bot.provider.presets import Feature
from bot.services.catalogue import Offer
from bot.telegram import show
from bot.texts import escape
from bot.views.buy import countries_view, no_offers_view, services_title, sort_offers
from bot.views.offers import silent_line

router = Routes(name=__name__)

COUNTRIES_PER_PAGE = 8


async def show_countries(
    target: CallbackQuery | Message,
    buy: BuyContext,
    page: int = 0,
    only: list[Offer] | None = None,
) -> None:
    """The countries selling the draft's services; ``only``: those a typed name matched."""
    draft, account, catalogue = buy.draft, buy.account, buy.catalogue
    assert draft.service is not None
    across = await buy.across()
    silent = ""
    if only is not None:
        offers = only
    elif across is not None:
        # Every account's countries, each at the cheapest price any of them asks.
        offers, quiet = await buy.offer_service.countries(across, draft.service)
        silent = silent_line(quiet)
    elif draft.is_multi:
        offers = await catalogue.multi_offers(account, draft.services)
    else:
        offers = await catalogue.offers(account, draft.service)
    title = services_title(draft.services, buy.locale)
    if not offers:
        await buy.save(BuyFlow.service)
        await show(target, *no_offers_view(title, account.preset.title))
        return
    rates = await catalogue.rates(account, draft.service) if draft.sort is BuySort.RATE else {}
    shown = paginate(sort_offers(offers, draft.sort, rates), page, COUNTRIES_PER_PAGE)
    await buy.save(BuyFlow.country)
    rate_sort = account.supports(Feature.COUNTRY_RATES)
    text, markup = countries_view(title, shown, draft.sort, rates, buy.locale, rate_sort=rate_sort)
    await show(target, f"{text}\n\n{silent}" if silent else text, markup)


@router.callback_query(BuyCountriesCallback.filter(), flags=step(Needs.SERVICE))
async def countries_page(
    query: CallbackQuery, callback_data: BuyCountriesCallback, buy: BuyContext
) -> None:
    await show_countries(query, buy, callback_data.page)


@router.callback_query(BuySortCallback.filter(), flags=step(Needs.SERVICE))
async def sorted_by(query: CallbackQuery, callback_data: BuySortCallback, buy: BuyContext) -> None:
    buy.draft.sort = callback_data.sort
    await show_countries(query, buy)


@router.callback_query(BuyCountryCallback.filter(), flags=step(Needs.SERVICE))
async def country_chosen(
    query: CallbackQuery,
    callback_data: BuyCountryCallback,
    buy: BuyContext,
    callback_answer: CallbackAnswer,
) -> None:
    across = await buy.across()
    if across is not None:
        buy.draft.choose_country(callback_data.country)
        await show_offers(query, buy, across)
        return
    options = buy.draft.options(callback_data.country)
    if await offer_of(buy.catalogue, buy.account, options) is None:
        alert(callback_answer, _("No numbers in this country right now."))
        return
    buy.draft.choose_country(callback_data.country)
    await show_options(query, buy)


@router.message(BuyFlow.country, F.text, ~F.text.startswith("/"), flags=step(Needs.SERVICE))
async def country_typed(message: Message, buy: BuyContext) -> None:
    assert message.text is not None
    assert buy.draft.service is not None
    if not message.text.strip():
        await show_countries(message, buy)  # nothing typed: the list again
        return
    across = await buy.across()
    if across is not None:
        listed, _quiet = await buy.offer_service.countries(across, buy.draft.service)
    else:
        listed = await buy.catalogue.offers(buy.account, buy.draft.service)
    offers = {o.country: o for o in listed}
    found = [offers[c] for c in search_countries(message.text, offers)]
    if not found:
        await message.answer(
            _("No country with numbers matches “{query}”.").format(query=escape(message.text[:50]))
        )
        return
    if len(found) == 1:
        buy.draft.choose_country(found[0].country)
        if across is not None:
            await show_offers(message, buy, across)
            return
        await show_options(message, buy)
        return
    await show_countries(message, buy, only=found)
