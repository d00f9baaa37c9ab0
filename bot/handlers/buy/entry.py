"""Into /buy and out of it: the command, "Buy again" on a card, cancel, and the confirmation tap.

The confirmation carries an order token, not the options: the order remembers what it buys, so
a double tap or a forged token buys nothing twice.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from aiogram import F
from aiogram.filters import Command, CommandObject
from aiogram.fsm.context import FSMContext
from aiogram.types import CallbackQuery, Message
from aiogram.utils.callback_answer import CallbackAnswer

from bot.accounts import UserAccount
from bot.catalogue import pick_countries, search_services
from bot.handlers.buy.countries import show_countries
from bot.handlers.buy.draft import BuyContext, BuyDraft, buy_context, load_draft
from bot.handlers.buy.offers import show_cheapest, show_fallover
from bot.handlers.buy.options import show_options
from bot.handlers.buy.services import show_services
from bot.handlers.cancelled import new_dialog
from bot.handlers.card import CARD, PressedCard, render
from bot.handlers.routes import Routes
from bot.handlers.unsettled import alert, answer_unsettled, dead_quote
from bot.i18n import gettext as _
from bot.keyboards.callbacks import (
    ActAction,
    ActCallback,
    BuyAction,
    BuyCallback,
    BuyConfirmCallback,
)
from bot.middlewares.account import NEEDS_ACCOUNT
from bot.middlewares.callback_answer import BUYING
from bot.provider import errors as pe
from bot.services.activations import ActivationService
from bot.services.checkout import OrderKind, Outcome
from bot.storage.activations import Activation, BuyOptions
from bot.telegram import edit_text, show
from bot.texts import escape
from bot.views.buy import number_unknown_text, purchase_failed_view

router = Routes(name=__name__)


@router.message(Command("buy"), flags=NEEDS_ACCOUNT)
async def buy_command(
    message: Message,
    command: CommandObject,
    state: FSMContext,
    account: UserAccount,
    **data: Any,
) -> None:
    """``/buy``, ``/buy <service>`` or ``/buy <service> <country>`` (its number or name);
    with several accounts, the last one buys the cheapest offer among them."""
    buy = buy_context(data, state, BuyDraft(), account)
    catalogue, locale = buy.catalogue, buy.locale
    await new_dialog(state, buy.activation_service, account.user_id)
    args = (command.args or "").split()
    if not args:
        await show_services(message, buy)
        return
    code = args[0].lower()
    if not await buy.is_service(code):
        matches = search_services(args[0], locale)
        if len(matches) != 1:
            await message.answer(
                _("I do not know the service {service}. Try /buy without arguments.").format(
                    service=f"<code>{escape(args[0][:50])}</code>"
                )
            )
            return
        code = matches[0].code
    buy.draft.choose_service(code)
    if len(args) < 2:
        await show_countries(message, buy)
        return
    where = " ".join(args[1:])
    found = pick_countries(where)
    if not found:
        # Quoted as typed and cut short: it may be thousands of characters long.
        await message.answer(
            _(
                "I do not know the country {country}. Name it or give its number, for example "
                "/buy tg indonesia or /buy tg 6."
            ).format(country=f"<code>{escape(where[:30])}</code>")
        )
        return
    if len(found) > 1:
        # Several countries by that name: the list of those selling, to pick from.
        offers = [o for o in await catalogue.offers(account, code) if o.country in found]
        await show_countries(message, buy, only=offers or None)
        return
    buy.draft.choose_country(found[0])
    across = await buy.across()
    if across is not None:
        await show_cheapest(message, buy, across)
        return
    await show_options(message, buy)


@router.callback_query(ActCallback.filter(F.action == ActAction.AGAIN), flags=CARD)
async def buy_again(
    query: CallbackQuery,
    state: FSMContext,
    card: PressedCard,
    callback_answer: CallbackAnswer,
    **data: Any,
) -> None:
    """The confirmation of a card's purchase, every option as it was, under the card (paid
    by the card's own account)."""
    await card.redraw(query, card.activation)
    if card.activation.options is None:
        alert(callback_answer, _("Nothing to repeat for this number."))
        return
    await state.clear()
    draft = BuyDraft.again(card.activation.options, card.account.account_id)
    buy = buy_context(data, state, draft, card.account)
    if isinstance(query.message, Message):
        await show_options(query.message, buy)


@router.callback_query(BuyCallback.filter(F.action == BuyAction.CANCEL))
async def buy_cancel(
    query: CallbackQuery,
    state: FSMContext,
    activation_service: ActivationService,
    callback_answer: CallbackAnswer,
) -> None:
    await state.clear()
    await activation_service.checkout.void(query.from_user.id, [OrderKind.ACTIVATION])
    callback_answer.text = _("Cancelled.")
    await show(query, _("Purchase cancelled. /buy starts again."), None)


@router.callback_query(BuyConfirmCallback.filter(), flags={**NEEDS_ACCOUNT, **BUYING})
async def buy_confirmed(
    query: CallbackQuery,
    callback_data: BuyConfirmCallback,
    state: FSMContext,
    account: UserAccount,
    callback_answer: CallbackAnswer,
    **data: Any,
) -> None:
    draft = await load_draft(state)
    buy = buy_context(data, state, draft or BuyDraft(), account)
    # Money moves only on what the user saw: the account the confirmation named pays.
    account = await payer_of(buy, callback_data.token)
    buy = replace(buy, account=account)
    activation_service = buy.activation_service
    purchase = await activation_service.buy(account, callback_data.token)
    options = dead_quote(purchase, callback_answer, BuyOptions)
    if options is not None:
        # Nothing was bought: the same choices, quoted afresh, where the old quote was.
        again = BuyDraft.again(options, account.account_id)
        await show_options(query, replace(buy, draft=again), price=purchase.price)
        return
    if (
        draft is not None
        and isinstance(purchase.error, pe.OutOfStock)
        and not draft.forward
        and isinstance(query.message, Message)
        and draft.country is not None
    ):
        across = await buy.across()
        if across is not None:
            # Out of numbers here: the next account's offer, in one tap.
            await show_fallover(query.message, buy, across, account)
            return
    await show_purchase(
        query, state, callback_answer, purchase, account, activation_service, buy.locale
    )


async def payer_of(buy: BuyContext, token: str) -> UserAccount:
    """The account whose order ``token`` is: the one its confirmation named (UnknownAccount
    when it is no longer the user's); the default (``buy.account``) for an order that names
    none."""
    default = buy.account
    order = await buy.activation_service.checkout.orders.get(default.user_id, token)
    if order is None or order.account_id is None or order.account_id == default.account_id:
        return default
    return await buy.accounts.by_id(default.user_id, order.account_id, buy.glance)


async def show_purchase(
    query: CallbackQuery,
    state: FSMContext,
    callback_answer: CallbackAnswer,
    purchase: Outcome[Activation],
    account: UserAccount,
    service: ActivationService,
    locale: str,
) -> None:
    """The one reader of a purchase's result: the card, a refusal, or why nothing happened."""
    if await answer_unsettled(
        query,
        state,
        callback_answer,
        purchase,
        expired=_("This confirmation is out of date. Start again with /buy."),
        unknown=number_unknown_text(account.preset.title),
    ):
        return
    message = query.message if isinstance(query.message, Message) else None
    if purchase.error is not None or purchase.item is None:
        error = purchase.error or pe.MalformedResponse("no activation", "")
        draft = await load_draft(state)
        forward = draft is not None and draft.forward
        if message is not None:
            await edit_text(
                message, *purchase_failed_view(error, account.preset.title, forward=forward)
            )
        return
    activation = purchase.item
    await state.clear()
    if purchase.already:
        callback_answer.text = _("Already bought: here it is.")
    elif purchase.recovered:
        callback_answer.text = _(
            "The answer was lost on the way, but the number is yours: here it is."
        )
    else:
        callback_answer.text = _("Bought!")
    if message is None:
        return
    await edit_text(message, *await render(activation, account, service, locale))
    if activation.card_message_id != message.message_id:
        await service.set_card(activation.ref, message.message_id)
