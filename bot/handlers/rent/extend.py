"""Extending a rent: the card's Extend, the durations, the quote and its confirmation.

The dialog is a new message below the card; the card is redrawn once the rent is extended.
Every button names the rent and is flagged ``OWNED``: the rent is checked to be the presser's
own before the provider is asked.
"""

from __future__ import annotations

from aiogram import F
from aiogram.fsm.context import FSMContext
from aiogram.types import CallbackQuery, Message
from aiogram.utils.callback_answer import CallbackAnswer

from bot.handlers.cancelled import cancel_dialog
from bot.handlers.rent.card import show_card
from bot.handlers.rent.context import OWNED, Wizard, step
from bot.handlers.rent.dialog import RentFlow, load_draft, read_hours, update_draft
from bot.handlers.rent.outcome import OutcomeTexts, settle
from bot.handlers.routes import Routes
from bot.handlers.unsettled import alert, dead_quote
from bot.i18n import gettext as _
from bot.keyboards.callback_data import CallbackFilter
from bot.keyboards.callbacks import (
    RentCallback,
    RentCardAction,
    RentExtendAction,
    RentExtendCallback,
)
from bot.keyboards.markup import Keyboard
from bot.keyboards.rent import (
    extend_confirm_keyboard,
    extend_durations_keyboard,
    max_hours_keyboard,
)
from bot.middlewares.callback_answer import BUYING
from bot.provider import errors as pe
from bot.provider.presets import Feature
from bot.services.checkout import OrderKind
from bot.services.rent_purchases import ExtendOrder
from bot.services.rent_rules import can_extend
from bot.storage.orders import OrderRepo
from bot.storage.rents import Rent
from bot.telegram import edit_text, show
from bot.texts import describe_error, escape
from bot.views.rent import (
    duration_label,
    duration_refused,
    extend_durations_text,
    extended_text,
    hours_problem,
    longest_offer,
    not_offered_text,
    quote_label,
    quote_text,
)

router = Routes(name=__name__)

Target = CallbackQuery | Message


def _on(action: RentExtendAction) -> CallbackFilter:
    """The filter of a button of the extension dialog."""
    return RentExtendCallback.filter(F.action == action)


async def _ask_duration(wizard: Wizard, rent: Rent) -> tuple[str, Keyboard]:
    """Enter the extension dialog of ``rent``: its question and durations, for the caller."""
    hours = await wizard.service.durations(wizard.account)
    await wizard.state.set_state(RentFlow.extend)
    await update_draft(wizard.state, lambda old: old.extending(rent.id))
    markup = extend_durations_keyboard(
        rent.id, [(h, duration_label(h)) for h in hours], _("Cancel")
    )
    return extend_durations_text(rent), markup


@router.callback_query(RentCallback.filter(F.action == RentCardAction.EXTEND), flags=OWNED)
async def offer_extension(
    query: CallbackQuery, rent: Rent, wizard: Wizard, callback_answer: CallbackAnswer
) -> None:
    # Extend is also under the reminder, which stays a reminder: only cards are redrawn.
    tapped = query.message if isinstance(query.message, Message) else None
    await show_card(tapped if tapped and tapped.message_id in rent.cards else None, rent, wizard)
    if not can_extend(rent):
        alert(callback_answer, _("This rent cannot be extended: it was cancelled or taken back."))
        return
    if not wizard.account.supports(Feature.RENT):
        alert(callback_answer, not_offered_text(wizard.provider))
        return
    text, markup = await _ask_duration(wizard, rent)
    if isinstance(query.message, Message):
        # Below the card, as a new message: the dialog's menu.
        await show(query.message, text, markup)


@router.callback_query(_on(RentExtendAction.CANCEL), flags=OWNED)
async def cancel(
    query: CallbackQuery, state: FSMContext, callback_answer: CallbackAnswer, orders: OrderRepo
) -> None:
    # OWNED: only the rent's owner ends its dialog, though nothing else of it is read.
    text = _("Nothing was extended.")
    await cancel_dialog(query, state, callback_answer, text, orders, OrderKind.RENT_EXTENSION)


@router.callback_query(_on(RentExtendAction.DURATIONS), flags=OWNED)
async def other_duration(query: CallbackQuery, rent: Rent, wizard: Wizard) -> None:
    text, markup = await _ask_duration(wizard, rent)
    await show(query, text, markup)


@router.callback_query(_on(RentExtendAction.HOURS), flags=OWNED)
async def hours_chosen(
    query: CallbackQuery,
    callback_data: RentExtendCallback,
    rent: Rent,
    wizard: Wizard,
    callback_answer: CallbackAnswer,
) -> None:
    problem = hours_problem(callback_data.hours)
    if problem is not None:
        alert(callback_answer, problem)
        return
    await show_quote(wizard, query, rent, callback_data.hours)


@router.message(RentFlow.extend, F.text, ~F.text.startswith("/"), flags=step())
async def hours_typed(message: Message, wizard: Wizard) -> None:
    hours = await read_hours(message, message.text or "")
    if hours is None:
        return
    draft = await load_draft(wizard.state)
    rent = await wizard.service.rents.find(message.chat.id, draft.extend_id or 0)
    if rent is None:
        await wizard.state.clear()
        await message.answer(_("This rent is no longer here. See /rents."))
        return
    await show_quote(wizard, message, rent, hours)


async def show_quote(wizard: Wizard, target: Target, rent: Rent, hours: int) -> None:
    """The price of extending by ``hours``, with a confirmation that extends at most once."""
    other, cancel = _("Other duration"), _("Cancel")
    try:
        quote = await wizard.service.quote(wizard.account, rent, hours)
    except pe.MaxHoursExceeded as error:
        await show(target, *_max_hours(wizard, rent, error))
        return
    except (pe.RentEnded, pe.NoRent, pe.InvalidTime) as error:
        refusal = (
            duration_refused(wizard.provider, hours)
            if isinstance(error, pe.InvalidTime)
            else describe_error(error, wizard.provider)
        )
        await show(target, refusal, max_hours_keyboard(rent.id, None, other, cancel))
        return
    balance = await wizard.account.client.get_balance()
    token = await wizard.service.draft_extension(wizard.account, rent, quote)
    await show(
        target,
        quote_text(rent, quote, balance, wizard.provider),
        extend_confirm_keyboard(rent.id, (quote_label(quote), token), other, cancel),
    )


def _max_hours(wizard: Wizard, rent: Rent, error: pe.MaxHoursExceeded) -> tuple[str, Keyboard]:
    text = describe_error(error, wizard.provider)
    offer = longest_offer(error.max_hours)
    return text, max_hours_keyboard(rent.id, offer, _("Other duration"), _("Cancel"))


@router.callback_query(_on(RentExtendAction.CONFIRM), flags={**OWNED, **BUYING})
async def confirmed(
    query: CallbackQuery,
    callback_data: RentExtendCallback,
    rent: Rent,
    wizard: Wizard,
    callback_answer: CallbackAnswer,
) -> None:
    await show_extended(wizard, query, callback_answer, rent, callback_data.token)


async def show_extended(
    wizard: Wizard,
    query: CallbackQuery,
    callback_answer: CallbackAnswer,
    rent: Rent,
    token: str,
) -> None:
    """Carry out the extension, then tell the new end here and redraw the card."""
    result = await wizard.service.extend(wizard.account, token)
    order = dead_quote(result, callback_answer, ExtendOrder)
    if order is not None:
        # Nothing was paid: the same extension, quoted afresh (the quote reads the price now).
        await show_quote(wizard, query, rent, order.hours)
        return
    texts = OutcomeTexts(
        expired=_("This confirmation is out of date. Press Extend on the card again."),
        unknown=_(
            "{provider} did not confirm the extension. Check the end time on the card and at "
            "{provider} before trying again."
        ).format(provider=escape(wizard.provider)),
        done=_("Extended."),
        already=_("Already extended: here it is."),
        renewed=_("Rented again: the card follows the new order."),
    )
    outcome = await settle(query, wizard.state, callback_answer, result, texts)
    message = query.message if isinstance(query.message, Message) else None
    if isinstance(outcome, pe.MaxHoursExceeded):
        if message is not None:
            await edit_text(message, *_max_hours(wizard, rent, outcome))
        return
    if isinstance(outcome, pe.ProviderError):
        if message is not None:
            await edit_text(
                message,
                describe_error(outcome, wizard.provider),
                max_hours_keyboard(rent.id, None, _("Other duration"), _("Cancel")),
            )
        return
    if outcome is None:
        return
    if message is not None:
        await edit_text(message, extended_text(outcome))
    await show_card(None, outcome, wizard)
