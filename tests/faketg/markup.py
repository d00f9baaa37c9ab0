"""Message text as Telegram sees it: HTML parse mode, entities, trimming, bot commands.

``parse_html`` follows tdlib's ``parse_html`` (td/telegram/MessageEntity.cpp) closely enough to
reproduce its error texts, including byte offsets, because bots show or log them and tests assert
on them. Entity offsets and lengths are in UTF-16 code units, as in the Bot API.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any, Final
from urllib.parse import urlsplit

SUPPORTED_TAGS: Final = frozenset(
    {
        "a",
        "b",
        "strong",
        "i",
        "em",
        "s",
        "strike",
        "del",
        "u",
        "ins",
        "tg-spoiler",
        "tg-emoji",
        "span",
        "pre",
        "code",
        "blockquote",
    }
)
_SIMPLE_TYPES: Final = {
    "b": "bold",
    "strong": "bold",
    "i": "italic",
    "em": "italic",
    "u": "underline",
    "ins": "underline",
    "s": "strikethrough",
    "strike": "strikethrough",
    "del": "strikethrough",
    "tg-spoiler": "spoiler",
    "span": "spoiler",
    "code": "code",
}
_NAMED_ENTITIES: Final = {"lt": "<", "gt": ">", "amp": "&", "quot": '"'}
_SPACES: Final = frozenset(" \t\r\n\v\0")
_LINK_SCHEMES: Final = frozenset({"http", "https", "tg", "ton", "tonsite"})
_BARE_DOMAIN = re.compile(r"^[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)+(:\d+)?(/\S*)?$")
_BOT_COMMAND = re.compile(r"(?<![\w/@])/[A-Za-z0-9_]{1,64}(@[A-Za-z0-9_]{3,32})?(?![\w/@])")
# tdlib drops these together with ordinary whitespace at both ends of a message.
_TRIMMED: Final = "".join(chr(c) for c in range(0x21) if c != 0) + "\u200b\u2800\u3164\ufeff"


class EntityParseError(ValueError):
    """The text of a "can't parse entities" error, without the "Bad Request: " prefix."""


@dataclass
class FormattedText:
    text: str
    entities: list[dict[str, Any]] = field(default_factory=list)


@dataclass
class _OpenTag:
    name: str
    argument: str
    expandable: bool
    utf16_start: int
    text_start: int


def utf16_len(text: str) -> int:
    return len(text) + sum(1 for char in text if ord(char) > 0xFFFF)


def _byte_offset(source: str, index: int) -> int:
    return len(source[:index].encode("utf-8"))


def _decode_entity(source: str, pos: int) -> tuple[str, int] | None:
    """Decode ``&...`` at ``pos`` like tdlib: unknown names stay literal, ``;`` is optional."""
    end = pos + 1
    n = len(source)
    if end < n and source[end] == "#":
        end += 1
        value = 0
        if end < n and source[end] == "x":
            end += 1
            while end < n and source[end] in "0123456789abcdefABCDEF":
                value = value * 16 + int(source[end], 16)
                end += 1
                if value >= 0x10FFFF:
                    return None
        else:
            while end < n and source[end].isdigit() and source[end].isascii():
                value = value * 10 + int(source[end])
                end += 1
                if value >= 0x10FFFF:
                    return None
        if value == 0 or end - pos >= 10 or 0xD800 <= value <= 0xDFFF:
            return None
        decoded = chr(value)
    else:
        while end < n and source[end].isascii() and source[end].isalpha():
            end += 1
        named = _NAMED_ENTITIES.get(source[pos + 1 : end])
        if named is None:
            return None
        decoded = named
    if end < n and source[end] == ";":
        end += 1
    return decoded, end


def _link_url(url: str) -> str | None:
    """The URL tdlib would keep for ``<a href>``; invalid links silently lose their entity."""
    url = url.strip()
    if not url or any(char in _SPACES for char in url):
        return None
    scheme = urlsplit(url).scheme.lower() if "://" in url or url.startswith("tg:") else ""
    if scheme:
        return url if scheme in _LINK_SCHEMES else None
    if _BARE_DOMAIN.match(url):
        return f"http://{url}"
    return None


def parse_html(source: str) -> FormattedText:
    """Parse Telegram's HTML subset into plain text and entities, or raise EntityParseError."""
    n = len(source)

    def at(index: int) -> str:
        return source[index] if index < n else "\0"

    out: list[str] = []
    utf16 = 0
    stack: list[_OpenTag] = []
    entities: list[dict[str, Any]] = []
    i = 0
    while i < n:
        char = source[i]
        if char == "&":
            decoded = _decode_entity(source, i)
            if decoded is not None:
                out.append(decoded[0])
                utf16 += utf16_len(decoded[0])
                i = decoded[1]
                continue
        if char != "<":
            out.append(char)
            utf16 += utf16_len(char)
            i += 1
            continue

        begin = i
        begin_bytes = _byte_offset(source, begin)
        i += 1
        if at(i) != "/":
            while at(i) not in _SPACES and at(i) != ">":
                i += 1
            if at(i) == "\0":
                raise EntityParseError(f"Unclosed start tag at byte offset {begin_bytes}")
            tag = source[begin + 1 : i].lower()
            if tag not in SUPPORTED_TAGS:
                raise EntityParseError(
                    f'Unsupported start tag "{tag}" at byte offset {begin_bytes}'
                )
            argument = ""
            expandable = False
            while at(i) != ">":
                while at(i) != "\0" and at(i) in _SPACES:
                    i += 1
                if at(i) == ">":
                    break
                name_start = i
                while at(i) not in _SPACES and at(i) not in "=>":
                    i += 1
                attribute = source[name_start:i]
                if not attribute:
                    raise EntityParseError(
                        f'Empty attribute name in the tag "{tag}" at byte offset {begin_bytes}'
                    )
                while at(i) != "\0" and at(i) in _SPACES:
                    i += 1
                if at(i) != "=":
                    if tag == "blockquote" and attribute == "expandable":
                        expandable = True
                        continue
                    raise EntityParseError(
                        "Expected equal sign in declaration of an attribute of the tag "
                        f'"{tag}" at byte offset {begin_bytes}'
                    )
                i += 1
                while at(i) != "\0" and at(i) in _SPACES:
                    i += 1
                if at(i) == "\0":
                    raise EntityParseError(
                        f'Unclosed start tag "{tag}" at byte offset {begin_bytes}'
                    )
                value_chars: list[str] = []
                if at(i) not in "'\"":
                    token_start = i
                    while (at(i).isascii() and at(i).isalnum()) or at(i) in ".-":
                        i += 1
                    value = source[token_start:i].lower()
                    if at(i) not in _SPACES and at(i) != ">":
                        raise EntityParseError(
                            "Unexpected end of name token at byte offset "
                            f"{_byte_offset(source, token_start)}"
                        )
                else:
                    quote = at(i)
                    i += 1
                    value_start = i
                    while at(i) != quote and at(i) != "\0":
                        if at(i) == "&":
                            decoded = _decode_entity(source, i)
                            if decoded is not None:
                                value_chars.append(decoded[0])
                                i = decoded[1]
                                continue
                        value_chars.append(at(i))
                        i += 1
                    if at(i) == quote:
                        i += 1
                    if at(i) == "\0":
                        raise EntityParseError(
                            "Unclosed start tag at byte offset "
                            f"{_byte_offset(source, value_start)}"
                        )
                    value = "".join(value_chars)
                if tag == "a" and attribute == "href":
                    argument = value
                elif tag == "code" and attribute == "class" and value.startswith("language-"):
                    argument = value.removeprefix("language-")
                elif tag == "span" and attribute == "class" and value.startswith("tg-"):
                    argument = value.removeprefix("tg-")
                elif tag == "tg-emoji" and attribute == "emoji-id":
                    argument = value
                elif tag == "blockquote" and attribute == "expandable":
                    expandable = True
            if tag == "span" and argument != "spoiler":
                raise EntityParseError(
                    f'Tag "span" must have class "tg-spoiler" at byte offset {begin_bytes}'
                )
            stack.append(_OpenTag(tag, argument, expandable, utf16, len(out)))
            i += 1
            continue

        if not stack:
            raise EntityParseError(f"Unexpected end tag at byte offset {begin_bytes}")
        i += 1
        while at(i) not in _SPACES and at(i) != ">":
            i += 1
        end_name = source[begin + 2 : i]
        while at(i) != "\0" and at(i) in _SPACES:
            i += 1
        if at(i) != ">":
            raise EntityParseError(f"Unclosed end tag at byte offset {begin_bytes}")
        opened = stack[-1]
        if end_name and end_name.lower() != opened.name:
            raise EntityParseError(
                f"Unmatched end tag at byte offset {begin_bytes}, "
                f'expected "</{opened.name}>", found "</{end_name}>"'
            )
        _close_entity(opened, utf16, "".join(out[opened.text_start :]), entities)
        stack.pop()
        i += 1

    if stack:
        raise EntityParseError(
            f'Can\'t find end tag corresponding to start tag "{stack[-1].name}"'
        )
    entities.sort(key=lambda entity: (entity["offset"], -entity["length"]))
    return FormattedText("".join(out), entities)


def _close_entity(
    opened: _OpenTag, utf16_end: int, inner_text: str, entities: list[dict[str, Any]]
) -> None:
    offset = opened.utf16_start
    length = utf16_end - offset
    if length <= 0:
        return
    extra: dict[str, Any] = {}
    if opened.name in _SIMPLE_TYPES:
        kind = _SIMPLE_TYPES[opened.name]
        if opened.name == "code" and opened.argument:
            # Kept only until the enclosing <pre> closes and turns it into pre.language.
            extra["_language"] = opened.argument
    elif opened.name == "pre":
        kind = "pre"
        last = entities[-1] if entities else None
        if (
            last is not None
            and last["type"] == "code"
            and last["offset"] == offset
            and last["length"] == length
        ):
            entities.pop()
            if last.get("_language"):
                extra["language"] = last["_language"]
    elif opened.name == "a":
        url = _link_url(opened.argument or inner_text)
        if url is None:
            return
        kind = "text_link"
        extra["url"] = url
    elif opened.name == "tg-emoji":
        if not opened.argument.isdigit() or int(opened.argument) == 0:
            raise EntityParseError("Invalid custom emoji identifier specified")
        kind = "custom_emoji"
        extra["custom_emoji_id"] = opened.argument
    else:  # blockquote
        kind = "expandable_blockquote" if opened.expandable else "blockquote"
    entities.append({"type": kind, "offset": offset, "length": length, **extra})


def finish(formatted: FormattedText) -> FormattedText:
    """Trim the text like Telegram does and clip entities to what remains."""
    text = formatted.text
    stripped_left = text.lstrip(_TRIMMED)
    left_cut = utf16_len(text) - utf16_len(stripped_left)
    result = stripped_left.rstrip(_TRIMMED)
    total = utf16_len(result)
    entities: list[dict[str, Any]] = []
    for entity in formatted.entities:
        start = max(entity["offset"] - left_cut, 0)
        end = min(entity["offset"] + entity["length"] - left_cut, total)
        if end <= start:
            continue
        clipped = {key: value for key, value in entity.items() if not key.startswith("_")}
        clipped["offset"] = start
        clipped["length"] = end - start
        entities.append(clipped)
    return FormattedText(result, entities)


def plain_with_entities(text: str, raw_entities: Any) -> FormattedText:
    """Text sent with an explicit ``entities`` array instead of a parse mode."""
    entities: list[dict[str, Any]] = []
    if isinstance(raw_entities, list):
        for raw in raw_entities:
            if not isinstance(raw, dict):
                raise EntityParseError("expected an Object")
            offset, length, kind = raw.get("offset"), raw.get("length"), raw.get("type")
            if not isinstance(offset, int) or not isinstance(length, int):
                raise EntityParseError('Field "offset" must be of type Number')
            if not isinstance(kind, str) or not kind:
                raise EntityParseError("Type is not specified")
            entities.append(dict(raw))
    return FormattedText(text, entities)


def bot_commands(text: str) -> list[dict[str, Any]]:
    """The ``bot_command`` entities Telegram adds to a user's message."""
    return [
        {
            "type": "bot_command",
            "offset": utf16_len(text[: match.start()]),
            "length": utf16_len(match.group(0)),
        }
        for match in _BOT_COMMAND.finditer(text)
    ]


def strip_for_user(text: str) -> str:
    return text.strip(_TRIMMED)
