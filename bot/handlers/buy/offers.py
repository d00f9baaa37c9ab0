"""/buy across a user's accounts: every account's offer for the chosen service and country,
the tap that makes one of them the payer, and the next account's offer after NO_NUMBERS.

Money moves only on what the user saw: the account a button names is checked to be the
presser's own (``Accounts.by_id``, a forged one is refused by the errors router), and the
confirmation it opens names that account and carries its order.
"""

from __future__ import annotations

from aiogram import F
from aiogram.types import CallbackQuery, Message
from aiogram.utils.callback_answer import CallbackAnswer

from bot.accounts import UserAccount
from bot.handlers.buy.draft import BuyContext, BuyFlow, Needs, step
from bot.handlers.buy.options import show_options
from bot.handlers.routes import Routes
from bot.handlers.unsettled import alert
from bot.i18n import gettext as _
from bot.keyboards.callbacks import BuyAction, BuyCallback, BuyOfferCallback
from bot.services.offers import OfferBoard
from bot.telegram import show
from bot.views.buy import place, services_title
from bot.views.offers import fallover_view, offers_view

router = Routes(name=__name__)


def _chosen(buy: BuyContext) -> tuple[str, int]:
    """The draft's service and country (the steps here need both)."""
    service, country = buy.draft.service, buy.draft.country
    assert service is not None
    assert country is not None
    return service, country


def _where(buy: BuyContext, board: OfferBoard) -> tuple[str, str]:
    """The screen's title (the service) and place (the country), ready for HTML."""
    return services_title([board.service], buy.locale), place(board.country, buy.locale)


async def show_offers(
    target: CallbackQuery | Message, buy: BuyContext, accounts: list[UserAccount]
) -> None:
    """Every account's offer for the draft's service and country, cheapest first."""
    service, country = _chosen(buy)
    board = await buy.offer_service.board(accounts, service, country)
    await buy.save(BuyFlow.country)
    await show(target, *offers_view(board.without(*buy.draft.failed), *_where(buy, board)))


async def show_cheapest(
    target: CallbackQuery | Message, buy: BuyContext, accounts: list[UserAccount]
) -> None:
    """``/buy tg 6`` with several accounts: the confirmation of the cheapest offer with
    numbers, naming its account; the offers screen when no account has any."""
    best, board = await buy.offer_service.cheapest(accounts, *_chosen(buy))
    if best is None:
        await buy.save(BuyFlow.country)
        await show(target, *offers_view(board, *_where(buy, board)))
        return
    chosen = next(a for a in accounts if a.account_id == best.account_id)
    await show_options(target, buy.paid_by(chosen), offers=True)


async def show_fallover(
    target: Message, buy: BuyContext, accounts: list[UserAccount], failed: UserAccount
) -> None:
    """After NO_NUMBERS at ``failed``: the next account's offer in one tap, skipping every
    account that already said so for this service and country."""
    draft = buy.draft
    if failed.account_id not in draft.failed:
        draft.failed.append(failed.account_id)
    _next, board = await buy.offer_service.fallover(accounts, *_chosen(buy), *draft.failed)
    await buy.save(BuyFlow.country)
    await show(target, *fallover_view(board, failed.label, *_where(buy, board)))


@router.callback_query(BuyOfferCallback.filter(), flags=step(Needs.COUNTRY))
async def offer_chosen(
    query: CallbackQuery,
    callback_data: BuyOfferCallback,
    buy: BuyContext,
    callback_answer: CallbackAnswer,
) -> None:
    """One account's offer: its confirmation, with that account paying."""
    draft = buy.draft
    if (callback_data.service, callback_data.country) != (draft.service, draft.country):
        alert(callback_answer, _("This menu is out of date. Start again with /buy."))
        return
    # UnknownAccount (a StaleButton) for an id that is not one of the presser's accounts.
    account = await buy.accounts.by_id(buy.account.user_id, callback_data.account, buy.glance)
    await show_options(query, buy.paid_by(account), offers=True)


@router.callback_query(BuyCallback.filter(F.action == BuyAction.OFFERS), flags=step(Needs.COUNTRY))
async def other_offers(query: CallbackQuery, buy: BuyContext) -> None:
    """From a confirmation: the offers of every account again."""
    accounts = await buy.all_accounts()
    await show_offers(query, buy, accounts)
