"""Buying a number: service -> country -> options and confirmation -> the activation card.

One message is edited in place through the steps (a typed search answers with a new one).
Every value from a button is checked again here: callback data is never trusted.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any

from aiogram import F, Router
from aiogram.filters import Command, CommandObject
from aiogram.fsm.context import FSMContext
from aiogram.fsm.state import State, StatesGroup
from aiogram.types import CallbackQuery, Message
from aiogram.utils.i18n import I18n
from aiogram.utils.i18n import gettext as _

from bot.accounts import Accounts, UserAccount
from bot.catalogue import country as country_info
from bot.catalogue import search_services, service_name
from bot.catalogue.countries import COUNTRIES
from bot.handlers.unsettled import answer_unsettled
from bot.keyboards.buy import (
    OptionLabels,
    SortLabels,
    countries_keyboard,
    failure_keyboard,
    operators_keyboard,
    options_keyboard,
    prompt_keyboard,
    service_choices_keyboard,
    services_keyboard,
)
from bot.keyboards.callbacks import BuyAction, BuyCallback
from bot.provider import errors as pe
from bot.provider.presets import Feature
from bot.services.activations import ActivationService
from bot.services.catalogue import CatalogueService, Offer
from bot.services.checkout import Outcome
from bot.storage.activations import Activation, BuyOptions
from bot.telegram import edit_text, show
from bot.texts import describe_error, escape, money
from bot.views.activation import render_card

router = Router(name=__name__)

SERVICES_PER_PAGE = 12
MAX_MULTI = 5
COUNTRIES_PER_PAGE = 8
MAX_PRICE_LIMIT = Decimal("10000")
_PREFIX = re.compile(r"^\d{4,10}$")


class BuyFlow(StatesGroup):
    service = State()
    country = State()
    options = State()
    max_price = State()
    exclude = State()


Target = CallbackQuery | Message


@dataclass(frozen=True, slots=True)
class Flow:
    """Everything a step needs, gathered once per update."""

    state: FSMContext
    account: UserAccount
    accounts: Accounts
    catalogue: CatalogueService
    service: ActivationService
    locale: str


async def open_flow(
    user_id: int,
    state: FSMContext,
    accounts: Accounts,
    catalogue: CatalogueService,
    activation_service: ActivationService,
    i18n: I18n,
) -> Flow:
    account = await accounts.get(user_id)
    return Flow(state, account, accounts, catalogue, activation_service, i18n.current_locale)


def _pages(count: int, size: int) -> int:
    return max(1, math.ceil(count / size))


# --- step 1: the service ---


async def show_services(flow: Flow, target: Target, page: int = 0) -> None:
    state, locale = flow.state, flow.locale
    codes = await flow.catalogue.service_codes(flow.account)
    offered = set(codes)
    recent = [
        code
        for code in await flow.accounts.users.recent_services(flow.account.user_id)
        if code in offered
    ]
    ordered = recent + [code for code in codes if code not in recent]
    pages = _pages(len(ordered), SERVICES_PER_PAGE)
    page = min(max(page, 0), pages - 1)
    chunk = ordered[page * SERVICES_PER_PAGE : (page + 1) * SERVICES_PER_PAGE]
    data = await state.get_data()
    picked: list[str] | None = data.get("multi")
    items = [(code, _service_label(code, locale, recent, picked)) for code in chunk]
    await state.set_state(BuyFlow.service)
    await state.update_data(page=page)
    multi = done = None
    if flow.account.supports(Feature.MULTI_SERVICE):
        multi = (
            _("One service per number")
            if picked is not None
            else _("➕ Several services on one number")
        )
    if picked is not None:
        text = _("Pick the services for one number ({count} picked), then continue.").format(
            count=len(picked)
        )
        done = _("Continue with {count} services").format(count=len(picked))
    else:
        text = _("Choose a service, or type its name (for example: telegram).")
    await show(
        target,
        text,
        services_keyboard(items, page, pages, _("Cancel"), multi=multi, done=done),
    )


def _service_label(code: str, locale: str, recent: list[str], picked: list[str] | None) -> str:
    name = service_name(code, locale)
    if picked is not None:
        return ("☑ " if code in picked else "☐ ") + name
    return ("★ " if code in recent else "") + name


# --- step 2: the country ---


def _sort_offers(offers: list[Offer], sort: str, rates: dict[int, Decimal]) -> list[Offer]:
    if sort == "count":
        return sorted(offers, key=lambda o: (-o.count, o.price))
    if sort == "rate" and rates:
        return sorted(offers, key=lambda o: (-(rates.get(o.country) or Decimal(-1)), o.price))
    return sorted(offers, key=lambda o: (o.price, -o.count))


def _offer_label(offer: Offer, locale: str, rate: Decimal | None) -> str:
    info = country_info(offer.country)
    name = f"{info.flag} {info.name(locale)}" if info else f"#{offer.country}"
    label = f"{name} · {money(offer.price)} · {offer.count}"
    if rate is not None:
        label += f" · {rate.normalize():f}%"
    return label


async def show_countries(
    flow: Flow, target: Target, page: int = 0, only: list[Offer] | None = None
) -> None:
    state, account, catalogue, locale = flow.state, flow.account, flow.catalogue, flow.locale
    data = await state.get_data()
    service = data["service"]
    sort = data.get("sort", "price")
    picked: list[str] = data.get("multi") or []
    if only is not None:
        offers = only
    elif len(picked) > 1:
        offers = await catalogue.multi_offers(account, picked)
    else:
        offers = await catalogue.offers(account, service)
    names = [service_name(code, locale) for code in (picked if len(picked) > 1 else [service])]
    title = escape(", ".join(names))
    if not offers:
        await state.set_state(BuyFlow.service)
        await show(
            target,
            _(
                "No numbers for {service} at {provider} right now. Try another service later."
            ).format(service=title, provider=escape(account.preset.title)),
            service_choices_keyboard([], _("Services"), _("Cancel")),
        )
        return
    rates = await catalogue.rates(account, service) if sort == "rate" else {}
    ordered = _sort_offers(offers, sort, rates)
    pages = _pages(len(ordered), COUNTRIES_PER_PAGE)
    page = min(max(page, 0), pages - 1)
    chunk = ordered[page * COUNTRIES_PER_PAGE : (page + 1) * COUNTRIES_PER_PAGE]
    items = [
        (o.country, _offer_label(o, locale, rates.get(o.country) if sort == "rate" else None))
        for o in chunk
    ]
    sorts = SortLabels(
        price=_("Price"),
        count=_("Most numbers"),
        rate=_("Success rate") if account.supports(Feature.COUNTRY_RATES) else None,
    )
    await state.set_state(BuyFlow.country)
    await state.update_data(cpage=page)
    text = _("{service}: choose a country (price · numbers). Or type a country name.").format(
        service=f"<b>{title}</b>"
    )
    await show(
        target,
        text,
        countries_keyboard(items, page, pages, sort, sorts, _("Services"), _("Cancel")),
    )


# --- step 3: options and confirmation ---


async def _offer(flow: Flow, options: BuyOptions) -> Offer | None:
    assert options.country is not None
    if options.is_multi:
        offers = await flow.catalogue.multi_offers(flow.account, options.services)
        return next((o for o in offers if o.country == options.country), None)
    return await flow.catalogue.offer(flow.account, options.service, options.country)


def _options_from(data: dict[str, Any]) -> BuyOptions:
    max_price = data.get("max_price")
    services = [code for code in data.get("multi") or [] if isinstance(code, str)]
    if len(services) > 1:
        return BuyOptions(
            service=services[0],
            country=data.get("country"),
            operator=data.get("operator") or None,
            services=services,
        )
    return BuyOptions(
        service=data["service"],
        country=data.get("country"),
        operator=data.get("operator") or None,
        max_price=Decimal(max_price) if max_price else None,
        verification=bool(data.get("verify")),
        forward=bool(data.get("forward")),
        phone_exception=list(data.get("exclude") or []),
    )


async def show_options(flow: Flow, target: Target) -> None:
    state, account, catalogue, locale = flow.state, flow.account, flow.catalogue, flow.locale
    data = await state.get_data()
    options = _options_from(data)
    assert options.country is not None
    offer = await _offer(flow, options)
    info = country_info(options.country)
    place = f"{info.flag} {escape(info.name(locale))}" if info else f"#{options.country}"
    title = escape(
        ", ".join(service_name(code, locale) for code in options.services or [options.service])
    )
    if offer is None:
        await state.set_state(BuyFlow.country)
        await show(
            target,
            _("No numbers for {service} in {country} right now. Choose another country.").format(
                service=title, country=place
            ),
            failure_keyboard(_("Countries"), _("Cancel")),
        )
        return
    operators = await catalogue.operators(account, options.country)
    balance = await account.client.get_balance()
    price = options.max_price if options.max_price is not None else offer.price
    lines = [
        f"<b>{title}</b> · {place}",
        _("Price: {price} · {count} numbers").format(price=money(offer.price), count=offer.count),
    ]
    if options.max_price is not None:
        lines.append(_("You pay at most {price}.").format(price=money(options.max_price)))
    lines.append(
        _("Balance: {balance} → {after} after the purchase").format(
            balance=money(balance), after=money(balance - price)
        )
    )
    if balance < price:
        lines.append("⚠ " + _("Not enough money for this purchase: top up your balance first."))
    lines.append("")
    lines.append(_("Operator: {operator}").format(operator=escape(options.operator or _("any"))))
    if options.phone_exception:
        lines.append(
            _("Excluded prefixes: {prefixes}").format(prefixes=", ".join(options.phone_exception))
        )
    if options.verification:
        lines.append(_("The code comes as an incoming call."))
    if options.forward:
        lines.append(_("With call forwarding: more services can be added to this number later."))
    token = await flow.service.draft(account.user_id, options)
    forward = None
    if account.supports(Feature.ADDITIONAL_SERVICE) and not options.is_multi:
        forward = _("Call forwarding: on") if options.forward else _("Call forwarding: off")
    verification = None
    if account.supports(Feature.CALL_VERIFICATION) and not options.is_multi:
        verification = (
            _("Call instead of SMS: on") if options.verification else _("Call instead of SMS: off")
        )
    labels = OptionLabels(
        operator=_("Operator: {operator}").format(operator=options.operator or _("any"))
        if operators
        else None,
        # getMultiServiceNumber takes no maxPrice and no exclusions.
        max_price=None
        if options.is_multi
        else _("Max price: {price}").format(price=money(options.max_price))
        if options.max_price is not None
        else _("Set a max price"),
        clear_max_price=_("Remove max price") if options.max_price is not None else None,
        verification=verification,
        forward=forward,
        exclude=None if options.is_multi else _("Exclude prefixes"),
        clear_exclude=_("Remove exclusions") if options.phone_exception else None,
        buy=_("Buy for {price}").format(price=money(price)),
        back=_("Countries"),
        cancel=_("Cancel"),
    )
    await state.set_state(BuyFlow.options)
    await show(target, "\n".join(lines), options_keyboard(labels, token))


# --- entry points ---


@router.message(Command("buy"))
async def buy_command(
    message: Message,
    command: CommandObject,
    state: FSMContext,
    accounts: Accounts,
    catalogue: CatalogueService,
    activation_service: ActivationService,
    i18n: I18n,
) -> None:
    flow = await open_flow(message.chat.id, state, accounts, catalogue, activation_service, i18n)
    await state.clear()
    args = (command.args or "").split()
    if not args:
        await show_services(flow, message)
        return
    code = args[0].lower()
    if not await catalogue.is_service(flow.account, code):
        matches = search_services(args[0], flow.locale)
        if len(matches) != 1:
            await message.answer(
                _("I do not know the service {service}. Try /buy without arguments.").format(
                    service=f"<code>{escape(args[0][:50])}</code>"
                )
            )
            return
        code = matches[0].code
    await state.update_data(service=code)
    if len(args) < 2:
        await show_countries(flow, message)
        return
    try:
        country_id = int(args[1])
    except ValueError:
        await message.answer(_("The country is a number, for example /buy tg 6 (6 is Indonesia)."))
        return
    if country_id not in COUNTRIES:
        # Quoted as typed and cut short: the number may be thousands of digits long.
        await message.answer(_("There is no country number {id}.").format(id=escape(args[1][:12])))
        return
    await state.update_data(country=country_id)
    await show_options(flow, message)


@router.callback_query(BuyCallback.filter(F.action == BuyAction.CANCEL))
async def buy_cancel(query: CallbackQuery, state: FSMContext) -> None:
    await state.clear()
    await query.answer(_("Cancelled."))
    if isinstance(query.message, Message):
        await edit_text(query.message, _("Purchase cancelled. /buy starts again."))


@router.callback_query(BuyCallback.filter())
async def buy_step(
    query: CallbackQuery,
    callback_data: BuyCallback,
    state: FSMContext,
    accounts: Accounts,
    catalogue: CatalogueService,
    activation_service: ActivationService,
    i18n: I18n,
) -> None:
    flow = await open_flow(
        query.from_user.id, state, accounts, catalogue, activation_service, i18n
    )
    action, value = callback_data.action, callback_data.value
    data = await state.get_data()
    if action is BuyAction.CONFIRM:
        purchase = await activation_service.buy(flow.account, value)
        await show_purchase(flow, query, purchase)
        return
    needs_service = action not in {
        BuyAction.SERVICE,
        BuyAction.SERVICE_PAGE,
        BuyAction.TO_SERVICES,
        BuyAction.MULTI,
        BuyAction.MULTI_DONE,
    }
    if needs_service and "service" not in data:
        await query.answer(_("This menu is out of date. Start again with /buy."), show_alert=True)
        return
    match action:
        case BuyAction.SERVICE_PAGE | BuyAction.TO_SERVICES:
            await show_services(flow, query, _int(value))
        case BuyAction.MULTI:
            if not flow.account.supports(Feature.MULTI_SERVICE):
                await query.answer(
                    _("This provider sells one service per number."), show_alert=True
                )
                return
            await state.update_data(multi=None if data.get("multi") is not None else [])
            await show_services(flow, query, data.get("page", 0))
        case BuyAction.MULTI_DONE:
            picked = data.get("multi") or []
            if len(picked) < 2:
                await query.answer(_("Pick at least two services."), show_alert=True)
                return
            await state.update_data(service=picked[0], sort="price", country=None)
            await show_countries(flow, query)
        case BuyAction.SERVICE:
            if not await catalogue.is_service(flow.account, value):
                await query.answer(_("This service is not offered."), show_alert=True)
                return
            picked = data.get("multi")
            if picked is not None:
                picked = [c for c in picked if c != value] if value in picked else [*picked, value]
                if len(picked) > MAX_MULTI:
                    await query.answer(
                        _("At most {count} services on one number.").format(count=MAX_MULTI),
                        show_alert=True,
                    )
                    return
                await state.update_data(multi=picked)
                await show_services(flow, query, data.get("page", 0))
                await query.answer()
                return
            await state.update_data(service=value, sort="price", country=None)
            await show_countries(flow, query)
        case BuyAction.COUNTRY_PAGE | BuyAction.TO_COUNTRIES:
            await show_countries(flow, query, _int(value))
        case BuyAction.SORT:
            if value not in {"price", "count", "rate"}:
                await query.answer()
                return
            await state.update_data(sort=value)
            await show_countries(flow, query)
        case BuyAction.COUNTRY:
            country_id = _int(value, -1)
            options = _options_from({**data, "country": country_id})
            if await _offer(flow, options) is None:
                await query.answer(_("No numbers in this country right now."), show_alert=True)
                return
            await state.update_data(country=country_id, operator=None)
            await show_options(flow, query)
        case _:
            if data.get("country") is None:
                await query.answer(
                    _("This menu is out of date. Start again with /buy."), show_alert=True
                )
                return
            await option_step(flow, query, action, value)
            return
    await query.answer()


async def option_step(flow: Flow, query: CallbackQuery, action: BuyAction, value: str) -> None:
    state, account, catalogue = flow.state, flow.account, flow.catalogue
    data = await state.get_data()
    match action:
        case BuyAction.OPERATORS:
            operators = await catalogue.operators(account, data["country"])
            await state.set_state(BuyFlow.options)
            await show(
                query,
                _("Choose the operator:"),
                operators_keyboard(operators, data.get("operator"), _("any"), _("Back")),
            )
            await query.answer()
            return
        case BuyAction.OPERATOR:
            operators = await catalogue.operators(account, data["country"])
            if value and value not in operators:
                await query.answer(_("This operator is not offered here."), show_alert=True)
                return
            await state.update_data(operator=value or None)
        case BuyAction.MAX_PRICE:
            await state.set_state(BuyFlow.max_price)
            await show(
                query,
                _(
                    "Send the most you are willing to pay for one number, for example 0.25. "
                    "A higher price finds numbers faster (Free Price)."
                ),
                prompt_keyboard(_("Back")),
            )
            await query.answer()
            return
        case BuyAction.MAX_PRICE_SET:
            price = _price(value)
            if price is None:
                await query.answer(_("This button is out of date."), show_alert=True)
                return
            await state.update_data(max_price=str(price))
        case BuyAction.MAX_PRICE_CLEAR:
            await state.update_data(max_price=None)
        case BuyAction.VERIFY:
            if not account.supports(Feature.CALL_VERIFICATION):
                await query.answer(_("This provider has no call verification."), show_alert=True)
                return
            await state.update_data(verify=not data.get("verify"))
        case BuyAction.FORWARD:
            if not account.supports(Feature.ADDITIONAL_SERVICE):
                await query.answer(_("This provider has no call forwarding."), show_alert=True)
                return
            await state.update_data(forward=not data.get("forward"))
        case BuyAction.EXCLUDE:
            await state.set_state(BuyFlow.exclude)
            await show(
                query,
                _(
                    "Send the number prefixes you do not want, separated by commas: the country "
                    "code and 3 to 6 more digits, for example 7918,7900111."
                ),
                prompt_keyboard(_("Back")),
            )
            await query.answer()
            return
        case BuyAction.EXCLUDE_CLEAR:
            await state.update_data(exclude=[])
        case BuyAction.TO_OPTIONS:
            pass
    await show_options(flow, query)
    await query.answer()


async def show_purchase(flow: Flow, query: CallbackQuery, purchase: Outcome[Activation]) -> None:
    state, account, service, locale = flow.state, flow.account, flow.service, flow.locale
    message = query.message if isinstance(query.message, Message) else None
    if await answer_unsettled(
        query,
        state,
        purchase,
        expired=_("This confirmation is out of date. Start again with /buy."),
        unknown=_(
            "{provider} did not confirm the purchase, and no new number shows in your active "
            "list. Most likely nothing was bought: check /active in a minute before trying again."
        ).format(provider=escape(account.preset.title)),
    ):
        return
    if purchase.error is not None or purchase.item is None:
        error = purchase.error or pe.MalformedResponse("no activation", "")
        min_price = None
        if isinstance(error, pe.WrongMaxPrice) and error.min_price is not None:
            min_price = (
                _("Set max price to {price}").format(price=money(error.min_price)),
                format(error.min_price, "f"),
            )
        await query.answer()
        if message is not None:
            await edit_text(
                message,
                describe_error(error, account.preset.title),
                failure_keyboard(_("Countries"), _("Cancel"), min_price),
            )
        return
    activation = purchase.item
    await state.clear()
    note = None
    if purchase.already:
        note = _("Already bought: here it is.")
    elif purchase.recovered:
        note = _("The answer was lost on the way, but the number is yours: here it is.")
    await query.answer(note or _("Bought!"))
    if message is None:
        return
    group = await service.activations.with_group(activation)
    await edit_text(
        message,
        *render_card(
            group,
            locale,
            ready_status=account.supports(Feature.READY_STATUS),
            extra=account.supports(Feature.EXTRA_ACTIVATION),
            now=service.clock(),
        ),
    )
    if activation.card_message_id != message.message_id:
        await service.set_card(activation.ref, message.message_id)


# --- typed input ---


@router.message(BuyFlow.service, F.text, ~F.text.startswith("/"))
async def service_typed(
    message: Message,
    state: FSMContext,
    accounts: Accounts,
    catalogue: CatalogueService,
    activation_service: ActivationService,
    i18n: I18n,
) -> None:
    assert message.text is not None
    flow = await open_flow(message.chat.id, state, accounts, catalogue, activation_service, i18n)
    locale = flow.locale
    offered = set(await catalogue.service_codes(flow.account))
    matches = [s for s in search_services(message.text, locale) if s.code in offered]
    if len(matches) == 1:
        await state.update_data(service=matches[0].code, sort="price", country=None)
        await show_countries(flow, message)
        return
    if not matches:
        await message.answer(
            _("Nothing found for “{query}”. Try another name, or pick from the list.").format(
                query=escape(message.text[:50])
            ),
            reply_markup=service_choices_keyboard([], _("Services"), _("Cancel")),
        )
        return
    items = [(s.code, s.name(locale)) for s in matches[:12]]
    await message.answer(
        _("Which one?"), reply_markup=service_choices_keyboard(items, _("Services"), _("Cancel"))
    )


@router.message(BuyFlow.country, F.text, ~F.text.startswith("/"))
async def country_typed(
    message: Message,
    state: FSMContext,
    accounts: Accounts,
    catalogue: CatalogueService,
    activation_service: ActivationService,
    i18n: I18n,
) -> None:
    assert message.text is not None
    flow = await open_flow(message.chat.id, state, accounts, catalogue, activation_service, i18n)
    data = await state.get_data()
    query = message.text.strip().lower()
    offers = await catalogue.offers(flow.account, data["service"])
    found = []
    for offer in offers:
        info = country_info(offer.country)
        if info is None:
            continue
        names = (info.en.lower(), info.ru.lower(), info.iso.lower())
        if any(name.startswith(query) or (len(query) > 2 and query in name) for name in names):
            found.append(offer)
    if not found:
        await message.answer(
            _("No country with numbers matches “{query}”.").format(query=escape(message.text[:50]))
        )
        return
    if len(found) == 1:
        await state.update_data(country=found[0].country, operator=None)
        await show_options(flow, message)
        return
    await show_countries(flow, message, only=found)


@router.message(BuyFlow.max_price, F.text, ~F.text.startswith("/"))
async def max_price_typed(
    message: Message,
    state: FSMContext,
    accounts: Accounts,
    catalogue: CatalogueService,
    activation_service: ActivationService,
    i18n: I18n,
) -> None:
    assert message.text is not None
    price = _price(message.text)
    if price is None:
        await message.answer(
            _("That is not a price. Send a number like 0.25, or /cancel."),
            reply_markup=prompt_keyboard(_("Back")),
        )
        return
    flow = await open_flow(message.chat.id, state, accounts, catalogue, activation_service, i18n)
    await state.update_data(max_price=str(price))
    await show_options(flow, message)


@router.message(BuyFlow.exclude, F.text, ~F.text.startswith("/"))
async def exclude_typed(
    message: Message,
    state: FSMContext,
    accounts: Accounts,
    catalogue: CatalogueService,
    activation_service: ActivationService,
    i18n: I18n,
) -> None:
    assert message.text is not None
    prefixes = [p.strip().lstrip("+") for p in re.split(r"[,\s;]+", message.text) if p.strip()]
    if not prefixes or len(prefixes) > 20 or not all(_PREFIX.match(p) for p in prefixes):
        await message.answer(
            _(
                "Send up to 20 prefixes of 4 to 10 digits, separated by commas, for example "
                "7918,7900111; or /cancel."
            ),
            reply_markup=prompt_keyboard(_("Back")),
        )
        return
    flow = await open_flow(message.chat.id, state, accounts, catalogue, activation_service, i18n)
    await state.update_data(exclude=list(dict.fromkeys(prefixes)))
    await show_options(flow, message)


@router.message(BuyFlow.options, F.text, ~F.text.startswith("/"))
async def options_typed(message: Message) -> None:
    await message.answer(_("Use the buttons above, or /cancel."))


def _int(value: str, default: int = 0) -> int:
    try:
        return int(value)
    except ValueError:
        return default


def _price(text: str) -> Decimal | None:
    try:
        price = Decimal(text.strip().replace(",", "."))
    except InvalidOperation:
        return None
    if not price.is_finite() or price <= 0 or price > MAX_PRICE_LIMIT:
        return None
    return price.quantize(Decimal("0.0001")).normalize()
