"""E-mail verification texts: offers, confirmation, the mailbox card, letters, history.

Pure: data in, HTML text and markup out, inside the caller's locale. Whatever comes from the
provider or a letter is escaped. Telegram allows 4096 characters once entities are parsed, so
letters are measured as the user will see them and cut as plain text before escaping: a cut
never falls inside a tag or an entity.
"""

from __future__ import annotations

import html
import math
import re
import time
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from urllib.parse import urlsplit

from aiogram.types import InlineKeyboardMarkup
from aiogram.utils.i18n import gettext as _

from bot.keyboards.mail import CardLabels, card_keyboard, letter_keyboard
from bot.provider import errors as pe
from bot.provider.models import MailHistoryEntry, MailType
from bot.services.mail_rules import MAIL_LIFETIME
from bot.services.mails import MailOffer
from bot.storage.mails import Letter, Mailbox, MailState
from bot.texts import describe_error, escape, money

#: Telegram's limit on a message's text after entities are parsed.
MESSAGE_LIMIT = 4096
#: Room kept free below the limit for what Telegram counts differently (trimmed spaces).
_SLACK = 16
LINK_BUTTONS = 3
#: Longer links stay in the letter's text instead of becoming a button.
BUTTON_URL_LIMIT = 1024
#: The card lists this many latest letters.
CARD_LETTERS = 8

_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
_HTML_HINT = re.compile(r"<(?:html|body|div|p|br|table|a)\b[^>]*>", re.I)
_HTML_DROP = re.compile(r"<(script|style|head)\b.*?</\1\s*>", re.I | re.S)
_HTML_BREAK = re.compile(r"<(?:br\s*/?|/p|/div|/tr|/li|/h[1-6]|/table)\s*>", re.I)
_TAG = re.compile(r"<[^>]*>")
_URL = re.compile(r"https?://[^\s<>\"'\[\]]+", re.I)
_HREF = re.compile(r"""href\s*=\s*["']?(https?://[^"'\s>]+)""", re.I)
_URL_TAIL = ".,;:!?)»\"'"
_KEYWORD = re.compile(r"(?i)\b(?:code|passcode|otp|pin|password|код|пароль)")
_CODE = re.compile(r"(?<![\w/.-])(\d{3}[- ]\d{3}|(?=[A-Za-z]*\d)[A-Za-z0-9]{4,8})(?![\w/-])")
_SIX_DIGITS = re.compile(r"(?<![\d.,/-])(\d{6}|\d{3}[- ]\d{3})(?![\d.,/-])")
_SHORT_VALUE = re.compile(r"^(?=[\w-]*\d)[\w-]{3,16}$")


# --- measuring and cutting ---


def utf16_len(text: str) -> int:
    return len(text) + sum(1 for char in text if ord(char) > 0xFFFF)


def visible_length(markup: str) -> int:
    """The length Telegram counts for HTML ``markup`` we built (tags gone, entities decoded)."""
    return utf16_len(html.unescape(_TAG.sub("", markup)))


def _fitting(text: str, units: int) -> int:
    """How many characters of ``text`` fit into ``units`` UTF-16 code units."""
    used = 0
    for index, char in enumerate(text):
        used += 2 if ord(char) > 0xFFFF else 1
        if used > units:
            return index
    return len(text)


def shorten(text: str, units: int) -> str:
    """``text`` cut to ``units`` (with "…" when cut)."""
    if utf16_len(text) <= units:
        return text
    return text[: _fitting(text, max(0, units - 1))].rstrip() + "…"


def split_text(text: str, units: int) -> list[str]:
    """Pieces of at most ``units``, split at a line break or a space where there is one."""
    pieces = []
    rest = text
    while rest:
        if utf16_len(rest) <= units:
            pieces.append(rest)
            break
        end = _fitting(rest, units)
        cut = rest.rfind("\n", 0, end)
        if cut < end // 2:
            cut = rest.rfind(" ", 0, end)
        if cut < end // 2:
            cut = end
        pieces.append(rest[:cut].rstrip())
        rest = rest[cut:].lstrip()
    return [piece for piece in pieces if piece]


# --- reading a letter ---


def plain_letter(raw: str | None) -> str:
    """The letter as readable text: HTML mail loses its tags, blank runs are squeezed."""
    text = _CONTROL.sub("", (raw or "").replace("\r\n", "\n").replace("\r", "\n"))
    if _HTML_HINT.search(text):
        text = _HTML_DROP.sub("", text)
        text = _HTML_BREAK.sub("\n", text)
        text = html.unescape(_TAG.sub("", text))
    text = "\n".join(line.strip() for line in text.split("\n"))
    return re.sub(r"\n{3,}", "\n\n", text).strip()


def _urls(text: str) -> list[str]:
    return [url.rstrip(_URL_TAIL) for url in _URL.findall(text)]


def find_links(value: str | None, raw: str | None) -> list[str]:
    """Links to act on: the one the provider picked out, else those in the letter."""
    found = _urls(value or "")
    if not found:
        found = [html.unescape(href) for href in _HREF.findall(raw or "")]
        found += _urls(plain_letter(raw))
    unique = []
    for url in found:
        if url not in unique and urlsplit(url).hostname:
            unique.append(url)
    return unique


def _code_in(text: str) -> str | None:
    """A code next to a word like "code" (after it, else before it), else six digits alone."""
    text = _URL.sub(" ", text)
    candidates = list(_CODE.finditer(text))
    for keyword in _KEYWORD.finditer(text):
        start, end = keyword.start(), keyword.end()
        after = [c for c in candidates if end <= c.start() <= end + 40]
        if after:
            return after[0].group(1)
        before = [c for c in candidates if start - 24 <= c.start() and c.end() <= start]
        if before:
            return before[-1].group(1)
    found = _SIX_DIGITS.search(text)
    return found.group(1) if found else None


def find_code(value: str | None, raw: str | None) -> str | None:
    """The code to type: the provider's value when it is one, else one found in the letter."""
    candidate = (value or "").strip()
    if candidate and not _URL.search(candidate):
        if _SHORT_VALUE.match(candidate):
            return candidate
        found = _code_in(candidate)
        if found is not None:
            return re.sub(r"[- ]", "", found)
    found = _code_in(plain_letter(raw))
    return re.sub(r"[- ]", "", found) if found else None


@dataclass(frozen=True, slots=True)
class Essentials:
    code: str | None
    links: list[str]


def essentials(letter: Letter) -> Essentials:
    return Essentials(
        find_code(letter.value, letter.full_message),
        find_links(letter.value, letter.full_message),
    )


def _host(url: str) -> str:
    return urlsplit(url).hostname or url


def letter_summary(letter: Letter) -> str:
    """One line for the card: the code, else the link's site."""
    found = essentials(letter)
    if found.code:
        return f"🔑 <code>{escape(shorten(found.code, 64))}</code>"
    if found.links:
        return "🔗 " + escape(shorten(_host(found.links[0]), 80))
    return "✉️ " + escape(shorten(plain_letter(letter.full_message or letter.value), 80))


# --- choosing and confirming ---


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
            _("E-mail for {site}: choose the address.").format(site=f"<b>{escape(site)}</b>"),
            _("Popular mail services show price · addresses left."),
            _("A zone like *.info gives an address on some domain in that zone, for its price."),
        ]
    )


def no_offers_text(site: str, provider: str) -> str:
    return _(
        "{provider} offers no e-mail addresses for {site} right now. Try again later, or send "
        "another site."
    ).format(provider=escape(provider), site=f"<b>{escape(site)}</b>")


def confirm_text(site: str, offer: MailOffer, balance: Decimal) -> str:
    lines = [
        "📧 "
        + _("{place} for {site}").format(place=offer_place(offer), site=f"<b>{escape(site)}</b>"),
        _("Price: {price}").format(price=money(offer.cost)),
        _("Balance: {balance} → {after} after the purchase").format(
            balance=money(balance), after=money(balance - offer.cost)
        ),
    ]
    if balance < offer.cost:
        lines.append("⚠ " + _("Not enough money for this purchase: top up your balance first."))
    lines.append("")
    lines.append(
        _(
            "The mailbox waits {minutes} minutes for a letter; if none comes, the money is "
            "refunded."
        ).format(minutes=int(MAIL_LIFETIME // 60))
    )
    return "\n".join(lines)


# --- the card ---


def _state_line(mailbox: Mailbox, provider: str) -> str:
    site = escape(mailbox.site)
    match mailbox.state:
        case MailState.WAITING if mailbox.letters:
            return _("Waiting for another letter from {site}…").format(site=site)
        case MailState.WAITING:
            return _("Waiting for a letter from {site}…").format(site=site)
        case MailState.LETTER:
            return "✅ " + _(
                "The letter has arrived. “Another letter” waits for one more to this address."
            )
        case MailState.CANCELLED:
            return "❌ " + _("Cancelled, the money is refunded.")
        case MailState.EXPIRED:
            return "⌛ " + _("No letter came in time: the mailbox is closed, the money refunded.")
        case MailState.GONE:
            return "❔ " + _("{provider} no longer knows this mailbox; it is closed.").format(
                provider=escape(provider)
            )
    return ""


def _countdown(mailbox: Mailbox, now: float) -> str | None:
    left = math.ceil(mailbox.seconds_left(now) / 60)
    if left < 1:
        return None
    shown = (
        _("{minutes} min left").format(minutes=left) if left > 1 else _("less than a minute left")
    )
    note = _("{left}. No letter by then: the mailbox closes, the money is refunded.")
    return "⏳ " + note.format(left=shown)


def card_text(mailbox: Mailbox, provider: str, now: float | None = None) -> str:
    moment = time.time() if now is None else now
    lines = [
        f"📧 <code>{escape(mailbox.email)}</code>",
        _("For {site}").format(site=f"<b>{escape(mailbox.site)}</b>")
        + (f" · {money(mailbox.cost)}" if mailbox.cost is not None else ""),
    ]
    if mailbox.is_waiting:
        countdown = _countdown(mailbox, moment)
        if countdown:
            lines.append(countdown)
    lines.append(_state_line(mailbox, provider))
    if mailbox.letters:
        lines.append("")
        lines.append(_("Letters:"))
        shown = mailbox.letters[-CARD_LETTERS:]
        first = len(mailbox.letters) - len(shown) + 1
        lines.extend(
            f"{number}. {letter_summary(letter)}" for number, letter in enumerate(shown, first)
        )
    return "\n".join(lines)


def card_markup(mailbox: Mailbox) -> InlineKeyboardMarkup | None:
    """Only what the provider allows: cancel before a letter, "another letter" after one."""
    waiting = mailbox.is_waiting
    labels = CardLabels(
        cancel=_("Cancel") if waiting else None,
        another="📨 " + _("Another letter") if mailbox.state is MailState.LETTER else None,
        refresh=_("Refresh") if waiting else None,
    )
    return card_keyboard(mailbox.id, labels)


# --- the letter ---


def _link_buttons(links: Sequence[str]) -> list[tuple[str, str]]:
    usable = [url for url in links if len(url) <= BUTTON_URL_LIMIT][:LINK_BUTTONS]
    return [
        ("🔗 " + _("Open the link ({site})").format(site=shorten(_host(url), 40)), url)
        for url in usable
    ]


def letter_push(mailbox: Mailbox, letter: Letter) -> tuple[str, InlineKeyboardMarkup | None]:
    """The code or link first, the whole letter folded below, all within Telegram's limit."""
    found = essentials(letter)
    buttons = _link_buttons(found.links)
    lines = [
        "✉️ "
        + _("A letter for {email} from {site}").format(
            email=f"<code>{escape(shorten(mailbox.email, 120))}</code>",
            site=escape(shorten(mailbox.site, 120)),
        )
    ]
    if found.code:
        code = f"<code>{escape(shorten(found.code, 64))}</code>"
        lines.append(_("Code: {code}").format(code=code))
    if found.links:
        site = escape(shorten(_host(found.links[0]), 120))
        note = (
            _("Link: {site} (the button below opens it)")
            if buttons
            else _("Link: {site} (it is in the letter below)")
        )
        lines.append(note.format(site=site))
    if not found.code and not found.links:
        lines.append(_("I found no code or link in it: read the letter below."))
    body = plain_letter(letter.full_message)
    head = "\n".join(lines)
    more = "\n" + _("The letter is longer: “Full letter” shows all of it.")
    full_button = None
    if body:
        room = MESSAGE_LIMIT - _SLACK - visible_length(head) - 1
        if utf16_len(body) > room or letter.cut:
            room -= visible_length(more)
            full_button = ("📄 " + _("Full letter"), letter.mail_id)
        quote = f"<blockquote expandable>{escape(shorten(body, room))}</blockquote>"
        head = f"{head}\n{quote}" + (more if full_button else "")
    return head, letter_keyboard(buttons, full_button)


def letter_parts(mailbox: Mailbox, letter: Letter) -> list[str]:
    """The whole stored letter, in as many messages as it takes."""
    body = plain_letter(letter.full_message) or (letter.value or "")
    header_room = 200  # the part header is short; this keeps every part under the limit
    pieces = split_text(body, MESSAGE_LIMIT - _SLACK - header_room) or [""]
    parts = []
    for number, piece in enumerate(pieces, 1):
        header = "📄 " + _("Letter from {site}, part {part} of {parts}:").format(
            site=escape(shorten(mailbox.site, 100)), part=number, parts=len(pieces)
        )
        text = f"{header}\n{escape(piece)}"
        if number == len(pieces) and letter.cut:
            text += "\n\n" + _("(The letter was longer; the rest was not kept.)")
        parts.append(text)
    return parts


# --- errors and history ---


def mail_error(error: pe.ProviderError, provider: str) -> str:
    """Errors of mail actions, in the words of this feature."""
    match error:
        case pe.NoActivation():
            return _("{provider} no longer knows this mailbox (it may have expired).").format(
                provider=escape(provider)
            )
        case pe.MailTypeError():
            return _("This address is no longer offered for this site. Choose another one.")
        case pe.BlockedSite():
            return _("{provider} does not sell e-mail addresses for this site.").format(
                provider=escape(provider)
            )
        case pe.ChannelsLimit():
            return _(
                "You have reached the limit of simultaneous purchases at {provider}. Wait for "
                "a letter or cancel an address first."
            ).format(provider=escape(provider))
    return describe_error(error, provider)


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
        escape(shorten(entry.site, 60)),
        f"<code>{escape(shorten(entry.email, 80))}</code>",
        money(entry.cost),
    ]
    if entry.value or entry.full_message:
        found = find_code(entry.value, entry.full_message)
        links = find_links(entry.value, entry.full_message)
        if found:
            parts.append(f"<code>{escape(shorten(found, 32))}</code>")
        elif links:
            parts.append("🔗 " + escape(shorten(_host(links[0]), 60)))
    return " · ".join(parts)


def history_text(entries: Sequence[MailHistoryEntry], page: int, pages: int) -> str:
    lines = [_("Your e-mail addresses, page {page} of {pages}:").format(page=page, pages=pages)]
    lines.extend(history_line(entry) for entry in entries)
    return "\n".join(lines)
