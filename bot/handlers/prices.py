"""/prices: a service's offers by country, or in one country every account's offer.

Read-only: it buys nothing, so it names no order and no payer.
"""

from __future__ import annotations

from aiogram.filters import Command, CommandObject
from aiogram.types import Message

from bot.accounts import Accounts, UserAccount
from bot.catalogue import pick_countries, search_services, service_name
from bot.handlers.routes import Routes
from bot.i18n import gettext as _
from bot.middlewares.account import NEEDS_ACCOUNT
from bot.provider.presets import Feature
from bot.services.catalogue import CatalogueService
from bot.services.offers import OfferService
from bot.storage.users import UserGlance
from bot.texts import escape
from bot.views.activation import prices_text
from bot.views.buy import place
from bot.views.offers import offers_text

router = Routes(name=__name__)


@router.message(Command("prices"), flags=NEEDS_ACCOUNT)
async def prices_command(
    message: Message,
    command: CommandObject,
    account: UserAccount,
    catalogue: CatalogueService,
    locale: str,
    accounts: Accounts,
    offer_service: OfferService,
    glance: UserGlance | None = None,
) -> None:
    """``/prices <service>``, or ``/prices <service> <country>`` (its number or name): in
    one country, with several accounts, every account's offer."""
    query = (command.args or "").strip()
    if not query:
        await message.answer(_("Which service? For example: /prices telegram"))
        return
    code, where = await _service_of(query, account, catalogue, locale)
    if code is None:
        await message.answer(
            _("I do not know the service {service}.").format(service=escape(query[:50]))
        )
        return
    found = pick_countries(where) if where else []
    if where and not found:
        await message.answer(
            _("I do not know the country {country}.").format(
                country=f"<code>{escape(where[:30])}</code>"
            )
        )
        return
    every = await accounts.all(account.user_id, glance)
    several = [a for a in every if a.supports(Feature.ACTIVATIONS)]
    if len(found) == 1 and len(several) > 1:
        # Each account asked at once with its own timeout: a silent one is named, not waited for.
        board = await offer_service.board(several, code, found[0])
        title = escape(service_name(code, locale))
        await message.answer(offers_text(board, title, place(found[0], locale)))
        return
    offers = await catalogue.offers(account, code)
    if where:
        offers = [offer for offer in offers if offer.country in found]
    if not offers:
        title = escape(service_name(code, locale))
        await message.answer(_("No numbers for {service} right now.").format(service=title))
        return
    rates = await catalogue.rates(account, code)
    await message.answer(prices_text(code, offers[:15], rates, locale))


async def _service_of(
    query: str, account: UserAccount, catalogue: CatalogueService, locale: str
) -> tuple[str | None, str]:
    """The service ``query`` names and the country words after it: the whole query when it is
    a service ("whats app"), else its first word."""
    first, _space, rest = query.partition(" ")
    for words, where in ((query, ""), (first, rest.strip())):
        if await catalogue.is_service(account, words.lower()):
            return words.lower(), where
        matches = search_services(words, locale)
        if matches:
            return matches[0].code, where
    return None, ""
