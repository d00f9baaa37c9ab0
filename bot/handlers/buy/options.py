"""Step 3 of /buy: the options of the purchase, and the confirmation that carries them."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from decimal import Decimal, InvalidOperation
from typing import Any, TypeVar

from aiogram import F
from aiogram.fsm.context import FSMContext
from aiogram.types import CallbackQuery, Message
from aiogram.utils.callback_answer import CallbackAnswer

from bot.accounts import UserAccount
from bot.catalogue import country as country_info
from bot.handlers.buy.draft import BuyContext, BuyDraft, BuyFlow, Needs, step
from bot.handlers.routes import Routes
from bot.handlers.unsettled import alert
from bot.i18n import gettext as _
from bot.keyboards.callbacks import (
    MAX_PRICE_LIMIT,
    BuyAction,
    BuyCallback,
    BuyMaxPriceCallback,
    BuyOperatorCallback,
)
from bot.provider.presets import Feature
from bot.services.activation_purchases import list_price, price_of
from bot.services.activation_rules import read_prefixes
from bot.services.catalogue import CatalogueService, Offer
from bot.storage.activations import BuyOptions
from bot.telegram import show
from bot.views.buy import (
    exclusions_prompt,
    max_price_prompt,
    no_offer_here_view,
    operators_view,
    options_view,
    place,
    services_title,
)

router = Routes(name=__name__)

Handler = TypeVar("Handler", bound=Callable[..., Any])


def _on_button(action: BuyAction, feature: Feature | None = None) -> Callable[[Handler], Handler]:
    """A button of the confirmation screen: it needs the draft to have come to a country."""
    return router.callback_query(
        BuyCallback.filter(F.action == action), flags=step(Needs.COUNTRY, feature)
    )


async def offer_of(
    catalogue: CatalogueService, account: UserAccount, options: BuyOptions
) -> Offer | None:
    assert options.country is not None
    if options.is_multi:
        offers = await catalogue.multi_offers(account, options.services)
        return next((o for o in offers if o.country == options.country), None)
    offer = await catalogue.offer(account, options.service, options.country)
    if offer is not None and options.verification:
        # A call costs what getPricesVerification says, not the SMS price of the list.
        called = await price_of(account, options)
        if called is not None:
            offer = replace(offer, price=called)
    return offer


async def service_prices(
    buy: BuyContext, options: BuyOptions, *, fresh: bool
) -> list[tuple[str, Decimal]]:
    """Each service's price on a several-services number, in the quote's country (as the
    catalogue lists it, or read now when ``fresh``); empty when one is not known."""
    assert options.country is not None
    parts = []
    for service in options.services:
        if fresh:
            price = await list_price(buy.account, options.country, service)
        else:
            offer = await buy.catalogue.offer(buy.account, service, options.country)
            price = offer.price if offer is not None else None
        if price is None:
            return []
        parts.append((service, price))
    return parts


async def show_options(
    target: CallbackQuery | Message,
    buy: BuyContext,
    *,
    price: Decimal | None = None,
    offers: bool | None = None,
) -> None:
    """The confirmation; its button carries an order token for exactly these options, paid
    by ``buy.account`` (named when the user has several).

    ``price``: the price just read at the provider, fresher than the catalogue's cache (a
    quote that was refused because the price rose is shown again at the new price);
    ``offers``: a button back to every account's offer (by default, when the draft names
    the paying account).
    """
    account, catalogue, locale = buy.account, buy.catalogue, buy.locale
    options = buy.draft.options()
    assert options.country is not None
    offer = await offer_of(catalogue, account, options)
    if offer is not None and price is not None:
        offer = replace(offer, price=price)
    if offer is None:
        await buy.save(BuyFlow.country)
        title = services_title(options.services or [options.service], locale)
        await show(target, *no_offer_here_view(title, place(options.country, locale)))
        return
    parts = await service_prices(buy, options, fresh=price is not None) if options.is_multi else []
    if parts:
        offer = replace(offer, price=sum((cost for _, cost in parts), Decimal(0)))
    operators = await catalogue.operators(account, options.country)
    balance = await account.client.get_balance()
    # With the user's own ceiling the provider enforces it (maxPrice, WRONG_MAX_PRICE);
    # without one, the price shown is checked before buying and also sent as maxPrice, so
    # the provider refuses a rise the check could not see.
    quoted = offer.price if options.max_price is None else None
    token = await buy.activation_service.draft(account, options, quoted)
    await buy.save(BuyFlow.options)
    payer = await buy.payer()
    if offers is None:
        offers = payer is not None and buy.draft.account_id is not None
    view = options_view(
        options,
        offer,
        balance,
        token,
        locale,
        parts=parts,
        operators=bool(operators),
        verification=account.supports(Feature.CALL_VERIFICATION),
        forward=account.supports(Feature.ADDITIONAL_SERVICE),
        payer=payer,
        offers=offers and payer is not None and not options.is_multi,
    )
    await show(target, *view)


@_on_button(BuyAction.OPERATORS)
async def operators_shown(query: CallbackQuery, buy: BuyContext) -> None:
    assert buy.draft.country is not None
    operators = await buy.catalogue.operators(buy.account, buy.draft.country)
    await buy.state.set_state(BuyFlow.options)
    await show(query, *operators_view(operators, buy.draft.operator))


@router.callback_query(BuyOperatorCallback.filter(), flags=step(Needs.COUNTRY))
async def operator_chosen(
    query: CallbackQuery,
    callback_data: BuyOperatorCallback,
    buy: BuyContext,
    callback_answer: CallbackAnswer,
) -> None:
    assert buy.draft.country is not None
    operator = callback_data.operator
    if operator and operator not in await buy.catalogue.operators(buy.account, buy.draft.country):
        alert(callback_answer, _("This operator is not offered here."))
        return
    buy.draft.operator = operator or None
    await show_options(query, buy)


@_on_button(BuyAction.MAX_PRICE)
async def max_price_asked(query: CallbackQuery, state: FSMContext) -> None:
    await state.set_state(BuyFlow.max_price)
    await show(query, *max_price_prompt())


@router.callback_query(BuyMaxPriceCallback.filter(), flags=step(Needs.COUNTRY))
async def max_price_offered(
    query: CallbackQuery, callback_data: BuyMaxPriceCallback, buy: BuyContext
) -> None:
    buy.draft.max_price = _rounded(callback_data.price)
    await show_options(query, buy)


@_on_button(BuyAction.MAX_PRICE_CLEAR)
async def max_price_cleared(query: CallbackQuery, buy: BuyContext) -> None:
    buy.draft.max_price = None
    await show_options(query, buy)


@_on_button(BuyAction.VERIFY, Feature.CALL_VERIFICATION)
async def verification_toggled(query: CallbackQuery, buy: BuyContext) -> None:
    buy.draft.verification = not buy.draft.verification
    await show_options(query, buy)


@_on_button(BuyAction.FORWARD, Feature.ADDITIONAL_SERVICE)
async def forwarding_toggled(query: CallbackQuery, buy: BuyContext) -> None:
    buy.draft.forward = not buy.draft.forward
    await show_options(query, buy)


def _dial(draft: BuyDraft) -> str:
    """The calling code of the draft's country, which every excluded prefix starts with."""
    info = country_info(draft.country) if draft.country is not None else None
    return info.dial if info is not None else ""


@_on_button(BuyAction.EXCLUDE)
async def exclusions_asked(query: CallbackQuery, state: FSMContext, buy: BuyContext) -> None:
    await state.set_state(BuyFlow.exclude)
    await show(query, *exclusions_prompt(_dial(buy.draft)))


@_on_button(BuyAction.EXCLUDE_CLEAR)
async def exclusions_cleared(query: CallbackQuery, buy: BuyContext) -> None:
    buy.draft.phone_exception = []
    await show_options(query, buy)


@_on_button(BuyAction.TO_OPTIONS)
async def back_to_options(query: CallbackQuery, buy: BuyContext) -> None:
    await show_options(query, buy)


# --- typed input ---


@router.message(BuyFlow.max_price, F.text, ~F.text.startswith("/"), flags=step(Needs.COUNTRY))
async def max_price_typed(message: Message, buy: BuyContext) -> None:
    assert message.text is not None
    price = _price(message.text)
    if price is None:
        await show(message, *max_price_prompt(retry=True))
        return
    buy.draft.max_price = price
    await show_options(message, buy)


@router.message(BuyFlow.exclude, F.text, ~F.text.startswith("/"), flags=step(Needs.COUNTRY))
async def exclusions_typed(message: Message, buy: BuyContext) -> None:
    assert message.text is not None
    prefixes = read_prefixes(message.text, _dial(buy.draft))
    if prefixes is None:
        await show(message, *exclusions_prompt(_dial(buy.draft), retry=True))
        return
    buy.draft.phone_exception = prefixes
    await show_options(message, buy)


@router.message(BuyFlow.options, F.text, ~F.text.startswith("/"))
async def options_typed(message: Message) -> None:
    await message.answer(_("Use the buttons above, or /cancel."))


def _rounded(price: Decimal) -> Decimal:
    return price.quantize(Decimal("0.0001")).normalize()


def _price(text: str) -> Decimal | None:
    try:
        price = Decimal(text.strip().replace(",", "."))
    except InvalidOperation:
        return None
    if not price.is_finite() or price <= 0 or price > MAX_PRICE_LIMIT:
        return None
    return _rounded(price)
