"""The activation card's buttons, and the lists: /active, /history (/prices: prices.py).

A card button names an activation by id; ``CardMiddleware`` (card.py) looks it up only among the
presser's own activations, before anything is asked of the provider. "Buy again" belongs to /buy.
"""

from __future__ import annotations

from aiogram import F
from aiogram.filters import Command
from aiogram.types import CallbackQuery, Message
from aiogram.utils.callback_answer import CallbackAnswer

from bot.accounts import Accounts, UserAccount
from bot.handlers.card import CARD, CardMiddleware, PressedCard
from bot.handlers.owned import each_account, item_labels
from bot.handlers.routes import Routes
from bot.handlers.unsettled import alert
from bot.i18n import gettext as _
from bot.keyboards.callbacks import (
    ActAction,
    ActCallback,
    ActivePageCallback,
    AdditionalCallback,
    AdditionalConfirmCallback,
    ExtraCallback,
    HistoryCallback,
)
from bot.keyboards.markup import Keyboard
from bot.keyboards.pager import paginate
from bot.middlewares.account import NEEDS_ACCOUNT
from bot.middlewares.callback_answer import BUYING
from bot.provider import errors as pe
from bot.provider.models import ActivationAction, HistoryEntry
from bot.provider.presets import Feature
from bot.services.account_items import ask_each
from bot.services.activation_purchases import AdditionalOrder
from bot.services.activation_rules import cancel_wait, member
from bot.services.activations import ActivationService
from bot.services.catalogue import CatalogueService
from bot.services.checkout import OrderKind, Outcome
from bot.storage.activations import Activation
from bot.storage.orders import Order
from bot.storage.records import make_ref
from bot.telegram import inline_markup, show
from bot.texts import describe_error, requote_notice
from bot.views.activation import (
    active_view,
    additional_confirm_view,
    additional_view,
    extra_view,
)
from bot.views.buy import number_unknown_text
from bot.views.history import HistoryItem, history_view, newest_first

router = Routes(name=__name__, answer_taps=True)
# Inside the callback answer: a button naming someone else's activation is explained through it.
router.callback_query.middleware(CardMiddleware())

ACTIVE_PAGE = 10
HISTORY_PAGE = 10
ADDITIONAL_CHOICES = 12

_STATUS_ACTIONS = {
    ActAction.READY: ActivationAction.SMS_SENT,
    ActAction.ANOTHER: ActivationAction.ANOTHER_CODE,
    ActAction.FINISH: ActivationAction.FINISH,
    ActAction.CANCEL: ActivationAction.CANCEL,
}


# --- the card ---


@router.callback_query(ActCallback.filter(F.action.in_(_STATUS_ACTIONS)), flags=CARD)
async def status_changed(
    query: CallbackQuery,
    callback_data: ActCallback,
    card: PressedCard,
    callback_answer: CallbackAnswer,
) -> None:
    """SMS sent, another code, finish, cancel: the same call with another status."""
    activation, account, service = card.activation, card.account, card.service
    action = callback_data.action
    if not activation.is_open:
        alert(callback_answer, _("This activation is already closed."))
        await card.redraw(query, activation)
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
        alert(callback_answer, text)
        await card.redraw(query, activation)
        return
    except (pe.BadStatus, pe.AlreadyClosed, pe.NoActivation) as error:
        # The provider sees another state than we do: show the alert, then its real state.
        alert(callback_answer, describe_error(error, account.preset.title))
        try:
            refreshed = await service.refresh(account, activation)
        except pe.ProviderError:
            refreshed = activation
        await card.redraw(query, refreshed)
        return
    answers = {
        ActAction.READY: _("Noted: waiting for the SMS."),
        ActAction.ANOTHER: _("Asked for another code."),
        ActAction.FINISH: _("Finished."),
        ActAction.CANCEL: _("Cancelled, the money is refunded."),
    }
    callback_answer.text = answers[action]
    await card.redraw(query, updated)


@router.callback_query(ActCallback.filter(F.action == ActAction.REFRESH), flags=CARD)
async def card_refreshed(
    query: CallbackQuery, card: PressedCard, callback_answer: CallbackAnswer
) -> None:
    await card.service.schedule.due_now(member(card.activation.ref))
    updated = await card.service.refresh(card.account, card.activation)
    callback_answer.text = _("Updated.")
    await card.redraw(query, updated)


@router.callback_query(ActCallback.filter(F.action == ActAction.SHOW), flags=CARD)
async def card_shown(query: CallbackQuery, card: PressedCard) -> None:
    """The card again, as a new message at the bottom of the chat (from /active)."""
    if isinstance(query.message, Message):
        text, markup = await card.render(card.activation)
        sent = await query.message.answer(text, reply_markup=inline_markup(markup))
        await card.service.set_card(card.activation.ref, sent.message_id)


@router.callback_query(ActCallback.filter(F.action == ActAction.EXTRA), flags=CARD)
async def extra_offered(
    query: CallbackQuery, card: PressedCard, callback_answer: CallbackAnswer
) -> None:
    await card.redraw(query, card.activation)
    if not card.account.supports(Feature.EXTRA_ACTIVATION):
        alert(callback_answer, _("This provider cannot reuse numbers."))
        return
    if card.activation.extra_ref:
        alert(callback_answer, _("This number was already used again: see its newer card."))
        return
    if isinstance(query.message, Message):
        text, markup = await _extra_offer(card)
        await query.message.answer(text, reply_markup=inline_markup(markup))


async def _extra_offer(card: PressedCard) -> tuple[str, Keyboard | None]:
    """The quote to reuse the card's number: the price now, Buy and Cancel."""
    info = await card.account.client.check_extra_activation(card.activation.id)
    token = await card.service.draft_extra(card.account, card.activation, info.cost)
    return extra_view(card.activation, info, token, card.locale)


async def _additional_offer(card: PressedCard, service: str) -> tuple[str, Keyboard | None]:
    """The confirmation to add ``service`` to the card's number: no published price, the
    balance it comes from, Confirm and Cancel."""
    balance = await card.account.client.get_balance()
    token = await card.service.draft_additional(card.account, card.activation, service)
    title = card.account.preset.title
    return additional_confirm_view(card.activation, service, balance, token, title, card.locale)


async def _offer_again(card: PressedCard, quote: Order) -> tuple[str, Keyboard | None]:
    """A dead confirmation about the card's number, quoted afresh."""
    if quote.kind == OrderKind.ADDITIONAL.value:
        return await _additional_offer(card, AdditionalOrder.model_validate(quote.params).service)
    return await _extra_offer(card)


@router.callback_query(ExtraCallback.filter(), flags={**CARD, **BUYING})
@router.callback_query(AdditionalConfirmCallback.filter(), flags={**CARD, **BUYING})
async def on_number_confirmed(
    query: CallbackQuery,
    callback_data: ExtraCallback | AdditionalConfirmCallback,
    card: PressedCard,
    callback_answer: CallbackAnswer,
) -> None:
    """Reuse the number, or add a service to it, as the confirmation quoted."""
    kind = OrderKind.EXTRA if isinstance(callback_data, ExtraCallback) else OrderKind.ADDITIONAL
    purchase = await card.service.buy_on_number(card.account, callback_data.token, kind)
    if purchase.requote and purchase.quote is not None:
        # Nothing was bought: the offer again, as it stands now.
        alert(callback_answer, requote_notice(purchase.price))
        await show(query, *await _offer_again(card, purchase.quote))
        return
    await show_bought(query, callback_answer, purchase, card)


_CANCELS = {
    ActAction.EXTRA_CANCEL: OrderKind.EXTRA,
    ActAction.ADDITIONAL_CANCEL: OrderKind.ADDITIONAL,
}


@router.callback_query(ActCallback.filter(F.action.in_(_CANCELS)), flags=CARD)
async def quote_cancelled(
    query: CallbackQuery,
    callback_data: ActCallback,
    card: PressedCard,
    callback_answer: CallbackAnswer,
) -> None:
    await card.service.checkout.void(card.account.user_id, [_CANCELS[callback_data.action]])
    callback_answer.text = _("Cancelled.")
    await show(query, _("Nothing was bought."), None)


@router.callback_query(ActCallback.filter(F.action == ActAction.ADDITIONAL), flags=CARD)
async def additional_offered(
    query: CallbackQuery,
    card: PressedCard,
    catalogue: CatalogueService,
    callback_answer: CallbackAnswer,
) -> None:
    activation, account = card.activation, card.account
    await card.redraw(query, activation)
    if not activation.forward or not account.supports(Feature.ADDITIONAL_SERVICE):
        alert(callback_answer, _("This number has no call forwarding."))
        return
    codes = [c for c in await catalogue.service_codes(account) if c != activation.service]
    if isinstance(query.message, Message):
        text, markup = additional_view(activation, codes[:ADDITIONAL_CHOICES], card.locale)
        await query.message.answer(text, reply_markup=inline_markup(markup))


@router.callback_query(AdditionalCallback.filter(), flags=CARD)
async def additional_chosen(
    query: CallbackQuery,
    callback_data: AdditionalCallback,
    card: PressedCard,
    catalogue: CatalogueService,
    callback_answer: CallbackAnswer,
) -> None:
    """A service picked: its confirmation takes the list's place; nothing is bought yet."""
    if not await catalogue.is_service(card.account, callback_data.service):
        alert(callback_answer, _("This service is not offered."))
        return
    await show(query, *await _additional_offer(card, callback_data.service))


async def show_bought(
    query: CallbackQuery,
    callback_answer: CallbackAnswer,
    purchase: Outcome[Activation],
    card: PressedCard,
) -> None:
    """The one reader of a reuse's or an added service's result: the new card, or why not."""
    if purchase.busy:
        alert(callback_answer, _("A purchase is already in progress. One moment…"))
        return
    if purchase.expired:
        alert(callback_answer, _("This offer is out of date. Press the button on the card again."))
        return
    if purchase.unknown:
        await show(query, number_unknown_text(card.account.preset.title), None)
        return
    new = purchase.item
    if purchase.error is not None or new is None:
        error = purchase.error or pe.MalformedResponse("no activation", "")
        alert(callback_answer, describe_error(error, card.account.preset.title))
        return
    callback_answer.text = _("Already bought: here it is.") if purchase.already else _("Bought!")
    if isinstance(query.message, Message):
        await card.redraw(query, new)
        await card.service.set_card(new.ref, query.message.message_id)


# --- lists ---


async def _active_page(
    account: UserAccount, service: ActivationService, accounts: Accounts, locale: str, page: int
) -> tuple[str, Keyboard | None]:
    open_ones = await service.activations.open_of_user(account.user_id)
    if not open_ones:
        return _("You have no open activations. /buy a number?"), None
    labels = await item_labels(accounts, account.user_id, open_ones)
    return active_view(paginate(open_ones, page, ACTIVE_PAGE), locale, labels)


@router.message(Command("active"), flags=NEEDS_ACCOUNT)
async def active_command(
    message: Message,
    account: UserAccount,
    activation_service: ActivationService,
    accounts: Accounts,
    locale: str,
) -> None:
    # Numbers bought on the providers' sites show up here too (every account at once).
    await each_account(accounts, account.user_id, activation_service.reconcile)
    await show(message, *await _active_page(account, activation_service, accounts, locale, 0))


async def _history_page(
    account: UserAccount,
    activation_service: ActivationService,
    accounts: Accounts,
    locale: str,
    page: int,
) -> tuple[str, Keyboard | None]:
    sharing = [a for a in await accounts.all(account.user_id) if a.supports(Feature.HISTORY)]
    if not sharing:
        return _("This provider does not share its history."), None
    if len(sharing) == 1:  # one account: its failure is the errors router's to explain
        answers: list[list[HistoryEntry] | None] = [await sharing[0].client.get_history(limit=100)]
    else:  # every account at once, merged; one that fails does not hide the others
        answers = await ask_each(sharing, lambda each: each.client.get_history(limit=100))
    items = newest_first(
        [
            HistoryItem(entry, each.provider, each.label if len(sharing) > 1 else None)
            for each, answer in zip(sharing, answers, strict=True)
            for entry in answer or []
        ]
    )
    silent = [each.label for each, answer in zip(sharing, answers, strict=True) if answer is None]
    if not items and not silent:
        return _("Your history is empty."), None
    shown = paginate(items, page, HISTORY_PAGE)
    refs = [make_ref(item.provider, item.entry.id) for item in shown.items]
    known = {
        record.ref: record
        for record in await activation_service.activations.get_many(refs)
        if record.user_id == account.user_id
    }
    return history_view(shown, known, locale, silent)


@router.message(Command("history"), flags=NEEDS_ACCOUNT)
async def history_command(
    message: Message,
    account: UserAccount,
    activation_service: ActivationService,
    accounts: Accounts,
    locale: str,
) -> None:
    await show(message, *await _history_page(account, activation_service, accounts, locale, 0))


@router.callback_query(ActivePageCallback.filter(), flags=NEEDS_ACCOUNT)
async def active_page_turned(
    query: CallbackQuery,
    callback_data: ActivePageCallback,
    account: UserAccount,
    activation_service: ActivationService,
    accounts: Accounts,
    locale: str,
) -> None:
    """◀ ▶ under /active: the same list, another page."""
    page = callback_data.page
    await show(query, *await _active_page(account, activation_service, accounts, locale, page))


@router.callback_query(HistoryCallback.filter(), flags=NEEDS_ACCOUNT)
async def history_page_turned(
    query: CallbackQuery,
    callback_data: HistoryCallback,
    account: UserAccount,
    activation_service: ActivationService,
    accounts: Accounts,
    locale: str,
) -> None:
    """◀ ▶ under /history: the same list, another page."""
    page = callback_data.page
    await show(query, *await _history_page(account, activation_service, accounts, locale, page))
