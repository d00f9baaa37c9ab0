"""/mail: the site, the offered addresses, the confirmation, the purchase.

The dialog edits one message in place (typed input answers with a new one). Its state between
updates is a ``MailDraft`` in the FSM data: the site and the offers shown for it, so an offer's
button carries only its index.
"""

from __future__ import annotations

import math
from typing import Any, Final

from aiogram import BaseMiddleware, F
from aiogram.dispatcher.flags import get_flag
from aiogram.filters import Command, CommandObject, StateFilter
from aiogram.fsm.context import FSMContext
from aiogram.fsm.state import State, StatesGroup
from aiogram.types import CallbackQuery, Message, TelegramObject
from aiogram.utils.callback_answer import CallbackAnswer
from pydantic import BaseModel, ValidationError

from bot.accounts import UserAccount
from bot.handlers.cancelled import cancel_dialog, new_dialog
from bot.handlers.mail.common import Card, Settled, Unsettled, pressed_message, read_outcome
from bot.handlers.routes import Routes
from bot.handlers.unsettled import alert, dead_quote
from bot.i18n import gettext as _
from bot.keyboards.callbacks import (
    MailConfirmCallback,
    MailFlowAction,
    MailFlowCallback,
    MailOfferCallback,
    MailOffersPageCallback,
)
from bot.keyboards.mail import (
    back_keyboard,
    cancel_flow_keyboard,
    confirm_keyboard,
    domains_keyboard,
)
from bot.middlewares.account import NEEDS_ACCOUNT
from bot.middlewares.base import Handler
from bot.middlewares.callback_answer import BUYING
from bot.provider import errors as pe
from bot.provider.presets import Feature
from bot.services.checkout import OrderKind, Outcome, Status
from bot.services.mail_rules import MailOptions
from bot.services.mails import MailOffer, MailService, normalize_site
from bot.storage.mails import Mailbox
from bot.storage.orders import OrderRepo
from bot.telegram import show
from bot.views.mail import mail_error, unsupported_text
from bot.views.mail_order import (
    bad_site_text,
    buy_label,
    confirm_text,
    domains_text,
    no_offers_text,
    offer_label,
    purchase_unknown_text,
    site_prompt,
)

router = Routes(name=__name__)

DOMAINS_PER_PAGE = 10


class MailFlow(StatesGroup):
    site = State()
    domain = State()
    confirm = State()


class MailDraft(BaseModel):
    """The dialog between updates: the site, and the offers its buttons point into."""

    site: str
    offers: list[MailOffer]


_DRAFT_KEY = "mail_draft"
_OFFERS_FLAG: Final = "mail_offers"
#: Flags of a step that reads the offers shown: it is handed ``draft: MailDraft``.
OFFERS: Final = {_OFFERS_FLAG: True}


async def load_draft(state: FSMContext) -> MailDraft | None:
    """The draft with offers to choose from; None once the dialog has ended or has none."""
    raw = (await state.get_data()).get(_DRAFT_KEY)
    if raw is None:
        return None
    try:
        draft = MailDraft.model_validate(raw)
    except ValidationError:
        return None  # written by another version of the bot: start again
    return draft if draft.offers else None


async def save_draft(state: FSMContext, draft: MailDraft) -> None:
    await state.update_data({_DRAFT_KEY: draft.model_dump(mode="json")})


class _DraftMiddleware(BaseMiddleware):
    """Hands a step flagged ``OFFERS`` the ``draft`` its buttons point into, or calls it stale."""

    async def __call__(self, handler: Handler, event: TelegramObject, data: dict[str, Any]) -> Any:
        if get_flag(data, _OFFERS_FLAG):
            draft = await load_draft(data["state"])
            if draft is None:
                alert(
                    data["callback_answer"], _("This menu is out of date. Start again with /mail.")
                )
                return None
            data["draft"] = draft
        return await handler(event, data)


router.callback_query.middleware(_DraftMiddleware())


# --- step 1: the site ---


@router.message(Command("mail"), flags=NEEDS_ACCOUNT)
async def mail_command(
    message: Message,
    command: CommandObject,
    state: FSMContext,
    account: UserAccount,
    mail_service: MailService,
) -> None:
    await new_dialog(state, mail_service, account.user_id)
    if not account.supports(Feature.MAIL):
        await message.answer(unsupported_text(account.preset.title))
        return
    if not (command.args or "").strip():
        await state.set_state(MailFlow.site)
        await show(message, site_prompt(), cancel_flow_keyboard(_("Cancel")))
        return
    await choose_site(message, state, account, mail_service, command.args or "")


@router.message(StateFilter(MailFlow), F.text, ~F.text.startswith("/"), flags=NEEDS_ACCOUNT)
async def site_typed(
    message: Message, state: FSMContext, account: UserAccount, mail_service: MailService
) -> None:
    # At any step a typed text is taken as another site: the user changed their mind.
    await choose_site(message, state, account, mail_service, message.text or "")


async def choose_site(
    message: Message, state: FSMContext, account: UserAccount, mail_service: MailService, text: str
) -> None:
    site = normalize_site(text)
    await state.set_state(MailFlow.site)
    cancel = cancel_flow_keyboard(_("Cancel"))
    if site is None:
        await show(message, bad_site_text(text), cancel)
        return
    try:
        offers = await mail_service.offers(account, site)
    except (pe.BadSite, pe.BlockedSite) as error:
        await show(message, mail_error(error, account.preset.title), cancel)
        return
    if not offers:
        await show(message, no_offers_text(site, account.preset.title), cancel)
        return
    draft = MailDraft(site=site, offers=offers)
    await save_draft(state, draft)
    await show_offers(message, state, draft)


@router.callback_query(MailFlowCallback.filter(F.action == MailFlowAction.CANCEL))
async def flow_cancel(
    query: CallbackQuery, state: FSMContext, callback_answer: CallbackAnswer, orders: OrderRepo
) -> None:
    text = _("E-mail purchase cancelled. /mail starts again.")
    await cancel_dialog(query, state, callback_answer, text, orders, OrderKind.MAIL)


# --- step 2: the address ---


async def show_offers(
    target: CallbackQuery | Message, state: FSMContext, draft: MailDraft, page: int = 0
) -> None:
    offers = draft.offers
    pages = max(1, math.ceil(len(offers) / DOMAINS_PER_PAGE))
    page = min(max(page, 0), pages - 1)
    start = page * DOMAINS_PER_PAGE
    items = [
        (index, offer_label(offer))
        for index, offer in enumerate(offers[start : start + DOMAINS_PER_PAGE], start)
    ]
    await state.set_state(MailFlow.domain)
    await show(target, domains_text(draft.site), domains_keyboard(items, page, pages, _("Cancel")))


async def offer_again(
    query: CallbackQuery, state: FSMContext, account: UserAccount, draft: MailDraft
) -> None:
    """``draft`` with offers just read from the provider (after a refusal they move)."""
    await save_draft(state, draft)
    if not draft.offers:
        await state.set_state(MailFlow.site)
        await show(
            query,
            no_offers_text(draft.site, account.preset.title),
            cancel_flow_keyboard(_("Cancel")),
        )
        return
    await show_offers(query, state, draft)


@router.callback_query(MailOffersPageCallback.filter(), flags=OFFERS)
async def offers_page(
    query: CallbackQuery,
    callback_data: MailOffersPageCallback,
    state: FSMContext,
    draft: MailDraft,
) -> None:
    await show_offers(query, state, draft, callback_data.page)


@router.callback_query(
    MailFlowCallback.filter(F.action == MailFlowAction.TO_DOMAINS),
    flags={**NEEDS_ACCOUNT, **OFFERS},
)
async def back_to_offers(
    query: CallbackQuery,
    state: FSMContext,
    account: UserAccount,
    mail_service: MailService,
    draft: MailDraft,
) -> None:
    offers = await mail_service.offers(account, draft.site)
    await offer_again(query, state, account, MailDraft(site=draft.site, offers=offers))


# --- step 3: confirmation and purchase ---


@router.callback_query(MailOfferCallback.filter(), flags={**NEEDS_ACCOUNT, **OFFERS})
async def offer_chosen(
    query: CallbackQuery,
    callback_data: MailOfferCallback,
    state: FSMContext,
    account: UserAccount,
    mail_service: MailService,
    draft: MailDraft,
    callback_answer: CallbackAnswer,
) -> None:
    if not 0 <= callback_data.index < len(draft.offers):
        alert(callback_answer, _("This button is out of date."))
        return
    chosen = draft.offers[callback_data.index]
    await show_confirmation(
        query, state, account, mail_service, callback_answer, draft.site, chosen
    )


async def show_confirmation(
    query: CallbackQuery,
    state: FSMContext,
    account: UserAccount,
    mail_service: MailService,
    callback_answer: CallbackAnswer,
    site: str,
    chosen: MailOffer | MailOptions,
) -> None:
    """The confirmation of an address for ``site``, at the price the provider asks now."""
    kind, name = (
        (chosen.mail_type, chosen.name)
        if isinstance(chosen, MailOffer)
        else (chosen.mail_type, chosen.domain)
    )
    # The price and stock shown may be minutes old: confirm what the provider offers now.
    fresh = await mail_service.offers(account, site)
    offer = next((o for o in fresh if (o.mail_type, o.name) == (kind, name)), None)
    if offer is None:
        alert(
            callback_answer,
            _("This address is no longer offered for this site. Choose another one."),
        )
        await offer_again(query, state, account, MailDraft(site=site, offers=fresh))
        return
    balance = await account.client.get_balance()
    options = MailOptions(
        site=site, mail_type=offer.mail_type, domain=offer.name, price=offer.cost
    )
    token = await mail_service.draft(account, options)
    await state.set_state(MailFlow.confirm)
    await show(
        query,
        confirm_text(site, offer, balance),
        confirm_keyboard(buy_label(offer), _("Back"), _("Cancel"), token),
    )


@router.callback_query(MailConfirmCallback.filter(), flags={**NEEDS_ACCOUNT, **BUYING})
async def confirm_purchase(
    query: CallbackQuery,
    callback_data: MailConfirmCallback,
    state: FSMContext,
    account: UserAccount,
    mail_service: MailService,
    callback_answer: CallbackAnswer,
) -> None:
    purchase = await mail_service.buy(account, callback_data.token)
    options = dead_quote(purchase, callback_answer, MailOptions)
    if options is not None:
        # Nothing was bought: the same address, quoted afresh, where the old quote was.
        await show_confirmation(
            query, state, account, mail_service, callback_answer, options.site, options
        )
        return
    await show_purchase(query, state, account, mail_service, purchase, callback_answer)


async def show_purchase(
    query: CallbackQuery,
    state: FSMContext,
    account: UserAccount,
    mail_service: MailService,
    purchase: Outcome[Mailbox],
    callback_answer: CallbackAnswer,
) -> None:
    provider = account.preset.title
    match read_outcome(purchase):
        case Unsettled(status=Status.BUSY):
            alert(callback_answer, _("A purchase is already in progress. One moment…"))
        case Unsettled(status=Status.EXPIRED):
            alert(callback_answer, _("This confirmation is out of date. Start again with /mail."))
        case Unsettled(status=Status.UNKNOWN):
            await state.clear()
            await show(query, purchase_unknown_text(provider), None)
        case Unsettled(error=error):
            refusal = mail_error(error or pe.MalformedResponse("no mailbox", ""), provider)
            await show(query, refusal, back_keyboard(_("Back"), _("Cancel")))
        case Settled(status=status, mailbox=mailbox):
            await state.clear()
            if status is Status.ALREADY:
                callback_answer.text = _("Already bought: here is the address.")
            elif status is Status.RECOVERED:
                callback_answer.text = _(
                    "The answer was lost on the way, but the address is yours: here it is."
                )
            else:
                callback_answer.text = _("Bought!")
            await Card(pressed_message(query), account, mail_service).adopt(mailbox)
