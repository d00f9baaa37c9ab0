"""The activation card's buttons, and the lists: /active, /history, /prices.

A button names an activation by id; it is looked up only among the presser's own
activations, before anything is asked of the provider.
"""

from __future__ import annotations

import logging
from datetime import datetime

from aiogram import Router
from aiogram.filters import Command, CommandObject
from aiogram.fsm.context import FSMContext
from aiogram.types import CallbackQuery, InlineKeyboardMarkup, Message
from aiogram.utils.i18n import I18n
from aiogram.utils.i18n import gettext as _
from aiogram.utils.keyboard import InlineKeyboardBuilder

from bot.accounts import Accounts, UserAccount
from bot.catalogue import country as country_info
from bot.catalogue import search_services, service_name
from bot.handlers.buy import BuyFlow, open_flow, show_options
from bot.keyboards.callbacks import (
    ActAction,
    ActCallback,
    AdditionalCallback,
    HistoryCallback,
)
from bot.provider import errors as pe
from bot.provider.models import ActivationAction
from bot.provider.presets import Feature
from bot.services.activation_rules import cancel_wait, member
from bot.services.activations import ActivationService
from bot.services.catalogue import CatalogueService
from bot.storage.activations import Activation
from bot.telegram import edit_text
from bot.texts import describe_error, escape, money
from bot.views.activation import render_card

router = Router(name=__name__)
log = logging.getLogger(__name__)

HISTORY_PAGE = 10

_STATUS_ACTIONS = {
    ActAction.READY: ActivationAction.SMS_SENT,
    ActAction.ANOTHER: ActivationAction.ANOTHER_CODE,
    ActAction.FINISH: ActivationAction.FINISH,
    ActAction.CANCEL: ActivationAction.CANCEL,
}


async def render(
    activation: Activation, account: UserAccount, service: ActivationService, locale: str
) -> tuple[str, InlineKeyboardMarkup | None]:
    """The card, with the other services on the same number when there are any."""
    group = await service.activations.with_group(activation)
    return render_card(
        group,
        locale,
        ready_status=account.supports(Feature.READY_STATUS),
        extra=account.supports(Feature.EXTRA_ACTIVATION),
        now=service.clock(),
    )


async def show_card(
    message: Message,
    activation: Activation,
    account: UserAccount,
    service: ActivationService,
    locale: str,
) -> None:
    await edit_text(message, *await render(activation, account, service, locale))


@router.callback_query(ActCallback.filter())
async def card_button(
    query: CallbackQuery,
    callback_data: ActCallback,
    state: FSMContext,
    accounts: Accounts,
    catalogue: CatalogueService,
    activation_service: ActivationService,
    i18n: I18n,
) -> None:
    user_id = query.from_user.id
    activation = await activation_service.activations.find(user_id, callback_data.id)
    if activation is None:
        # Not this user's (forged) or long forgotten: nothing is asked of the provider.
        await query.answer(_("This is not one of your numbers."), show_alert=True)
        return
    account = await accounts.get(user_id)
    if account.provider != activation.provider:
        await query.answer(
            _("This number was bought with another provider account."), show_alert=True
        )
        return
    locale = i18n.current_locale
    action = callback_data.action
    message = query.message if isinstance(query.message, Message) else None
    if action in _STATUS_ACTIONS:
        await _status_action(
            query, message, activation, account, activation_service, locale, action
        )
        return
    match action:
        case ActAction.REFRESH:
            await activation_service.schedule.due_now(member(activation.ref))
            updated = await activation_service.refresh(account, activation)
            await query.answer(_("Updated."))
            if message is not None:
                await show_card(message, updated, account, activation_service, locale)
        case ActAction.SHOW:
            await query.answer()
            if message is not None:
                text, markup = await render(activation, account, activation_service, locale)
                sent = await message.answer(text, reply_markup=markup)
                await activation_service.set_card(activation.ref, sent.message_id)
        case ActAction.AGAIN:
            if activation.options is None:
                await query.answer(_("Nothing to repeat for this number."), show_alert=True)
                return
            await query.answer()
            options = activation.options
            await state.clear()
            await state.update_data(
                service=options.service,
                country=options.country,
                operator=options.operator,
                max_price=str(options.max_price) if options.max_price else None,
                verify=options.verification,
                exclude=options.phone_exception,
            )
            await state.set_state(BuyFlow.options)
            flow = await open_flow(user_id, state, accounts, catalogue, activation_service, i18n)
            if message is not None:
                await show_options(flow, message)
        case ActAction.EXTRA:
            await _offer_extra(query, message, activation, account, locale)
        case ActAction.EXTRA_CONFIRM:
            await _buy_extra(query, message, activation, account, activation_service, locale)
        case ActAction.ADDITIONAL:
            await _offer_additional(query, message, activation, account, catalogue, locale)


async def _status_action(
    query: CallbackQuery,
    message: Message | None,
    activation: Activation,
    account: UserAccount,
    service: ActivationService,
    locale: str,
    action: ActAction,
) -> None:
    if not activation.is_open:
        await query.answer(_("This activation is already closed."), show_alert=True)
        if message is not None:
            await show_card(message, activation, account, service, locale)
        return
    try:
        updated = await service.set_status(account, activation, _STATUS_ACTIONS[action])
    except pe.EarlyCancelDenied as error:
        seconds = error.seconds_left or cancel_wait(activation, service.clock()) or None
        text = (
            _("Cancel is possible 2 minutes after purchase: wait {seconds} s.").format(
                seconds=seconds
            )
            if seconds
            else describe_error(error, account.preset.title)
        )
        await query.answer(text, show_alert=True)
        return
    except (pe.BadStatus, pe.AlreadyClosed, pe.NoActivation) as error:
        # The provider sees another state than we do: show the alert, then its real state.
        await query.answer(describe_error(error, account.preset.title), show_alert=True)
        try:
            refreshed = await service.refresh(account, activation)
        except pe.ProviderError:
            return
        if message is not None:
            await show_card(message, refreshed, account, service, locale)
        return
    answers = {
        ActAction.READY: _("Noted: waiting for the SMS."),
        ActAction.ANOTHER: _("Asked for another code."),
        ActAction.FINISH: _("Finished."),
        ActAction.CANCEL: _("Cancelled, the money is refunded."),
    }
    await query.answer(answers[action])
    if message is not None:
        await show_card(message, updated, account, service, locale)


async def _offer_extra(
    query: CallbackQuery,
    message: Message | None,
    activation: Activation,
    account: UserAccount,
    locale: str,
) -> None:
    if not account.supports(Feature.EXTRA_ACTIVATION):
        await query.answer(_("This provider cannot reuse numbers."), show_alert=True)
        return
    info = await account.client.check_extra_activation(activation.id)
    await query.answer()
    builder = InlineKeyboardBuilder()
    builder.button(
        text="✅ " + _("Buy for {price}").format(price=money(info.cost)),
        callback_data=ActCallback(action=ActAction.EXTRA_CONFIRM, id=activation.id),
    )
    if message is not None:
        await message.answer(
            _("Use +{phone} for {service} again for {price}?").format(
                phone=escape(activation.phone),
                service=escape(service_name(info.service or activation.service, locale)),
                price=money(info.cost),
            ),
            reply_markup=builder.as_markup(),
        )


async def _buy_extra(
    query: CallbackQuery,
    message: Message | None,
    activation: Activation,
    account: UserAccount,
    service: ActivationService,
    locale: str,
) -> None:
    purchase = await service.buy_extra(account, activation)
    if purchase.busy:
        await query.answer(_("A purchase is already in progress. One moment…"), show_alert=True)
        return
    new = purchase.item
    if purchase.error is not None or new is None:
        error = purchase.error or pe.MalformedResponse("no activation", "")
        await query.answer(describe_error(error, account.preset.title), show_alert=True)
        return
    await query.answer(_("Already bought: here it is.") if purchase.already else _("Bought!"))
    if message is not None:
        await edit_text(message, *await render(new, account, service, locale))
        await service.set_card(new.ref, message.message_id)


async def _offer_additional(
    query: CallbackQuery,
    message: Message | None,
    activation: Activation,
    account: UserAccount,
    catalogue: CatalogueService,
    locale: str,
) -> None:
    if not activation.forward or not account.supports(Feature.ADDITIONAL_SERVICE):
        await query.answer(_("This number has no call forwarding."), show_alert=True)
        return
    await query.answer()
    codes = [c for c in await catalogue.service_codes(account) if c != activation.service]
    builder = InlineKeyboardBuilder()
    for code in codes[:12]:
        builder.button(
            text=service_name(code, locale),
            callback_data=AdditionalCallback(id=activation.id, service=code),
        )
    builder.adjust(2)
    if message is not None:
        await message.answer(
            _("Which service should also use +{phone}?").format(phone=escape(activation.phone)),
            reply_markup=builder.as_markup(),
        )


@router.callback_query(AdditionalCallback.filter())
async def additional_chosen(
    query: CallbackQuery,
    callback_data: AdditionalCallback,
    accounts: Accounts,
    catalogue: CatalogueService,
    activation_service: ActivationService,
    i18n: I18n,
) -> None:
    user_id = query.from_user.id
    parent = await activation_service.activations.find(user_id, callback_data.id)
    if parent is None:
        await query.answer(_("This is not one of your numbers."), show_alert=True)
        return
    account = await accounts.get(user_id)
    if not await catalogue.is_service(account, callback_data.service):
        await query.answer(_("This service is not offered."), show_alert=True)
        return
    purchase = await activation_service.buy_additional(account, parent, callback_data.service)
    if purchase.busy:
        await query.answer(_("A purchase is already in progress. One moment…"), show_alert=True)
        return
    new = purchase.item
    if purchase.error is not None or new is None:
        error = purchase.error or pe.MalformedResponse("no activation", "")
        await query.answer(describe_error(error, account.preset.title), show_alert=True)
        return
    await query.answer(_("Bought!"))
    if isinstance(query.message, Message):
        text, markup = await render(new, account, activation_service, i18n.current_locale)
        await edit_text(query.message, text, markup)
        await activation_service.set_card(new.ref, query.message.message_id)


# --- lists ---


@router.message(Command("active"))
async def active_command(
    message: Message,
    accounts: Accounts,
    activation_service: ActivationService,
    i18n: I18n,
) -> None:
    account = await accounts.get(message.chat.id)
    locale = i18n.current_locale
    await activation_service.reconcile(account)
    open_ones = await activation_service.activations.open_of_user(account.user_id)
    if not open_ones:
        await message.answer(_("You have no open activations. /buy a number?"))
        return
    builder = InlineKeyboardBuilder()
    lines = [_("Your open activations:")]
    for activation in open_ones[:30]:
        name = service_name(activation.service, locale)
        code = f" · {activation.last_code}" if activation.last_code else ""
        lines.append(f"• <code>+{escape(activation.phone)}</code> · {escape(name + code)}")
        builder.button(
            text=f"+{activation.phone} · {name}",
            callback_data=ActCallback(action=ActAction.SHOW, id=activation.id),
        )
    builder.adjust(1)
    await message.answer("\n".join(lines), reply_markup=builder.as_markup())


@router.message(Command("history"))
async def history_command(message: Message, accounts: Accounts, i18n: I18n) -> None:
    account = await accounts.get(message.chat.id)
    text, markup = await history_page(account, i18n.current_locale, 0)
    await message.answer(text, reply_markup=markup)


@router.callback_query(HistoryCallback.filter())
async def history_button(
    query: CallbackQuery, callback_data: HistoryCallback, accounts: Accounts, i18n: I18n
) -> None:
    account = await accounts.get(query.from_user.id)
    text, markup = await history_page(account, i18n.current_locale, max(0, callback_data.page))
    await query.answer()
    if isinstance(query.message, Message):
        await edit_text(query.message, text, markup)


_HISTORY_STATUS = {"6": "✅", "8": "❌", "10": "↩", "2": "📩", "3": "⏳", "4": "⏳"}


async def history_page(
    account: UserAccount, locale: str, page: int
) -> tuple[str, InlineKeyboardMarkup | None]:
    if not account.supports(Feature.HISTORY):
        return _("This provider does not share its history."), None
    entries = await account.client.get_history(limit=100)
    entries.sort(key=lambda e: e.date or datetime.min, reverse=True)
    if not entries:
        return _("Your history is empty."), None
    pages = max(1, -(-len(entries) // HISTORY_PAGE))
    page = min(page, pages - 1)
    lines = [_("Your activations, page {page} of {pages}:").format(page=page + 1, pages=pages)]
    for entry in entries[page * HISTORY_PAGE : (page + 1) * HISTORY_PAGE]:
        when = entry.date.strftime("%Y-%m-%d %H:%M") if entry.date else "—"
        codes = ", ".join(entry.codes) or "—"
        mark = _HISTORY_STATUS.get(entry.status or "", "•")
        lines.append(
            f"{mark} {when} · <code>+{escape(entry.phone)}</code> · {money(entry.cost)} · "
            f"{escape(codes)}"
        )
    builder = InlineKeyboardBuilder()
    if page > 0:
        builder.button(text="◀", callback_data=HistoryCallback(page=page - 1))
    if page < pages - 1:
        builder.button(text="▶", callback_data=HistoryCallback(page=page + 1))
    markup = builder.as_markup()
    return "\n".join(lines), markup if markup.inline_keyboard else None


@router.message(Command("prices"))
async def prices_command(
    message: Message,
    command: CommandObject,
    accounts: Accounts,
    catalogue: CatalogueService,
    i18n: I18n,
) -> None:
    account = await accounts.get(message.chat.id)
    locale = i18n.current_locale
    query = (command.args or "").strip()
    if not query:
        await message.answer(_("Which service? For example: /prices telegram"))
        return
    code = query.lower()
    if not await catalogue.is_service(account, code):
        matches = search_services(query, locale)
        if not matches:
            await message.answer(
                _("I do not know the service {service}.").format(service=escape(query[:50]))
            )
            return
        code = matches[0].code
    offers = await catalogue.offers(account, code)
    title = escape(service_name(code, locale))
    if not offers:
        await message.answer(_("No numbers for {service} right now.").format(service=title))
        return
    rates = await catalogue.rates(account, code)
    lines = [
        _("{service}: the cheapest countries (price · numbers · success):").format(
            service=f"<b>{title}</b>"
        )
    ]
    for offer in offers[:15]:
        info = country_info(offer.country)
        name = f"{info.flag} {escape(info.name(locale))}" if info else f"#{offer.country}"
        rate = rates.get(offer.country)
        shown_rate = f"{rate.normalize():f}%" if rate is not None else "—"
        lines.append(f"{name} · {money(offer.price)} · {offer.count} · {shown_rate}")
    lines.append("")
    lines.append(
        _("To buy: /buy {code} and the country number, for example /buy {code} {country}.").format(
            code=code, country=offers[0].country
        )
    )
    await message.answer("\n".join(lines))
