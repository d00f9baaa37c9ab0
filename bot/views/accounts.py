"""The /key screen and /balance across the user's provider accounts."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal

from bot.i18n import gettext as _
from bot.i18n import ngettext
from bot.texts import escape, money

DEFAULT_MARK = "⭐"


@dataclass(frozen=True, slots=True)
class AccountRow:
    label: str
    provider: str  # the provider's title
    balance: Decimal | None  # None: it did not answer in time
    default: bool
    currency: str = "USD"

    @property
    def name(self) -> str:
        """The account's label, with the provider's title when the user named it."""
        if self.label.startswith(self.provider):
            return self.label
        return f"{self.label} ({self.provider})"

    def button(self) -> str:
        return f"{DEFAULT_MARK} {self.name}" if self.default else self.name


def _line(row: AccountRow) -> str:
    mark = DEFAULT_MARK if row.default else "•"
    amount = (
        f"<b>{money(row.balance)}</b>"
        if row.balance is not None
        else _("balance not available right now")
    )
    return f"{mark} {escape(row.name)}: {amount}"


def accounts_text(rows: Sequence[AccountRow], note: str = "") -> str:
    lines = [note, ""] if note else []
    lines.append(_("Your provider accounts:"))
    lines += [_line(row) for row in rows]
    lines.append("")
    lines.append(
        _("{mark} marks the default account: new purchases use it.").format(mark=DEFAULT_MARK)
    )
    lines.append(_("Tap an account to rename it, make it the default or remove it."))
    return "\n".join(lines)


def account_text(row: AccountRow) -> str:
    lines = [_("Account: {name}").format(name=f"<b>{escape(row.name)}</b>")]
    if row.default:
        lines.append(_("This is your default account."))
    return "\n".join(lines)


def removal_question(name: str, open_items: int) -> str:
    if not open_items:
        return _("Remove the account {name}? I will forget its key.").format(
            name=f"<b>{escape(name)}</b>"
        )
    return ngettext(
        "The account {name} has {count} open item. I will keep following it with this key "
        "until it closes, then forget the key. Remove the account?",
        "The account {name} has {count} open items. I will keep following them with this key "
        "until they close, then forget the key. Remove the account?",
        open_items,
    ).format(name=f"<b>{escape(name)}</b>", count=open_items)


def removed_note(name: str, open_items: int) -> str:
    if not open_items:
        return _("The account {name} is removed and its key forgotten.").format(name=escape(name))
    return ngettext(
        "The account {name} is removed. I keep following its {count} open item until it closes.",
        "The account {name} is removed. I keep following its {count} open items until they close.",
        open_items,
    ).format(name=escape(name), count=open_items)


def balance_text(rows: Sequence[AccountRow]) -> str:
    """Every account's balance, then the total per currency (of those that answered)."""
    lines = [_line(row) for row in rows]
    totals: dict[str, Decimal] = defaultdict(Decimal)
    for row in rows:
        if row.balance is not None:
            totals[row.currency] += row.balance
    if len(rows) > 1 and totals:
        for currency, total in totals.items():
            lines.append(
                _("Total: {amount} {currency}").format(
                    amount=f"<b>{money(total)}</b>", currency=currency
                )
            )
    return "\n".join(lines)
