"""Renting a number: duration -> country -> service -> confirmation -> the rent card.

Also the card's buttons (finish, cancel, extend, refresh), the extension dialog and /rents.
One message is edited in place through the steps. A button names a rent by id; it is looked up
only among the presser's own rents, before anything is asked of the provider.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from aiogram import Bot, F, Router
from aiogram.exceptions import TelegramBadRequest
from aiogram.filters import Command, CommandObject
from aiogram.fsm.context import FSMContext
from aiogram.fsm.state import State, StatesGroup
from aiogram.types import CallbackQuery, InlineKeyboardMarkup, Message
from aiogram.utils.i18n import I18n
from aiogram.utils.i18n import gettext as _

from bot.accounts import Accounts, UserAccount
from bot.catalogue import country as country_info
from bot.catalogue import service_name
from bot.handlers.unsettled import answer_unsettled
from bot.keyboards.callbacks import (
    RentBuyAction,
    RentBuyCallback,
    RentCallback,
    RentCardAction,
    RentExtendAction,
    RentExtendCallback,
)
from bot.keyboards.rent import (
    ConfirmLabels,
    confirm_keyboard,
    countries_keyboard,
    durations_keyboard,
    extend_confirm_keyboard,
    extend_durations_keyboard,
    max_hours_keyboard,
    operators_keyboard,
    rents_keyboard,
    retry_keyboard,
    services_keyboard,
)
from bot.provider import errors as pe
from bot.provider.presets import Feature
from bot.services.checkout import Outcome
from bot.services.rent_rules import CANCEL_WINDOW, MAX_HOURS, MIN_HOURS, RentMenu, can_extend
from bot.services.rents import RentService
from bot.storage.rents import Rent, RentOptions, RentState
from bot.telegram import edit_text, is_harmless, show
from bot.texts import describe_error, escape, money
from bot.views.rent import card_markup, card_text, duration_label, service_label, utc_time

router = Router(name=__name__)

COUNTRIES_PER_PAGE = 10
SERVICES_PER_PAGE = 8
LIST_LIMIT = 30


class RentFlow(StatesGroup):
    duration = State()
    country = State()
    service = State()
    confirm = State()
    extend = State()


Target = CallbackQuery | Message


@dataclass(frozen=True, slots=True)
class Dialog:
    """Everything a step needs, gathered once per update."""

    state: FSMContext
    account: UserAccount
    service: RentService
    locale: str

    @property
    def provider(self) -> str:
        return escape(self.account.preset.title)


async def open_dialog(
    user_id: int, state: FSMContext, accounts: Accounts, rent_service: RentService, i18n: I18n
) -> Dialog:
    account = await accounts.get(user_id)
    return Dialog(state, account, rent_service, i18n.current_locale)


def _pages(count: int, size: int) -> int:
    return max(1, math.ceil(count / size))


def _country_label(country_id: int, locale: str) -> str:
    info = country_info(country_id)
    return f"{info.flag} {info.name(locale)}" if info else f"#{country_id}"


def _parse_hours(text: str) -> int | None:
    value = text.strip()
    return int(value) if value.isdecimal() and len(value) <= 6 else None


def _hours_problem(text: str) -> str | None:
    """Why typed hours cannot be used, or None when they can."""
    hours = _parse_hours(text)
    if hours is None:
        return _(
            "That is not a number of hours. Send a whole number from {low} to {high}, or /cancel."
        ).format(low=MIN_HOURS, high=MAX_HOURS)
    if not MIN_HOURS <= hours <= MAX_HOURS:
        return _("A rent lasts {low} to {high} hours. Send a number in that range.").format(
            low=MIN_HOURS, high=MAX_HOURS
        )
    return None


def _not_offered(dialog: Dialog) -> str:
    return _("{provider} does not rent numbers. /buy works with it.").format(
        provider=dialog.provider
    )


# --- step 1: the duration ---


async def show_durations(dialog: Dialog, target: Target) -> None:
    hours = await dialog.service.durations(dialog.account)
    lines = [
        _(
            "Rent a number: for how long? Choose, or type a number of hours ({low} to {high})."
        ).format(low=MIN_HOURS, high=MAX_HOURS)
    ]
    if not hours:
        lines.append(
            _("{provider} accepts none of the usual durations right now.").format(
                provider=dialog.provider
            )
        )
    await dialog.state.set_state(RentFlow.duration)
    await show(
        target,
        "\n".join(lines),
        durations_keyboard([(h, duration_label(h)) for h in hours], _("Cancel")),
    )


async def choose_duration(dialog: Dialog, target: Target, hours: int) -> bool:
    """Go on to the countries; False (with the reason told) when the provider refuses."""
    try:
        await dialog.service.menu(dialog.account, hours)
    except pe.InvalidTime:
        text = _("{provider} does not rent for {duration}. Choose one of the durations.").format(
            provider=dialog.provider, duration=duration_label(hours)
        )
        if isinstance(target, CallbackQuery):
            await target.answer(text, show_alert=True)
        else:
            await target.answer(text)
        return False
    await dialog.state.update_data(hours=hours, country=None, service=None, operator=None)
    await show_countries(dialog, target)
    return True


# --- step 2: the country ---


async def show_countries(dialog: Dialog, target: Target, page: int = 0) -> None:
    data = await dialog.state.get_data()
    hours = int(data["hours"])
    menu = await dialog.service.menu(dialog.account, hours)
    pages = _pages(len(menu.countries), COUNTRIES_PER_PAGE)
    page = min(max(page, 0), pages - 1)
    chunk = menu.countries[page * COUNTRIES_PER_PAGE : (page + 1) * COUNTRIES_PER_PAGE]
    items = [(c, _country_label(c, dialog.locale)) for c in chunk]
    await dialog.state.set_state(RentFlow.country)
    await dialog.state.update_data(cpage=page)
    text = _("{duration}: choose the country, or type its name.").format(
        duration=f"<b>{duration_label(hours)}</b>"
    )
    await show(
        target,
        text,
        countries_keyboard(items, page, pages, _("Duration"), _("Cancel")),
    )


# --- step 3: the service ---


def _choice_label(code: str, menu: RentMenu, locale: str) -> str:
    choice = menu.choice(code)
    assert choice is not None
    return f"{service_name(code, locale)} · {money(choice.price)} · {choice.count}"


async def show_services(dialog: Dialog, target: Target, page: int = 0) -> None:
    data = await dialog.state.get_data()
    hours, country_id = int(data["hours"]), int(data["country"])
    menu = await dialog.service.menu(dialog.account, hours, country_id)
    place = escape(_country_label(country_id, dialog.locale))
    if not menu.choices:
        await dialog.state.set_state(RentFlow.country)
        text = _(
            "No numbers for rent in {country} for {duration} right now. Choose another country."
        ).format(country=place, duration=duration_label(hours))
        await show(target, text, retry_keyboard(_("Countries"), _("Cancel")))
        return
    codes = [choice.service for choice in menu.choices]
    pages = _pages(len(codes), SERVICES_PER_PAGE)
    page = min(max(page, 0), pages - 1)
    chunk = codes[page * SERVICES_PER_PAGE : (page + 1) * SERVICES_PER_PAGE]
    items = [(code, _choice_label(code, menu, dialog.locale)) for code in chunk]
    await dialog.state.set_state(RentFlow.service)
    await dialog.state.update_data(spage=page)
    text = "\n".join(
        [
            _("{country} · {duration}: choose the service (price · numbers).").format(
                country=place, duration=f"<b>{duration_label(hours)}</b>"
            ),
            _("“Whole number” receives SMS from any service."),
        ]
    )
    await show(
        target,
        text,
        services_keyboard(items, page, pages, _("Countries"), _("Cancel")),
    )


# --- step 4: confirmation ---


async def show_confirm(dialog: Dialog, target: Target) -> None:
    state, account = dialog.state, dialog.account
    data = await state.get_data()
    hours, country_id, code = int(data["hours"]), int(data["country"]), str(data["service"])
    operator = data.get("operator") or None
    menu = await dialog.service.menu(account, hours, country_id)
    choice = menu.choice(code)
    if choice is None:
        await show_services(dialog, target)
        return
    balance = await account.client.get_balance()
    lines = [
        f"<b>{escape(service_name(code, dialog.locale))}</b> · "
        f"{escape(_country_label(country_id, dialog.locale))}",
        _("Duration: {duration}").format(duration=duration_label(hours)),
        _("Price: {price} · {count} numbers").format(
            price=money(choice.price), count=choice.count
        ),
        _("Balance: {balance} → {after} after the purchase").format(
            balance=money(balance), after=money(balance - choice.price)
        ),
    ]
    if balance < choice.price:
        lines.append("⚠ " + _("Not enough money for this purchase: top up your balance first."))
    if menu.operators:
        lines.append(_("Operator: {operator}").format(operator=escape(operator or _("any"))))
    lines.append(
        _("You can cancel with a refund in the first {minutes} minutes.").format(
            minutes=int(CANCEL_WINDOW // 60)
        )
    )
    options = RentOptions(
        service=code, country=country_id, hours=hours, operator=operator, price=choice.price
    )
    token = await dialog.service.draft(account.user_id, options)
    labels = ConfirmLabels(
        rent=_("Rent for {price}").format(price=money(choice.price)),
        operator=_("Operator: {operator}").format(operator=operator or _("any"))
        if menu.operators
        else None,
        back=_("Services"),
        cancel=_("Cancel"),
    )
    await state.set_state(RentFlow.confirm)
    await show(target, "\n".join(lines), confirm_keyboard(labels, token))


async def show_rented(dialog: Dialog, query: CallbackQuery, result: Outcome[Rent]) -> None:
    message = query.message if isinstance(query.message, Message) else None
    if await answer_unsettled(
        query,
        dialog.state,
        result,
        expired=_("This confirmation is out of date. Start again with /rent."),
        unknown=_(
            "{provider} did not confirm the rent, and no new number shows in your rent list. "
            "Most likely nothing was rented: check /rents in a minute before trying again."
        ).format(provider=dialog.provider),
    ):
        return
    rent = result.item
    if result.error is not None or rent is None:
        error = result.error or pe.MalformedResponse("no rent", "")
        await query.answer()
        if message is not None:
            await edit_text(
                message,
                describe_error(error, dialog.account.preset.title),
                retry_keyboard(_("Services"), _("Cancel")),
            )
        return
    await dialog.state.clear()
    note = _("Rented!")
    if result.already:
        note = _("Already bought: here it is.")
    elif result.recovered:
        note = _("The answer was lost on the way, but the number is yours: here it is.")
    await query.answer(note)
    if message is None:
        return
    now = dialog.service.clock()
    await edit_text(message, card_text(rent, dialog.locale, now), card_markup(rent, now))
    if rent.card_message_id != message.message_id:
        await dialog.service.set_card(rent.ref, message.message_id)


# --- entry points and the flow's buttons ---


@router.message(Command("rent"))
async def rent_command(
    message: Message,
    command: CommandObject,
    state: FSMContext,
    accounts: Accounts,
    rent_service: RentService,
    i18n: I18n,
) -> None:
    dialog = await open_dialog(message.chat.id, state, accounts, rent_service, i18n)
    await state.clear()
    if not dialog.account.supports(Feature.RENT):
        await message.answer(_not_offered(dialog))
        return
    args = (command.args or "").strip()
    if not args:
        await show_durations(dialog, message)
        return
    problem = _hours_problem(args)
    if problem is not None:
        await message.answer(problem)
        return
    hours = _parse_hours(args)
    assert hours is not None
    if not await choose_duration(dialog, message, hours):
        await show_durations(dialog, message)


@router.callback_query(RentBuyCallback.filter(F.action == RentBuyAction.CANCEL))
async def rent_cancel(query: CallbackQuery, state: FSMContext) -> None:
    await state.clear()
    await query.answer(_("Cancelled."))
    if isinstance(query.message, Message):
        await edit_text(query.message, _("Nothing was rented. /rent starts again."))


_NEEDS = {
    RentBuyAction.COUNTRY: "hours",
    RentBuyAction.COUNTRY_PAGE: "hours",
    RentBuyAction.TO_COUNTRIES: "hours",
    RentBuyAction.SERVICE: "country",
    RentBuyAction.SERVICE_PAGE: "country",
    RentBuyAction.TO_SERVICES: "country",
    RentBuyAction.OPERATORS: "service",
    RentBuyAction.OPERATOR: "service",
    RentBuyAction.TO_CONFIRM: "service",
}


@router.callback_query(RentBuyCallback.filter())
async def rent_step(
    query: CallbackQuery,
    callback_data: RentBuyCallback,
    state: FSMContext,
    accounts: Accounts,
    rent_service: RentService,
    i18n: I18n,
) -> None:
    dialog = await open_dialog(query.from_user.id, state, accounts, rent_service, i18n)
    action, value = callback_data.action, callback_data.value
    if action is RentBuyAction.CONFIRM:
        await show_rented(dialog, query, await rent_service.buy(dialog.account, value))
        return
    data = await state.get_data()
    needed = _NEEDS.get(action)
    if needed is not None and data.get(needed) is None:
        await query.answer(_("This menu is out of date. Start again with /rent."), show_alert=True)
        return
    match action:
        case RentBuyAction.TO_DURATIONS:
            await show_durations(dialog, query)
        case RentBuyAction.DURATION:
            hours = _int(value)
            if hours not in await rent_service.durations(dialog.account):
                await query.answer(_("This duration is not offered."), show_alert=True)
                return
            if not await choose_duration(dialog, query, hours):
                return
        case RentBuyAction.COUNTRY_PAGE | RentBuyAction.TO_COUNTRIES:
            await show_countries(dialog, query, _int(value))
        case RentBuyAction.COUNTRY:
            country_id = _int(value, -1)
            menu = await rent_service.menu(dialog.account, int(data["hours"]))
            if country_id not in menu.countries:
                await query.answer(_("This country is not offered for rent."), show_alert=True)
                return
            await state.update_data(country=country_id, service=None, operator=None)
            await show_services(dialog, query)
        case RentBuyAction.SERVICE_PAGE | RentBuyAction.TO_SERVICES:
            await show_services(dialog, query, _int(value))
        case RentBuyAction.SERVICE:
            menu = await rent_service.menu(dialog.account, data["hours"], data["country"])
            if menu.choice(value) is None:
                await query.answer(_("This service is not offered here."), show_alert=True)
                return
            await state.update_data(service=value, operator=None)
            await show_confirm(dialog, query)
        case _:
            await operator_step(dialog, query, action, value)
            return
    await query.answer()


async def operator_step(
    dialog: Dialog, query: CallbackQuery, action: RentBuyAction, value: str
) -> None:
    data = await dialog.state.get_data()
    menu = await dialog.service.menu(dialog.account, data["hours"], data["country"])
    if action is RentBuyAction.OPERATORS:
        await show(
            query,
            _("Choose the operator:"),
            operators_keyboard(menu.operators, data.get("operator"), _("any"), _("Back")),
        )
        await query.answer()
        return
    if action is RentBuyAction.OPERATOR:
        if value and value not in menu.operators:
            await query.answer(_("This operator is not offered here."), show_alert=True)
            return
        await dialog.state.update_data(operator=value or None)
    await show_confirm(dialog, query)
    await query.answer()


def _int(value: str, default: int = 0) -> int:
    try:
        return int(value)
    except ValueError:
        return default


# --- typed input in the flow ---


@router.message(RentFlow.duration, F.text, ~F.text.startswith("/"))
async def duration_typed(
    message: Message,
    state: FSMContext,
    accounts: Accounts,
    rent_service: RentService,
    i18n: I18n,
) -> None:
    assert message.text is not None
    problem = _hours_problem(message.text)
    if problem is not None:
        await message.answer(problem)
        return
    hours = _parse_hours(message.text)
    assert hours is not None
    dialog = await open_dialog(message.chat.id, state, accounts, rent_service, i18n)
    await choose_duration(dialog, message, hours)


@router.message(RentFlow.country, F.text, ~F.text.startswith("/"))
async def country_typed(
    message: Message,
    state: FSMContext,
    accounts: Accounts,
    rent_service: RentService,
    i18n: I18n,
) -> None:
    assert message.text is not None
    dialog = await open_dialog(message.chat.id, state, accounts, rent_service, i18n)
    data = await state.get_data()
    query = message.text.strip().lower()
    menu = await rent_service.menu(dialog.account, int(data["hours"]))
    found = []
    for country_id in menu.countries:
        info = country_info(country_id)
        names = (info.en.lower(), info.ru.lower(), info.iso.lower()) if info else ()
        if any(name.startswith(query) or (len(query) > 2 and query in name) for name in names):
            found.append(country_id)
    if len(found) != 1:
        await message.answer(
            _("No single rent country matches “{query}”. Pick one from the list.").format(
                query=escape(message.text[:50])
            )
        )
        return
    await state.update_data(country=found[0], service=None, operator=None)
    await show_services(dialog, message)


@router.message(RentFlow.service, F.text, ~F.text.startswith("/"))
@router.message(RentFlow.confirm, F.text, ~F.text.startswith("/"))
async def buttons_expected(message: Message) -> None:
    await message.answer(_("Use the buttons above, or /cancel."))


# --- the card ---


async def _own_rent(query: CallbackQuery, rent_id: int, service: RentService) -> Rent | None:
    rent = await service.rents.find(query.from_user.id, rent_id)
    if rent is None:
        # Not this user's (forged) or long forgotten: nothing is asked of the provider.
        await query.answer(_("This is not one of your numbers."), show_alert=True)
    return rent


async def _account_for(query: CallbackQuery, rent: Rent, accounts: Accounts) -> UserAccount | None:
    account = await accounts.get(query.from_user.id)
    if account.provider != rent.provider:
        await query.answer(
            _("This number was bought with another provider account."), show_alert=True
        )
        return None
    return account


async def show_card(message: Message, rent: Rent, service: RentService, locale: str) -> None:
    now = service.clock()
    await edit_text(message, card_text(rent, locale, now), card_markup(rent, now))


async def redraw_card(bot: Bot, rent: Rent, service: RentService, locale: str) -> None:
    """Edit the rent's card wherever it is (the extension dialog is another message)."""
    if rent.card_message_id is None:
        return
    now = service.clock()
    try:
        await bot.edit_message_text(
            text=card_text(rent, locale, now),
            chat_id=rent.user_id,
            message_id=rent.card_message_id,
            reply_markup=card_markup(rent, now),
        )
    except TelegramBadRequest as error:
        if not is_harmless(error):
            raise


@router.callback_query(RentCallback.filter())
async def card_button(
    query: CallbackQuery,
    callback_data: RentCallback,
    state: FSMContext,
    accounts: Accounts,
    rent_service: RentService,
    i18n: I18n,
) -> None:
    rent = await _own_rent(query, callback_data.id, rent_service)
    if rent is None:
        return
    account = await _account_for(query, rent, accounts)
    if account is None:
        return
    locale = i18n.current_locale
    message = query.message if isinstance(query.message, Message) else None
    match callback_data.action:
        case RentCardAction.FINISH | RentCardAction.CANCEL:
            await _close(query, message, rent, account, rent_service, locale, callback_data.action)
        case RentCardAction.REFRESH:
            updated = await rent_service.refresh(account, rent)
            await query.answer(_("Updated."))
            if message is not None:
                await show_card(message, updated, rent_service, locale)
        case RentCardAction.SHOW:
            await query.answer()
            if message is not None:
                now = rent_service.clock()
                sent = await message.answer(
                    card_text(rent, locale, now), reply_markup=card_markup(rent, now)
                )
                await rent_service.set_card(rent.ref, sent.message_id)
        case RentCardAction.EXTEND:
            dialog = Dialog(state, account, rent_service, locale)
            await offer_extension(dialog, query, rent)


async def _close(
    query: CallbackQuery,
    message: Message | None,
    rent: Rent,
    account: UserAccount,
    service: RentService,
    locale: str,
    action: RentCardAction,
) -> None:
    if not rent.is_open:
        await query.answer(_("This rent is already over."), show_alert=True)
        if message is not None:
            await show_card(message, rent, service, locale)
        return
    finish = action is RentCardAction.FINISH
    try:
        updated = await (
            service.finish(account, rent) if finish else service.cancel(account, rent)
        )
    except (pe.CantCancel, pe.AlreadyClosed, pe.NoRent) as error:
        # The provider sees another state than the card: say why, then show its real state.
        await query.answer(describe_error(error, account.preset.title), show_alert=True)
        updated = await _reread(account, rent, service)
    else:
        await query.answer(_("Finished.") if finish else _("Cancelled, the money is refunded."))
    if message is not None:
        await show_card(message, updated, service, locale)


async def _reread(account: UserAccount, rent: Rent, service: RentService) -> Rent:
    try:
        return await service.refresh(account, rent)
    except pe.NoRent:
        return await service.close_unknown(rent.ref)
    except pe.ProviderError:
        return await service.rents.get(rent.ref) or rent


# --- extending ---


def _durations_text(dialog: Dialog, rent: Rent) -> str:
    lines = [
        _(
            "Extend {phone}: for how long? Choose, or type a number of hours ({low} to {high})."
        ).format(phone=f"<code>+{escape(rent.phone)}</code>", low=MIN_HOURS, high=MAX_HOURS)
    ]
    if not rent.is_open:
        lines.append(_("The rent is over: extending rents the same number again, from now."))
    return "\n".join(lines)


async def offer_extension(dialog: Dialog, query: CallbackQuery, rent: Rent) -> None:
    if not can_extend(rent):
        await query.answer(
            _("This rent cannot be extended: it was cancelled or taken back."), show_alert=True
        )
        return
    if not dialog.account.supports(Feature.RENT):
        await query.answer(_not_offered(dialog), show_alert=True)
        return
    hours = await dialog.service.durations(dialog.account)
    await dialog.state.set_state(RentFlow.extend)
    await dialog.state.update_data(extend_id=rent.id)
    await query.answer()
    if isinstance(query.message, Message):
        await query.message.answer(
            _durations_text(dialog, rent),
            reply_markup=extend_durations_keyboard(
                rent.id, [(h, duration_label(h)) for h in hours], _("Cancel")
            ),
        )


async def _send_or_edit(target: Target, text: str, markup: InlineKeyboardMarkup | None) -> None:
    if isinstance(target, CallbackQuery):
        if isinstance(target.message, Message):
            await edit_text(target.message, text, markup)
        return
    await target.answer(text, reply_markup=markup)


async def show_quote(dialog: Dialog, target: Target, rent: Rent, hours: int) -> None:
    """The price of extending by ``hours``, with a confirmation that extends at most once."""
    account = dialog.account
    other, cancel = _("Other duration"), _("Cancel")
    try:
        quote = await dialog.service.quote(account, rent, hours)
    except pe.MaxHoursExceeded as error:
        await _send_or_edit(target, *_max_hours(dialog, rent, error))
        return
    except (pe.RentEnded, pe.NoRent, pe.InvalidTime) as error:
        await _send_or_edit(
            target,
            _refusal(dialog, error, hours),
            max_hours_keyboard(rent.id, None, other, cancel),
        )
        return
    balance = await account.client.get_balance()
    lines = [
        _("Extend {phone} by {duration}.").format(
            phone=f"<code>+{escape(rent.phone)}</code>", duration=duration_label(hours)
        )
    ]
    if quote.renews:
        lines.append(_("The rent is over: this rents the same number again, from now."))
    if quote.price is None:
        lines.append(
            _("{provider} does not tell this price in advance; it charges its tariff.").format(
                provider=dialog.provider
            )
        )
    else:
        price = money(quote.price)
        lines.append(
            _("Price: {price}").format(price=price)
            if quote.exact
            else _("Price: about {price} (the provider's list price).").format(price=price)
        )
        lines.append(
            _("Balance: {balance} → {after} after the purchase").format(
                balance=money(balance), after=money(balance - quote.price)
            )
        )
    if quote.ends_at is not None:
        lines.append(_("New end: {time}").format(time=utc_time(quote.ends_at)))
    token = await dialog.service.draft_extension(account.user_id, rent, quote)
    label = (
        _("Extend for {price}").format(price=money(quote.price))
        if quote.price is not None
        else _("Extend")
    )
    await _send_or_edit(
        target, "\n".join(lines), extend_confirm_keyboard(rent.id, (label, token), other, cancel)
    )


def _max_hours(
    dialog: Dialog, rent: Rent, error: pe.MaxHoursExceeded
) -> tuple[str, InlineKeyboardMarkup]:
    offer = None
    most = error.max_hours
    if most is not None and most >= MIN_HOURS:
        offer = (_("Extend by {duration}").format(duration=duration_label(most)), most)
    text = describe_error(error, dialog.account.preset.title)
    return text, max_hours_keyboard(rent.id, offer, _("Other duration"), _("Cancel"))


def _refusal(dialog: Dialog, error: pe.ProviderError, hours: int) -> str:
    if isinstance(error, pe.InvalidTime):
        return _("{provider} does not rent for {duration}. Choose one of the durations.").format(
            provider=dialog.provider, duration=duration_label(hours)
        )
    return describe_error(error, dialog.account.preset.title)


async def show_extended(
    dialog: Dialog, query: CallbackQuery, rent: Rent, result: Outcome[Rent]
) -> None:
    message = query.message if isinstance(query.message, Message) else None
    if await answer_unsettled(
        query,
        dialog.state,
        result,
        expired=_("This confirmation is out of date. Press Extend on the card again."),
        unknown=_(
            "{provider} did not confirm the extension. Check the end time on the card and at "
            "{provider} before trying again."
        ).format(provider=dialog.provider),
    ):
        return
    updated = result.item
    if result.error is not None or updated is None:
        await query.answer()
        if message is None:
            return
        error = result.error or pe.MalformedResponse("no rent", "")
        if isinstance(error, pe.MaxHoursExceeded):
            await edit_text(message, *_max_hours(dialog, rent, error))
            return
        await edit_text(
            message,
            describe_error(error, dialog.account.preset.title),
            max_hours_keyboard(rent.id, None, _("Other duration"), _("Cancel")),
        )
        return
    await _extended(dialog, query, message, updated, result)


async def _extended(
    dialog: Dialog,
    query: CallbackQuery,
    message: Message | None,
    rent: Rent,
    result: Outcome[Rent],
) -> None:
    await dialog.state.clear()
    if result.already:
        note = _("Already extended: here it is.")
    elif result.renewed:
        note = _("Rented again: the card follows the new order.")
    else:
        note = _("Extended.")
    await query.answer(note)
    phone = f"<code>+{escape(rent.phone)}</code>"
    text = (
        _("Extended: {phone} is yours until {time}.").format(
            phone=phone, time=utc_time(rent.ends_at)
        )
        if rent.ends_at is not None
        else _("Extended: {phone}.").format(phone=phone)
    )
    if message is not None:
        await edit_text(message, text)
    if query.bot is not None:
        await redraw_card(query.bot, rent, dialog.service, dialog.locale)


@router.callback_query(RentExtendCallback.filter())
async def extend_button(
    query: CallbackQuery,
    callback_data: RentExtendCallback,
    state: FSMContext,
    accounts: Accounts,
    rent_service: RentService,
    i18n: I18n,
) -> None:
    rent = await _own_rent(query, callback_data.id, rent_service)
    if rent is None:
        return
    account = await _account_for(query, rent, accounts)
    if account is None:
        return
    dialog = Dialog(state, account, rent_service, i18n.current_locale)
    match callback_data.action:
        case RentExtendAction.CANCEL:
            await state.clear()
            await query.answer(_("Cancelled."))
            if isinstance(query.message, Message):
                await edit_text(query.message, _("Nothing was extended."))
        case RentExtendAction.DURATIONS:
            await query.answer()
            await state.set_state(RentFlow.extend)
            await state.update_data(extend_id=rent.id)
            hours = await rent_service.durations(account)
            await _send_or_edit(
                query,
                _durations_text(dialog, rent),
                extend_durations_keyboard(
                    rent.id, [(h, duration_label(h)) for h in hours], _("Cancel")
                ),
            )
        case RentExtendAction.HOURS:
            problem = _hours_problem(callback_data.value)
            if problem is not None:
                await query.answer(problem, show_alert=True)
                return
            await query.answer()
            await show_quote(dialog, query, rent, int(callback_data.value))
        case RentExtendAction.CONFIRM:
            result = await rent_service.extend(account, callback_data.value)
            await show_extended(dialog, query, rent, result)


@router.message(RentFlow.extend, F.text, ~F.text.startswith("/"))
async def extend_typed(
    message: Message,
    state: FSMContext,
    accounts: Accounts,
    rent_service: RentService,
    i18n: I18n,
) -> None:
    assert message.text is not None
    problem = _hours_problem(message.text)
    if problem is not None:
        await message.answer(problem)
        return
    data = await state.get_data()
    rent = await rent_service.rents.find(message.chat.id, int(data.get("extend_id") or 0))
    if rent is None:
        await state.clear()
        await message.answer(_("This rent is no longer here. See /rents."))
        return
    dialog = await open_dialog(message.chat.id, state, accounts, rent_service, i18n)
    hours = _parse_hours(message.text)
    assert hours is not None
    await show_quote(dialog, message, rent, hours)


# --- the list ---

_STATE_MARKS = {
    RentState.ACTIVE: "🟢",
    RentState.FINISHED: "✅",
    RentState.CANCELLED: "❌",
    RentState.REVOKED: "⚠",
}


def _list_line(rent: Rent, locale: str) -> str:
    parts = [f"<code>+{escape(rent.phone)}</code>", escape(service_label(rent, locale))]
    if rent.is_open and rent.ends_at is not None:
        parts.append(_("until {time}").format(time=utc_time(rent.ends_at)))
    return f"{_STATE_MARKS[rent.state]} " + " · ".join(parts)


@router.message(Command("rents"))
async def rents_command(
    message: Message, accounts: Accounts, rent_service: RentService, i18n: I18n
) -> None:
    account = await accounts.get(message.chat.id)
    locale = i18n.current_locale
    if account.supports(Feature.RENT):
        await rent_service.reconcile(account)
    await rent_service.rents.prune(account.user_id, rent_service.clock())
    rents = await rent_service.rents.of_user(account.user_id, limit=LIST_LIMIT)
    if not rents:
        await message.answer(_("You have no rents. /rent a number?"))
        return
    rents.sort(key=lambda r: (not r.is_open, -r.created_at))
    lines = [_("Your rents:")]
    lines += [_list_line(rent, locale) for rent in rents]
    items = [(r.id, f"+{r.phone} · {service_label(r, locale)}") for r in rents]
    await message.answer("\n".join(lines), reply_markup=rents_keyboard(items))
