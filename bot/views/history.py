"""/history: the providers' activation history, merged across the user's accounts."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime

from bot.catalogue import service_name
from bot.i18n import gettext as _
from bot.keyboards.activation import history_keyboard
from bot.keyboards.markup import Keyboard
from bot.keyboards.pager import Page
from bot.provider.models import HistoryEntry
from bot.storage.activations import Activation
from bot.storage.records import make_ref
from bot.texts import escape, money
from bot.views.common import format_code

_HISTORY_MARKS = {"6": "✅", "8": "❌", "10": "↩", "2": "📩", "3": "⏳", "4": "⏳"}
#: Statuses of an activation still under way: the provider's history says cost 0 for them
#: (the charge is settled when it ends), which is not what the user paid.
_HISTORY_OPEN = frozenset({"2", "3", "4"})


def _history_legend(marks: set[str]) -> str:
    meanings = {
        "✅": _("✅ finished"),
        "❌": _("❌ cancelled"),
        "↩": _("↩ refunded"),
        "📩": _("📩 code received"),
        "⏳": _("⏳ waiting"),
    }
    return " · ".join(text for mark, text in meanings.items() if mark in marks)


@dataclass(frozen=True, slots=True)
class HistoryItem:
    """One line of /history: the provider's entry, whose it is, and the account's label when
    the user has several accounts sharing history."""

    entry: HistoryEntry
    provider: str
    label: str | None = None


def history_view(
    page: Page[HistoryItem],
    known: Mapping[str, Activation],
    locale: str,
    silent: Sequence[str] = (),
) -> tuple[str, Keyboard | None]:
    """A page of the providers' history, newest first; ``known``: the bot's own records of
    these entries (by ref), which name the service and the price where the provider's history
    does not; ``silent``: the accounts that did not answer."""
    lines = [
        _("Your activations, page {page} of {pages}:").format(page=page.page + 1, pages=page.pages)
    ]
    marks: set[str] = set()
    for item in page.items:
        entry = item.entry
        record = known.get(make_ref(item.provider, entry.id))
        service = entry.service or (record.service if record is not None else None)
        cost = entry.cost
        if entry.status in _HISTORY_OPEN and not cost:
            cost = record.cost if record is not None else None
        when = entry.date.strftime("%Y-%m-%d %H:%M") if entry.date else "—"
        codes = ", ".join(format_code(service, code) for code in entry.codes) or "—"
        mark = _HISTORY_MARKS.get(entry.status or "", "•")
        marks.add(mark)
        parts = [f"{mark} {when}"]
        if service:
            parts.append(escape(service_name(service, locale)))
        parts += [f"<code>+{escape(entry.phone)}</code>", money(cost), escape(codes)]
        if item.label:
            parts.append(escape(item.label))
        lines.append(" · ".join(parts))
    legend = _history_legend(marks)
    if legend:
        lines += ["", legend]
    if silent:
        lines += ["", _("No answer from: {accounts}.").format(accounts=escape(", ".join(silent)))]
    return "\n".join(lines), history_keyboard(page.page, page.pages)


def newest_first(items: list[HistoryItem]) -> list[HistoryItem]:
    return sorted(items, key=lambda item: item.entry.date or datetime.min, reverse=True)
