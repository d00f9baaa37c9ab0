"""Texts of the /mail dialog: the site, the offered addresses, the confirmation.

Pure: data in, HTML text out, inside the caller's locale; what comes from the user or the
provider is escaped.
"""

from __future__ import annotations

from decimal import Decimal

from bot.i18n import gettext as _
from bot.i18n import ngettext
from bot.provider.models import MailType
from bot.services.mail_rules import MAIL_LIFETIME
from bot.services.mails import MailOffer
from bot.texts import escape, money, site_name
from bot.views.mail import shorten


def offer_label(offer: MailOffer) -> str:
    if offer.mail_type is MailType.ZONE:
        return f"*.{offer.name} · {money(offer.cost)}"
    return f"{offer.name} · {money(offer.cost)} · {offer.count}"


def offer_place(offer: MailOffer) -> str:
    if offer.mail_type is MailType.ZONE:
        return _("An address in the .{zone} zone").format(zone=escape(offer.name))
    return _("An address on {domain}").format(domain=escape(offer.name))


def site_prompt() -> str:
    return _(
        "Which site is the e-mail address for? Send its address, for example apple.com or "
        "instagram.com."
    )


def bad_site_text(text: str) -> str:
    return _("“{text}” is not a site address. Send just the site, for example apple.com.").format(
        text=escape(shorten(text.strip(), 60))
    )


def domains_text(site: str) -> str:
    return "\n".join(
        [
            _("E-mail for {site}: choose the address.").format(
                site=f"<b>{escape(site_name(site))}</b>"
            ),
            _("Popular mail services show price · addresses left."),
            _("A zone like *.info gives an address on some domain in that zone, for its price."),
        ]
    )


def no_offers_text(site: str, provider: str) -> str:
    return _(
        "{provider} offers no e-mail addresses for {site} right now. Try again later, or send "
        "another site."
    ).format(provider=escape(provider), site=f"<b>{escape(site_name(site))}</b>")


def confirm_text(site: str, offer: MailOffer, balance: Decimal) -> str:
    lines = [
        "📧 "
        + _("{place} for {site}").format(
            place=offer_place(offer), site=f"<b>{escape(site_name(site))}</b>"
        ),
        _("Price: {price}").format(price=money(offer.cost)),
        _("Balance: {balance} → {after} after the purchase").format(
            balance=money(balance), after=money(balance - offer.cost)
        ),
    ]
    if balance < offer.cost:
        lines.append("⚠ " + _("Not enough money for this purchase: top up your balance first."))
    lines.append("")
    lines.append(
        ngettext(
            "The mailbox waits {minutes} minute for a letter; if none comes, the money is "
            "refunded.",
            "The mailbox waits {minutes} minutes for a letter; if none comes, the money is "
            "refunded.",
            int(MAIL_LIFETIME // 60),
        ).format(minutes=int(MAIL_LIFETIME // 60))
    )
    return "\n".join(lines)


def buy_label(offer: MailOffer) -> str:
    return _("Buy for {price}").format(price=money(offer.cost))


def purchase_unknown_text(provider: str) -> str:
    return _(
        "{provider} did not confirm the purchase. I am checking whether it went through: "
        "within a minute the address's card appears here, or word that nothing was bought."
    ).format(provider=escape(provider))
