"""Texts of /mails: the provider's mail history, a page at a time.

Pure: data in, HTML text out, inside the caller's locale; what comes from the provider is
escaped.
"""

from __future__ import annotations

from collections.abc import Sequence

from bot.i18n import gettext as _
from bot.provider.models import MailHistoryEntry
from bot.texts import escape, money, site_name
from bot.views.mail import find_code, find_links, shorten, url_host


def _history_status(status: int | None) -> str:
    match status:
        case 3:
            return "⏳ " + _("waiting")
        case 4:
            return "❌ " + _("cancelled")
        case 5:
            return "✅ " + _("letter received")
        case 6:
            return "☑ " + _("closed after a letter")
        case 7:
            return "↩ " + _("refunded")
    return "•"


def history_line(entry: MailHistoryEntry) -> str:
    when = entry.date.strftime("%Y-%m-%d %H:%M") if entry.date else "—"
    parts = [
        f"{_history_status(entry.status)} · {when}",
        escape(shorten(site_name(entry.site), 60)),
        f"<code>{escape(shorten(entry.email, 80))}</code>",
        money(entry.cost),
    ]
    if entry.value or entry.full_message:
        found = find_code(entry.value, entry.full_message)
        links = find_links(entry.value, entry.full_message)
        if found:
            parts.append(f"<code>{escape(shorten(found, 32))}</code>")
        elif links:
            parts.append("🔗 " + escape(shorten(url_host(links[0]), 60)))
    return " · ".join(parts)


def history_text(
    entries: Sequence[MailHistoryEntry],
    page: int,
    pages: int,
    labels: Sequence[str | None] = (),
    silent: Sequence[str] = (),
) -> str:
    """``labels``: each entry's account, where the user has several; ``silent``: the accounts
    that did not answer."""
    lines = [_("Your e-mail addresses, page {page} of {pages}:").format(page=page, pages=pages)]
    for index, entry in enumerate(entries):
        label = labels[index] if index < len(labels) else None
        line = history_line(entry)
        lines.append(line if label is None else f"{line} · {escape(label)}")
    if silent:
        lines += ["", _("No answer from: {accounts}.").format(accounts=escape(", ".join(silent)))]
    return "\n".join(lines)
