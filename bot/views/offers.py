"""The offers screen: every connected account's offer for a service in a country, cheapest
first, who did not answer, and which account pays (drawn from bot/services/offers.py)."""

from __future__ import annotations

from collections.abc import Sequence

from bot.i18n import gettext as _
from bot.i18n import ngettext
from bot.keyboards.buy import failure_keyboard, offers_keyboard
from bot.keyboards.markup import Keyboard
from bot.services.offers import AccountOffer, OfferBoard, Silence, SilentAccount, SoldOut
from bot.texts import escape, money

View = tuple[str, Keyboard]


def _reason(reason: Silence) -> str:
    if reason is Silence.TIMEOUT:
        return _("no answer in time")
    if reason is Silence.UNSUPPORTED:
        return _("does not sell this")
    return _("provider error")


def offer_row(offer: AccountOffer) -> str:
    """``Sandbox A — 0.30 — 12 pcs. — success 87.5%`` (the rate where the provider says it)."""
    parts = [
        escape(offer.label),
        money(offer.price),
        ngettext("{count} pc.", "{count} pcs.", offer.count).format(count=offer.count),
    ]
    if offer.rate is not None:
        # The percent sign goes with the number: in a message it would read as a %-format.
        parts.append(_("success {rate}").format(rate=f"{offer.rate.normalize():f}%"))
    return " — ".join(parts)


def sold_out_line(sold_out: Sequence[SoldOut]) -> str:
    """The accounts that answered with no numbers here; empty when there are none."""
    if not sold_out:
        return ""
    names = ", ".join(escape(s.label) for s in sold_out)
    return _("No numbers here at: {accounts}.").format(accounts=names)


def silent_line(silent: Sequence[SilentAccount]) -> str:
    """The accounts that did not answer, each with why; empty when every account answered."""
    if not silent:
        return ""
    names = ", ".join(f"{escape(s.label)} ({_reason(s.reason)})" for s in silent)
    return "⚠ " + _("Did not answer: {accounts}.").format(accounts=names)


def offers_text(board: OfferBoard, title: str, where: str) -> str:
    """The board as text (for /prices too): ``title`` the service(s) and ``where`` the country,
    both ready for HTML."""
    lines = [f"<b>{title}</b> · {where}"]
    if board.offers:
        lines.append(_("Offers of your accounts, cheapest first:"))
        lines.extend(f"{index}. {offer_row(o)}" for index, o in enumerate(board.offers, 1))
    else:
        lines.append(_("None of your accounts has numbers here right now."))
    notes = [line for line in (sold_out_line(board.sold_out), silent_line(board.silent)) if line]
    if notes:
        lines.append("")
        lines.extend(notes)
    return "\n".join(lines)


def offers_view(board: OfferBoard, title: str, where: str) -> View:
    """The offers screen of /buy: a button per offer opens its confirmation with that account
    as the payer."""
    items = [(o.account_id, f"{o.label} · {money(o.price)}") for o in board.offers]
    markup = offers_keyboard(items, board.service, board.country, _("Countries"), _("Cancel"))
    return offers_text(board, title, where), markup


def payer_line(label: str) -> str:
    """The confirmation's line that names the account that pays."""
    return _("Paid from: {account}").format(account=f"<b>{escape(label)}</b>")


def fallover_view(board: OfferBoard, failed: str, title: str, where: str) -> View:
    """After ``NO_NUMBERS`` at the account labelled ``failed``: the next account's offer in one
    tap (``board``: the offers with the failed accounts already moved to sold out), or word
    that no other account has numbers here."""
    lines = [
        f"<b>{title}</b> · {where}",
        _("{account} has no numbers for this right now.").format(account=escape(failed)),
    ]
    following = board.cheapest()
    if following is None:
        lines.append(_("None of your other accounts has them either. Choose another country."))
        note = silent_line(board.silent)
        if note:
            lines.append(note)
        return "\n".join(lines), failure_keyboard(_("Countries"), _("Cancel"))
    lines.append(
        _("{account} has them for {price}.").format(
            account=escape(following.label), price=money(following.price)
        )
    )
    label = _("Buy at {account} for {price}").format(
        account=following.label, price=money(following.price)
    )
    markup = offers_keyboard(
        [(following.account_id, label)], board.service, board.country, _("Countries"), _("Cancel")
    )
    return "\n".join(lines), markup
