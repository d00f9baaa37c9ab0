"""E-mail verification: /mail (site -> address -> confirmation -> the card), its buttons, /mails.

The flow edits one message in place (typed input answers with a new one). Card buttons name
a mailbox by id; it is looked up only among the presser's own mailboxes, before anything is
asked of the provider.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from aiogram import F, Router
from aiogram.filters import Command, CommandObject, StateFilter
from aiogram.fsm.context import FSMContext
from aiogram.fsm.state import State, StatesGroup
from aiogram.types import CallbackQuery, InlineKeyboardMarkup, Message
from aiogram.utils.i18n import gettext as _

from bot.accounts import Accounts, UserAccount
from bot.handlers.unsettled import answer_unsettled
from bot.keyboards.callbacks import (
    MailAction,
    MailCallback,
    MailFlowAction,
    MailFlowCallback,
    MailHistoryCallback,
)
from bot.keyboards.mail import (
    back_keyboard,
    cancel_flow_keyboard,
    confirm_keyboard,
    domains_keyboard,
    history_keyboard,
)
from bot.provider import errors as pe
from bot.provider.models import MailType
from bot.provider.presets import Feature
from bot.services.checkout import Outcome
from bot.services.mail_rules import MailOptions, member
from bot.services.mails import LetterArrived, MailOffer, MailService, normalize_site
from bot.storage.mails import Mailbox, MailState
from bot.telegram import edit_text, show
from bot.texts import describe_error, escape, money
from bot.views.mail import (
    bad_site_text,
    card_markup,
    card_text,
    confirm_text,
    domains_text,
    history_text,
    letter_parts,
    mail_error,
    no_offers_text,
    offer_label,
    site_prompt,
)

router = Router(name=__name__)

DOMAINS_PER_PAGE = 10
HISTORY_PER_PAGE = 10


class MailFlow(StatesGroup):
    site = State()
    domain = State()
    confirm = State()


Target = CallbackQuery | Message


@dataclass(frozen=True, slots=True)
class Flow:
    """Everything a step needs, gathered once per update."""

    state: FSMContext
    account: UserAccount
    service: MailService

    @property
    def provider(self) -> str:
        return self.account.preset.title


async def open_flow(
    user_id: int, state: FSMContext, accounts: Accounts, mail_service: MailService
) -> Flow:
    return Flow(state, await accounts.get(user_id), mail_service)


def _unsupported(account: UserAccount) -> str:
    return _(
        "{provider} does not sell e-mail addresses. Providers with the SMS-Activate mail API "
        "do; you can switch with /key."
    ).format(provider=escape(account.preset.title))


def _pack(offers: list[MailOffer]) -> list[list[Any]]:
    return [[int(o.mail_type), o.name, str(o.cost), o.count] for o in offers]


def _unpack(data: dict[str, Any]) -> list[MailOffer]:
    return [
        MailOffer(MailType(kind), name, Decimal(cost), count)
        for kind, name, cost, count in data.get("offers") or []
    ]


# --- step 1: the site ---


@router.message(Command("mail"))
async def mail_command(
    message: Message,
    command: CommandObject,
    state: FSMContext,
    accounts: Accounts,
    mail_service: MailService,
) -> None:
    flow = await open_flow(message.chat.id, state, accounts, mail_service)
    await state.clear()
    if not flow.account.supports(Feature.MAIL):
        await message.answer(_unsupported(flow.account))
        return
    if not (command.args or "").strip():
        await state.set_state(MailFlow.site)
        await message.answer(site_prompt(), reply_markup=cancel_flow_keyboard(_("Cancel")))
        return
    await choose_site(flow, message, command.args or "")


@router.message(StateFilter(MailFlow), F.text, ~F.text.startswith("/"))
async def site_typed(
    message: Message, state: FSMContext, accounts: Accounts, mail_service: MailService
) -> None:
    # At any step a typed text is taken as another site: the user changed their mind.
    flow = await open_flow(message.chat.id, state, accounts, mail_service)
    await choose_site(flow, message, message.text or "")


async def choose_site(flow: Flow, message: Message, text: str) -> None:
    state = flow.state
    site = normalize_site(text)
    await state.set_state(MailFlow.site)
    if site is None:
        await message.answer(bad_site_text(text), reply_markup=cancel_flow_keyboard(_("Cancel")))
        return
    try:
        offers = await flow.service.offers(flow.account, site)
    except (pe.BadSite, pe.BlockedSite) as error:
        await message.answer(
            mail_error(error, flow.provider), reply_markup=cancel_flow_keyboard(_("Cancel"))
        )
        return
    if not offers:
        await message.answer(
            no_offers_text(site, flow.provider), reply_markup=cancel_flow_keyboard(_("Cancel"))
        )
        return
    await state.update_data(site=site, offers=_pack(offers))
    await show_domains(flow, message, site, offers)


# --- step 2: the address ---


async def show_domains(
    flow: Flow, target: Target, site: str, offers: list[MailOffer], page: int = 0
) -> None:
    pages = max(1, math.ceil(len(offers) / DOMAINS_PER_PAGE))
    page = min(max(page, 0), pages - 1)
    start = page * DOMAINS_PER_PAGE
    items = [
        (index, offer_label(offer))
        for index, offer in enumerate(offers[start : start + DOMAINS_PER_PAGE], start)
    ]
    await flow.state.set_state(MailFlow.domain)
    await show(target, domains_text(site), domains_keyboard(items, page, pages, _("Cancel")))


async def reload_domains(flow: Flow, query: CallbackQuery, site: str) -> None:
    """The offers again from the provider (after a refusal, prices and stock move)."""
    await present_domains(flow, query, site, await flow.service.offers(flow.account, site))


async def present_domains(
    flow: Flow, query: CallbackQuery, site: str, offers: list[MailOffer]
) -> None:
    await flow.state.update_data(offers=_pack(offers))
    if not offers:
        await flow.state.set_state(MailFlow.site)
        await show(query, no_offers_text(site, flow.provider), cancel_flow_keyboard(_("Cancel")))
        return
    await show_domains(flow, query, site, offers)


@router.callback_query(MailFlowCallback.filter(F.action == MailFlowAction.CANCEL))
async def flow_cancel(query: CallbackQuery, state: FSMContext) -> None:
    await state.clear()
    await query.answer(_("Cancelled."))
    if isinstance(query.message, Message):
        await edit_text(query.message, _("E-mail purchase cancelled. /mail starts again."))


@router.callback_query(MailFlowCallback.filter(F.action == MailFlowAction.CONFIRM))
async def flow_confirm(
    query: CallbackQuery,
    callback_data: MailFlowCallback,
    state: FSMContext,
    accounts: Accounts,
    mail_service: MailService,
) -> None:
    flow = await open_flow(query.from_user.id, state, accounts, mail_service)
    purchase = await mail_service.buy(flow.account, callback_data.token)
    await show_purchase(flow, query, purchase)


@router.callback_query(MailFlowCallback.filter())
async def flow_step(
    query: CallbackQuery,
    callback_data: MailFlowCallback,
    state: FSMContext,
    accounts: Accounts,
    mail_service: MailService,
) -> None:
    data = await state.get_data()
    site, offers = data.get("site"), _unpack(data)
    if not site or not offers:
        await query.answer(_("This menu is out of date. Start again with /mail."), show_alert=True)
        return
    flow = await open_flow(query.from_user.id, state, accounts, mail_service)
    match callback_data.action:
        case MailFlowAction.PAGE:
            await show_domains(flow, query, site, offers, callback_data.index)
        case MailFlowAction.TO_DOMAINS:
            await reload_domains(flow, query, site)
        case MailFlowAction.DOMAIN:
            if not 0 <= callback_data.index < len(offers):
                await query.answer(_("This button is out of date."), show_alert=True)
                return
            await show_confirm(flow, query, site, offers[callback_data.index])
            return
    await query.answer()


# --- step 3: confirmation and purchase ---


async def show_confirm(flow: Flow, query: CallbackQuery, site: str, chosen: MailOffer) -> None:
    account = flow.account
    fresh = await flow.service.offers(account, site)
    offer = next(
        (o for o in fresh if (o.mail_type, o.name) == (chosen.mail_type, chosen.name)), None
    )
    if offer is None:
        await query.answer(
            _("This address is no longer offered for this site. Choose another one."),
            show_alert=True,
        )
        await present_domains(flow, query, site, fresh)
        return
    balance = await account.client.get_balance()
    options = MailOptions(
        site=site, mail_type=offer.mail_type, domain=offer.name, price=offer.cost
    )
    token = await flow.service.draft(account.user_id, options)
    await flow.state.set_state(MailFlow.confirm)
    buy = _("Buy for {price}").format(price=money(offer.cost))
    await show(
        query,
        confirm_text(site, offer, balance),
        confirm_keyboard(buy, _("Back"), _("Cancel"), token),
    )
    await query.answer()


async def show_purchase(flow: Flow, query: CallbackQuery, purchase: Outcome[Mailbox]) -> None:
    message = query.message if isinstance(query.message, Message) else None
    if await answer_unsettled(
        query,
        flow.state,
        purchase,
        expired=_("This confirmation is out of date. Start again with /mail."),
        unknown=_(
            "{provider} did not confirm the purchase, and no new address shows in your mail "
            "history. Most likely nothing was bought: check /mails in a minute before trying "
            "again."
        ).format(provider=escape(flow.provider)),
    ):
        return
    mailbox = purchase.item
    if purchase.error is not None or mailbox is None:
        error = purchase.error or pe.MalformedResponse("no mailbox", "")
        await query.answer()
        await show(query, mail_error(error, flow.provider), back_keyboard(_("Back"), _("Cancel")))
        return
    await flow.state.clear()
    if purchase.already:
        await query.answer(_("Already bought: here is the address."))
    elif purchase.recovered:
        await query.answer(
            _("The answer was lost on the way, but the address is yours: here it is.")
        )
    else:
        await query.answer(_("Bought!"))
    if message is None:
        return
    await edit_text(message, *render(flow, mailbox))
    if mailbox.card_message_id != message.message_id:
        await flow.service.set_card(mailbox.ref, message.message_id)


# --- the card ---


def render(flow: Flow, mailbox: Mailbox) -> tuple[str, InlineKeyboardMarkup | None]:
    return card_text(mailbox, flow.provider, flow.service.clock()), card_markup(mailbox)


async def _show_card(flow: Flow, message: Message | None, mailbox: Mailbox) -> None:
    if message is not None:
        await edit_text(message, *render(flow, mailbox))


@router.callback_query(MailCallback.filter())
async def card_button(
    query: CallbackQuery,
    callback_data: MailCallback,
    state: FSMContext,
    accounts: Accounts,
    mail_service: MailService,
) -> None:
    user_id = query.from_user.id
    mailbox = await mail_service.mails.find(user_id, callback_data.id)
    if mailbox is None:
        # Not this user's (forged) or long forgotten: nothing is asked of the provider.
        await query.answer(_("This is not one of your e-mail addresses."), show_alert=True)
        return
    flow = await open_flow(user_id, state, accounts, mail_service)
    if flow.account.provider != mailbox.provider:
        await query.answer(
            _("This address was bought with another provider account."), show_alert=True
        )
        return
    message = query.message if isinstance(query.message, Message) else None
    match callback_data.action:
        case MailAction.CANCEL:
            await _cancel(flow, query, message, mailbox, callback_data.id)
        case MailAction.ANOTHER:
            await _another(flow, query, message, mailbox, callback_data.id)
        case MailAction.REFRESH:
            await _refresh(flow, query, message, mailbox, callback_data.id)
        case MailAction.FULL:
            await _full_letter(query, message, mailbox, callback_data.id)
        case MailAction.SHOW:
            await query.answer()
            if message is not None:
                text, markup = render(flow, mailbox)
                sent = await message.answer(text, reply_markup=markup)
                await mail_service.set_card(mailbox.ref, sent.message_id)


async def _cancel(
    flow: Flow, query: CallbackQuery, message: Message | None, mailbox: Mailbox, pressed: int
) -> None:
    if not mailbox.is_waiting or pressed != mailbox.id:
        await query.answer(_("This address no longer waits for a letter."), show_alert=True)
        await _show_card(flow, message, mailbox)
        return
    try:
        updated = await flow.service.cancel(flow.account, mailbox)
    except LetterArrived:
        await query.answer(
            _("A letter has just arrived, so the address can no longer be cancelled."),
            show_alert=True,
        )
        await _show_card(flow, message, await flow.service.mails.get(mailbox.ref) or mailbox)
        return
    except (pe.BadStatus, pe.AlreadyClosed) as error:
        # The provider sees another state (a letter just came?): say so, show its real state.
        refreshed = await _refreshed(flow, mailbox)
        if refreshed.state is MailState.LETTER:
            text = _("A letter has just arrived, so the address can no longer be cancelled.")
        else:
            text = describe_error(error, flow.provider)
        await query.answer(text, show_alert=True)
        await _show_card(flow, message, refreshed)
        return
    except pe.NoActivation as error:
        closed = await flow.service.close(mailbox.ref, MailState.GONE)
        await query.answer(mail_error(error, flow.provider), show_alert=True)
        await _show_card(flow, message, closed)
        return
    await query.answer(_("Cancelled, the money is refunded."))
    await _show_card(flow, message, updated)


async def _refreshed(flow: Flow, mailbox: Mailbox) -> Mailbox:
    try:
        return await flow.service.refresh(flow.account, mailbox)
    except pe.ProviderError:
        return mailbox


async def _another(
    flow: Flow, query: CallbackQuery, message: Message | None, mailbox: Mailbox, pressed: int
) -> None:
    purchase = await flow.service.reorder(flow.account, mailbox, pressed)
    renewed = purchase.item
    if purchase.busy:
        await query.answer(_("A purchase is already in progress. One moment…"), show_alert=True)
        return
    if purchase.unknown:
        await query.answer(
            _(
                "{provider} did not confirm. If the card does not change in a minute, check "
                "/mails before trying again."
            ).format(provider=escape(flow.provider)),
            show_alert=True,
        )
        return
    if purchase.error is not None or renewed is None:
        error = purchase.error or pe.NoActivation("ACTIVATION_NOT_FOUND")
        await query.answer(mail_error(error, flow.provider), show_alert=True)
        return
    if purchase.closed:
        await query.answer(_("This address cannot get another letter now."), show_alert=True)
    elif purchase.already:
        await query.answer(_("Already asked: waiting for another letter."))
    else:
        await query.answer(_("Waiting for another letter."))
    await _show_card(flow, message, renewed)
    if message is not None and renewed.card_message_id != message.message_id:
        await flow.service.set_card(renewed.ref, message.message_id)


async def _refresh(
    flow: Flow, query: CallbackQuery, message: Message | None, mailbox: Mailbox, pressed: int
) -> None:
    if mailbox.is_waiting and pressed == mailbox.id:
        await flow.service.schedule.due_now(member(mailbox.ref))
        mailbox = await flow.service.refresh(flow.account, mailbox)
    await query.answer(_("Updated."))
    await _show_card(flow, message, mailbox)


async def _full_letter(
    query: CallbackQuery, message: Message | None, mailbox: Mailbox, mail_id: int
) -> None:
    letter = next((item for item in mailbox.letters if item.mail_id == mail_id), None)
    if letter is None:
        await query.answer(_("This letter is not stored any more."), show_alert=True)
        return
    await query.answer()
    if message is None:
        return
    for part in letter_parts(mailbox, letter):
        await message.answer(part)


# --- /mails ---


@router.message(Command("mails"))
async def mails_command(
    message: Message, state: FSMContext, accounts: Accounts, mail_service: MailService
) -> None:
    flow = await open_flow(message.chat.id, state, accounts, mail_service)
    if not flow.account.supports(Feature.MAIL):
        await message.answer(_unsupported(flow.account))
        return
    text, markup = await history_page(flow, 0)
    await message.answer(text, reply_markup=markup)


@router.callback_query(MailHistoryCallback.filter())
async def mails_page(
    query: CallbackQuery,
    callback_data: MailHistoryCallback,
    state: FSMContext,
    accounts: Accounts,
    mail_service: MailService,
) -> None:
    flow = await open_flow(query.from_user.id, state, accounts, mail_service)
    text, markup = await history_page(flow, max(0, callback_data.page))
    await query.answer()
    await show(query, text, markup)


async def history_page(flow: Flow, page: int) -> tuple[str, InlineKeyboardMarkup | None]:
    client = flow.account.client
    history = await client.get_mail_history(page=page + 1, per_page=HISTORY_PER_PAGE, sort="desc")
    pages = history.pages or math.ceil(history.count / HISTORY_PER_PAGE)
    if not history.entries and 0 < pages <= page:
        page = pages - 1  # the list shrank since the button was made
        history = await client.get_mail_history(
            page=page + 1, per_page=HISTORY_PER_PAGE, sort="desc"
        )
    if not history.entries:
        return _("You have not bought any e-mail addresses yet. /mail buys one."), None
    pages = max(pages, page + 1)
    followed = {
        mailbox.id: mailbox
        for mailbox in await flow.service.mails.of_user(flow.account.user_id, limit=200)
        if mailbox.provider == flow.account.provider
    }
    open_states = {MailState.WAITING, MailState.LETTER}
    cards = [
        (entry.id, "📧 " + entry.email)
        for entry in history.entries
        if entry.id in followed and followed[entry.id].state in open_states
    ]
    return history_text(history.entries, page + 1, pages), history_keyboard(cards, page, pages)
