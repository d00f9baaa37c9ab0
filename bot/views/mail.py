"""E-mail verification texts: the mailbox card, its letters, and mail errors.

The /mail dialog's texts are in ``mail_order``, the /mails list's in ``mail_history``.

Pure: data in, HTML text and markup out, inside the caller's locale. Whatever comes from the
provider or a letter is escaped. Telegram allows 4096 characters once entities are parsed, so
letters are measured as the user will see them and cut as plain text before escaping: a cut
never falls inside a tag or an entity.
"""

from __future__ import annotations

import html
import re
import time
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from urllib.parse import urlsplit

from bot.i18n import gettext as _
from bot.keyboards.mail import CardLabels, card_keyboard, letter_keyboard, letter_offer_keyboard
from bot.keyboards.markup import Keyboard
from bot.provider import errors as pe
from bot.storage.mails import Letter, Mailbox, MailState
from bot.texts import describe_error, escape, money, site_name
from bot.views.common import until

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


def url_host(url: str) -> str:
    return urlsplit(url).hostname or url


def letter_summary(letter: Letter) -> str:
    """One line for the card: the code, else the link's site."""
    found = essentials(letter)
    if found.code:
        return f"🔑 <code>{escape(shorten(found.code, 64))}</code>"
    if found.links:
        return "🔗 " + escape(shorten(url_host(found.links[0]), 80))
    return "✉️ " + escape(shorten(plain_letter(letter.full_message or letter.value), 80))


# --- the card ---


def _state_line(mailbox: Mailbox, provider: str) -> str:
    site = escape(site_name(mailbox.site))
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
    if mailbox.expires_at <= now:
        return None
    note = _("{left}. No letter by then: the mailbox closes, the money is refunded.")
    return "⏳ " + note.format(left=until(mailbox.expires_at, now))


def card_text(mailbox: Mailbox, provider: str, now: float | None = None) -> str:
    moment = time.time() if now is None else now
    lines = [
        f"📧 <code>{escape(mailbox.email)}</code>",
        _("For {site}").format(site=f"<b>{escape(site_name(mailbox.site))}</b>")
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


def card_markup(mailbox: Mailbox) -> Keyboard | None:
    """Only what the provider allows: cancel before a letter, "another letter" after one."""
    waiting = mailbox.is_waiting
    labels = CardLabels(
        cancel=_("Cancel") if waiting else None,
        another="📨 " + _("Another letter") if mailbox.state is MailState.LETTER else None,
        refresh=_("Refresh") if waiting else None,
    )
    return card_keyboard(mailbox.id, labels)


def card(mailbox: Mailbox, provider: str, now: float) -> tuple[str, Keyboard | None]:
    return card_text(mailbox, provider, now), card_markup(mailbox)


def letter_offer(mailbox: Mailbox, price: Decimal | None, token: str) -> tuple[str, Keyboard]:
    """The confirmation of another letter: a note (the tap's answer, so plain text), and the
    card's buttons with its price, Buy and Cancel."""
    shown = money(price) if price is not None else "?"
    text = _("Another letter to this address costs {price}. Confirm with the button.").format(
        price=shown
    )
    buy = "✅ " + _("Another letter for {price}").format(price=shown)
    return text, letter_offer_keyboard(buy, "✖ " + _("Cancel"), mailbox.id, token)


# --- the letter ---


def _link_buttons(links: Sequence[str]) -> list[tuple[str, str]]:
    usable = [url for url in links if len(url) <= BUTTON_URL_LIMIT][:LINK_BUTTONS]
    return [
        ("🔗 " + _("Open the link ({site})").format(site=shorten(url_host(url), 40)), url)
        for url in usable
    ]


def letter_push(mailbox: Mailbox, letter: Letter) -> tuple[str, Keyboard | None]:
    """The code or link first, the whole letter folded below, all within Telegram's limit."""
    found = essentials(letter)
    buttons = _link_buttons(found.links)
    lines = [
        "✉️ "
        + _("A letter for {email} from {site}").format(
            email=f"<code>{escape(shorten(mailbox.email, 120))}</code>",
            site=escape(shorten(site_name(mailbox.site), 120)),
        )
    ]
    if found.code:
        code = f"<code>{escape(shorten(found.code, 64))}</code>"
        lines.append(_("Code: {code}").format(code=code))
    if found.links:
        site = escape(shorten(url_host(found.links[0]), 120))
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
            site=escape(shorten(site_name(mailbox.site), 100)), part=number, parts=len(pieces)
        )
        text = f"{header}\n{escape(piece)}"
        if number == len(pieces) and letter.cut:
            text += "\n\n" + _("(The letter was longer; the rest was not kept.)")
        parts.append(text)
    return parts


# --- errors ---


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


def unsupported_text(provider: str) -> str:
    return _(
        "{provider} does not sell e-mail addresses. Providers with the SMS-Activate mail API "
        "do; you can switch with /key."
    ).format(provider=escape(provider))


def reorder_unknown_text(provider: str) -> str:
    return _(
        "{provider} did not confirm. If the card does not change in a minute, check "
        "/mails before trying again."
    ).format(provider=escape(provider))
