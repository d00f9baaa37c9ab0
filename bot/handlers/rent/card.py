"""The rent card's buttons (finish, cancel, refresh, show) and /rents.

A button names a rent by id: it is flagged ``OWNED``, so the handler is given the rent only once
it is found among the presser's own rents, and a ``wizard`` on the account it was rented with.
"""

from __future__ import annotations

from aiogram import F
from aiogram.filters import Command
from aiogram.types import CallbackQuery, Message
from aiogram.utils.callback_answer import CallbackAnswer

from bot.accounts import Accounts, UserAccount
from bot.handlers.owned import each_account, item_labels
from bot.handlers.rent.context import OWNED, Wizard
from bot.handlers.routes import Routes
from bot.handlers.unsettled import alert
from bot.i18n import gettext as _
from bot.keyboards.callbacks import RentCallback, RentCardAction
from bot.keyboards.rent import rents_keyboard
from bot.middlewares.account import NEEDS_ACCOUNT
from bot.provider import errors as pe
from bot.provider.presets import Feature
from bot.services.rents import RentService
from bot.storage.rents import Rent
from bot.telegram import inline_markup
from bot.texts import describe_error
from bot.views.rent import card_markup, card_text, rent_button_label, rents_text

router = Routes(name=__name__)

LIST_LIMIT = 30


async def show_card(message: Message | None, rent: Rent, wizard: Wizard) -> None:
    """The rent's card as of now, in ``message`` (the one tapped; None: only where the card
    already is, as after the extension dialog) and in every other copy of it."""
    now = wizard.service.clock()
    text, markup = card_text(rent, wizard.locale, now), card_markup(rent, now)
    await wizard.copies.draw(message, rent, wizard.service.rents, text, markup)


@router.callback_query(
    RentCallback.filter(F.action.in_({RentCardAction.FINISH, RentCardAction.CANCEL})), flags=OWNED
)
async def close(
    query: CallbackQuery,
    callback_data: RentCallback,
    rent: Rent,
    wizard: Wizard,
    callback_answer: CallbackAnswer,
) -> None:
    message = query.message if isinstance(query.message, Message) else None
    if not rent.is_open:
        alert(callback_answer, _("This rent is already over."))
        await show_card(message, rent, wizard)
        return
    finish = callback_data.action is RentCardAction.FINISH
    service, account = wizard.service, wizard.account
    try:
        updated = await (
            service.finish(account, rent) if finish else service.cancel(account, rent)
        )
    except (pe.CantCancel, pe.AlreadyClosed, pe.NoRent) as error:
        # The provider sees another state than the card: say why, then show its real state.
        alert(callback_answer, describe_error(error, wizard.provider))
        updated = await _reread(account, rent, service)
    else:
        callback_answer.text = _("Finished.") if finish else _("Cancelled, the money is refunded.")
    await show_card(message, updated, wizard)


async def _reread(account: UserAccount, rent: Rent, service: RentService) -> Rent:
    try:
        return await service.refresh(account, rent)
    except pe.NoRent:
        return await service.close_unknown(rent.ref)
    except pe.ProviderError:
        return await service.rents.get(rent.ref) or rent


@router.callback_query(RentCallback.filter(F.action == RentCardAction.REFRESH), flags=OWNED)
async def refresh(
    query: CallbackQuery, rent: Rent, wizard: Wizard, callback_answer: CallbackAnswer
) -> None:
    updated = await wizard.service.refresh(wizard.account, rent)
    callback_answer.text = _("Updated.")
    await show_card(query.message if isinstance(query.message, Message) else None, updated, wizard)


@router.callback_query(RentCallback.filter(F.action == RentCardAction.SHOW), flags=OWNED)
async def show_again(query: CallbackQuery, rent: Rent, wizard: Wizard) -> None:
    """A rent picked in /rents: its card as a new message, which the worker then keeps up."""
    if not isinstance(query.message, Message):
        return
    now = wizard.service.clock()
    sent = await query.message.answer(
        card_text(rent, wizard.locale, now), reply_markup=inline_markup(card_markup(rent, now))
    )
    await wizard.service.set_card(rent.ref, sent.message_id)


@router.message(Command("rents"), flags=NEEDS_ACCOUNT)
async def rents_command(
    message: Message,
    account: UserAccount,
    rent_service: RentService,
    accounts: Accounts,
    locale: str,
) -> None:
    await each_account(accounts, account.user_id, rent_service.reconcile, Feature.RENT)
    await rent_service.rents.prune(account.user_id, rent_service.clock())
    rents = await rent_service.rents.of_user(account.user_id, limit=LIST_LIMIT)
    if not rents:
        await message.answer(_("You have no rents. /rent a number?"))
        return
    rents.sort(key=lambda r: (not r.is_open, -r.created_at))
    labels = await item_labels(accounts, account.user_id, rents)
    items = [(rent.id, rent_button_label(rent, locale, labels)) for rent in rents]
    await message.answer(
        rents_text(rents, locale, labels), reply_markup=inline_markup(rents_keyboard(items))
    )
