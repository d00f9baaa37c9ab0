"""Texts shared by handlers and the worker: error explanations and value formatting.

Translate first, format after; the worker calls these inside ``i18n.use_locale(...)``.
"""

from __future__ import annotations

import html
from decimal import Decimal

from bot.errors import (
    Item,
    NoKeyConnected,
    NotYours,
    OtherAccount,
    ProviderUnavailable,
    StaleButton,
    UnknownAccount,
)
from bot.i18n import gettext as _
from bot.i18n import ngettext
from bot.provider import errors as pe
from bot.provider.lane import ProviderBusy

#: Every provider speaking the protocol now keeps accounts in US dollars and prices in
#: thousandths of a dollar (``ACCESS_BALANCE:17.154``; protocol reference, section 1.5): every
#: amount is written with three decimals, so amounts side by side line up (0.082, 0.140,
#: 93.950 → 93.905). A fourth decimal shows only when the amount has one (a max price of
#: 0.0001, a price of 0.3103): no part of a charge is ever rounded away.
MONEY_DECIMALS = 3
_MOST_DECIMALS = 4


def money(value: Decimal | None) -> str:
    """An amount of the provider's currency, the one way every view writes it."""
    if value is None:
        return "—"
    places = MONEY_DECIMALS
    exponent = value.normalize().as_tuple().exponent
    if isinstance(exponent, int) and -exponent > places:
        places = _MOST_DECIMALS
    return format(value.quantize(Decimal(1).scaleb(-places)), "f")


def site_name(site: str) -> str:
    """A site as its users write it: ``xn--80awl.xn--p1ai`` (how the protocol carries it)
    reads ``апл.рф``."""
    try:
        return site.encode("ascii").decode("idna")
    except UnicodeError:
        return site


def offer_line(price: Decimal | str, count: int) -> str:
    """An offer's price (an amount, or already written out) and how many numbers are in stock
    at it."""
    shown = money(price) if isinstance(price, Decimal) else price
    return ngettext(
        "Price: {price} · {count} number", "Price: {price} · {count} numbers", count
    ).format(price=shown, count=count)


def escape(text: str) -> str:
    return html.escape(text, quote=False)


def describe_error(exc: BaseException, provider: str | None = None) -> str:
    """One clear sentence (or two) with a next step, for any failure a user may meet."""
    text = _describe(exc, escape(provider or _("the provider")))
    return text[:1].upper() + text[1:]


def _describe(exc: BaseException, name: str) -> str:
    match exc:
        case NoKeyConnected():
            return _("Connect your provider account first: send /key.")
        case ProviderUnavailable():
            return _(
                "Your provider is no longer offered by this bot. Choose another one with /key."
            )
        case NotYours(item=Item.MAILBOX):
            return _("This is not one of your e-mail addresses.")
        case NotYours():
            return _("This is not one of your numbers.")
        case OtherAccount(item=Item.MAILBOX):
            return _("This address was bought with another provider account.")
        case OtherAccount():
            return _("This number was bought with another provider account.")
        case UnknownAccount():
            return _("This is not one of your provider accounts.")
        case StaleButton():
            return _("This button is out of date. Use the menu again.")
        case pe.AuthError():
            return _(
                "{provider} did not accept your API key. Check it in your profile there and "
                "send it again with /key."
            ).format(provider=name)
        case pe.InsufficientFunds():
            return _(
                "Not enough money on your balance at {provider}. Top up and try again."
            ).format(provider=name)
        case pe.WrongMaxPrice() if exc.min_price is not None:
            return _("Your maximum price is below the lowest price, {price}.").format(
                price=money(exc.min_price)
            )
        case pe.OutOfStock():
            return _(
                "No numbers are available for this choice right now. Try another country or "
                "operator, or try again later."
            )
        case pe.Banned() if exc.raw_until:
            return _("Your account at {provider} is blocked until {until}.").format(
                provider=name, until=escape(exc.raw_until)
            )
        case pe.Banned():
            return _("Your account at {provider} is blocked.").format(provider=name)
        case pe.ChannelsLimit():
            return _(
                "You have reached the limit of simultaneous numbers at {provider}. Finish or "
                "cancel some first."
            ).format(provider=name)
        case pe.AccountInactive():
            return _("Your account at {provider} is not active. Check it on their site.").format(
                provider=name
            )
        case pe.EarlyCancelDenied() if exc.seconds_left:
            return _("Cancel is possible 2 minutes after purchase: wait {seconds} s.").format(
                seconds=exc.seconds_left
            )
        case pe.EarlyCancelDenied():
            return _("Cancel is possible only 2 minutes after purchase. Try again a bit later.")
        case pe.CantCancel():
            return _("It can no longer be cancelled: the cancel window has passed.")
        case pe.AlreadyClosed():
            return _("This is already closed.")
        case pe.RentEnded():
            return _("This number can no longer be extended.")
        case pe.ReactivationUnavailable():
            return _("This number cannot be used again.")
        case pe.MaxHoursExceeded() if exc.max_hours:
            return ngettext(
                "That is longer than allowed: at most {hours} hour.",
                "That is longer than allowed: at most {hours} hours.",
                exc.max_hours,
            ).format(hours=exc.max_hours)
        case pe.NotFound():
            return _("{provider} does not know this item any more.").format(provider=name)
        case pe.BadService():
            return _("{provider} does not offer this service.").format(provider=name)
        case pe.BadCountry():
            return _("{provider} does not offer this country.").format(provider=name)
        case pe.BadOperator():
            return _("{provider} does not offer this operator here.").format(provider=name)
        case pe.BadStatus():
            return _("{provider} refused this step in the current state.").format(provider=name)
        case pe.AdditionalServiceError():
            return _("{provider} cannot add this service to this number.").format(provider=name)
        case pe.BadSite():
            return _("That does not look like a site address, for example apple.com.")
        case pe.BlockedSite():
            return _("{provider} does not sell mailboxes for this site.").format(provider=name)
        case pe.BadAction():
            return _("{provider} does not support this action.").format(provider=name)
        case pe.RateLimited():
            return _(
                "{provider} is receiving too many requests. Try again in a few seconds."
            ).format(provider=name)
        case pe.ProviderTimeout():
            return _("{provider} did not answer in time. Try again in a minute.").format(
                provider=name
            )
        case ProviderBusy():
            return _(
                "{provider} is answering slowly and many requests are already waiting for it. "
                "Try again in a minute."
            ).format(provider=name)
        case pe.TransportError() | pe.ServerError() | pe.MalformedResponse():
            return _(
                "{provider} is not answering properly right now. Try again in a minute."
            ).format(provider=name)
        case pe.ProviderAPIError():
            return _("{provider} refused the request: {reason}.").format(
                provider=name, reason=escape(exc.token)
            )
        case _:
            return _("Something went wrong on our side. It was logged; please try again.")


def requote_notice(price: Decimal | None) -> str:
    """Why a confirmation tap bought nothing (an alert: at most 200 characters)."""
    if price is not None:
        return _("The price rose to {price}. Nothing was bought: here is the new offer.").format(
            price=money(price)
        )
    return _(
        "This confirmation is no longer valid (cancelled, replaced or too old). Nothing was "
        "bought: here is the current offer."
    )
