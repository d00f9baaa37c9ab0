"""Step 3 of /buy: the options of the purchase, and the confirmation that carries them."""

from __future__ import annotations

import re
from decimal import Decimal, InvalidOperation

from aiogram import F
from aiogram.fsm.context import FSMContext
from aiogram.types import CallbackQuery, Message
from aiogram.utils.callback_answer import CallbackAnswer
from aiogram.utils.i18n import gettext as _

from bot.accounts import UserAccount
from bot.handlers.buy.draft import BuyDraft, BuyFlow, Needs, save_draft, step
from bot.handlers.routes import Routes
from bot.handlers.unsettled import alert
from bot.keyboards.callbacks import (
    MAX_PRICE_LIMIT,
    BuyAction,
    BuyCallback,
    BuyMaxPriceCallback,
    BuyOperatorCallback,
)
from bot.provider.presets import Feature
from bot.services.activations import ActivationService
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

_PREFIX = re.compile(r"^\d{4,10}$")


async def offer_of(
    catalogue: CatalogueService, account: UserAccount, options: BuyOptions
) -> Offer | None:
    assert options.country is not None
    if options.is_multi:
        offers = await catalogue.multi_offers(account, options.services)
        return next((o for o in offers if o.country == options.country), None)
    return await catalogue.offer(account, options.service, options.country)


async def show_options(
    target: CallbackQuery | Message,
    state: FSMContext,
    draft: BuyDraft,
    account: UserAccount,
    catalogue: CatalogueService,
    activation_service: ActivationService,
    locale: str,
) -> None:
    """The confirmation; its button carries an order token for exactly these options."""
    options = draft.options()
    assert options.country is not None
    offer = await offer_of(catalogue, account, options)
    if offer is None:
        await save_draft(state, draft, BuyFlow.country)
        title = services_title(options.services or [options.service], locale)
        await show(target, *no_offer_here_view(title, place(options.country, locale)))
        return
    operators = await catalogue.operators(account, options.country)
    balance = await account.client.get_balance()
    token = await activation_service.draft(account, options, offer.price)
    await save_draft(state, draft, BuyFlow.options)
    view = options_view(
        options,
        offer,
        balance,
        token,
        locale,
        operators=bool(operators),
        verification=account.supports(Feature.CALL_VERIFICATION),
        forward=account.supports(Feature.ADDITIONAL_SERVICE),
    )
    await show(target, *view)


@router.callback_query(
    BuyCallback.filter(F.action == BuyAction.OPERATORS), flags=step(Needs.COUNTRY)
)
async def operators_shown(
    query: CallbackQuery,
    state: FSMContext,
    draft: BuyDraft,
    account: UserAccount,
    catalogue: CatalogueService,
) -> None:
    assert draft.country is not None
    operators = await catalogue.operators(account, draft.country)
    await state.set_state(BuyFlow.options)
    await show(query, *operators_view(operators, draft.operator))


@router.callback_query(BuyOperatorCallback.filter(), flags=step(Needs.COUNTRY))
async def operator_chosen(
    query: CallbackQuery,
    callback_data: BuyOperatorCallback,
    state: FSMContext,
    draft: BuyDraft,
    account: UserAccount,
    catalogue: CatalogueService,
    activation_service: ActivationService,
    locale: str,
    callback_answer: CallbackAnswer,
) -> None:
    assert draft.country is not None
    operator = callback_data.operator
    if operator and operator not in await catalogue.operators(account, draft.country):
        alert(callback_answer, _("This operator is not offered here."))
        return
    draft.operator = operator or None
    await show_options(query, state, draft, account, catalogue, activation_service, locale)


@router.callback_query(
    BuyCallback.filter(F.action == BuyAction.MAX_PRICE), flags=step(Needs.COUNTRY)
)
async def max_price_asked(query: CallbackQuery, state: FSMContext) -> None:
    await state.set_state(BuyFlow.max_price)
    await show(query, *max_price_prompt())


@router.callback_query(BuyMaxPriceCallback.filter(), flags=step(Needs.COUNTRY))
async def max_price_offered(
    query: CallbackQuery,
    callback_data: BuyMaxPriceCallback,
    state: FSMContext,
    draft: BuyDraft,
    account: UserAccount,
    catalogue: CatalogueService,
    activation_service: ActivationService,
    locale: str,
) -> None:
    draft.max_price = _rounded(callback_data.price)
    await show_options(query, state, draft, account, catalogue, activation_service, locale)


@router.callback_query(
    BuyCallback.filter(F.action == BuyAction.MAX_PRICE_CLEAR), flags=step(Needs.COUNTRY)
)
async def max_price_cleared(
    query: CallbackQuery,
    state: FSMContext,
    draft: BuyDraft,
    account: UserAccount,
    catalogue: CatalogueService,
    activation_service: ActivationService,
    locale: str,
) -> None:
    draft.max_price = None
    await show_options(query, state, draft, account, catalogue, activation_service, locale)


@router.callback_query(BuyCallback.filter(F.action == BuyAction.VERIFY), flags=step(Needs.COUNTRY))
async def verification_toggled(
    query: CallbackQuery,
    state: FSMContext,
    draft: BuyDraft,
    account: UserAccount,
    catalogue: CatalogueService,
    activation_service: ActivationService,
    locale: str,
    callback_answer: CallbackAnswer,
) -> None:
    if not account.supports(Feature.CALL_VERIFICATION):
        alert(callback_answer, _("This provider has no call verification."))
        return
    draft.verification = not draft.verification
    await show_options(query, state, draft, account, catalogue, activation_service, locale)


@router.callback_query(
    BuyCallback.filter(F.action == BuyAction.FORWARD), flags=step(Needs.COUNTRY)
)
async def forwarding_toggled(
    query: CallbackQuery,
    state: FSMContext,
    draft: BuyDraft,
    account: UserAccount,
    catalogue: CatalogueService,
    activation_service: ActivationService,
    locale: str,
    callback_answer: CallbackAnswer,
) -> None:
    if not account.supports(Feature.ADDITIONAL_SERVICE):
        alert(callback_answer, _("This provider has no call forwarding."))
        return
    draft.forward = not draft.forward
    await show_options(query, state, draft, account, catalogue, activation_service, locale)


@router.callback_query(
    BuyCallback.filter(F.action == BuyAction.EXCLUDE), flags=step(Needs.COUNTRY)
)
async def exclusions_asked(query: CallbackQuery, state: FSMContext) -> None:
    await state.set_state(BuyFlow.exclude)
    await show(query, *exclusions_prompt())


@router.callback_query(
    BuyCallback.filter(F.action == BuyAction.EXCLUDE_CLEAR), flags=step(Needs.COUNTRY)
)
async def exclusions_cleared(
    query: CallbackQuery,
    state: FSMContext,
    draft: BuyDraft,
    account: UserAccount,
    catalogue: CatalogueService,
    activation_service: ActivationService,
    locale: str,
) -> None:
    draft.phone_exception = []
    await show_options(query, state, draft, account, catalogue, activation_service, locale)


@router.callback_query(
    BuyCallback.filter(F.action == BuyAction.TO_OPTIONS), flags=step(Needs.COUNTRY)
)
async def back_to_options(
    query: CallbackQuery,
    state: FSMContext,
    draft: BuyDraft,
    account: UserAccount,
    catalogue: CatalogueService,
    activation_service: ActivationService,
    locale: str,
) -> None:
    await show_options(query, state, draft, account, catalogue, activation_service, locale)


# --- typed input ---


@router.message(BuyFlow.max_price, F.text, ~F.text.startswith("/"), flags=step(Needs.COUNTRY))
async def max_price_typed(
    message: Message,
    state: FSMContext,
    draft: BuyDraft,
    account: UserAccount,
    catalogue: CatalogueService,
    activation_service: ActivationService,
    locale: str,
) -> None:
    assert message.text is not None
    price = _price(message.text)
    if price is None:
        await show(message, *max_price_prompt(retry=True))
        return
    draft.max_price = price
    await show_options(message, state, draft, account, catalogue, activation_service, locale)


@router.message(BuyFlow.exclude, F.text, ~F.text.startswith("/"), flags=step(Needs.COUNTRY))
async def exclusions_typed(
    message: Message,
    state: FSMContext,
    draft: BuyDraft,
    account: UserAccount,
    catalogue: CatalogueService,
    activation_service: ActivationService,
    locale: str,
) -> None:
    assert message.text is not None
    prefixes = [p.strip().lstrip("+") for p in re.split(r"[,\s;]+", message.text) if p.strip()]
    if not prefixes or len(prefixes) > 20 or not all(_PREFIX.match(p) for p in prefixes):
        await show(message, *exclusions_prompt(retry=True))
        return
    draft.phone_exception = list(dict.fromkeys(prefixes))
    await show_options(message, state, draft, account, catalogue, activation_service, locale)


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
