"""Request parameters, read the way the Bot API server reads them.

The server turns every way of passing parameters (query string, urlencoded form, multipart form,
JSON body) into one map of strings, then parses numbers, flags and JSON-serialized objects field
by field. Doing the same here keeps the fake as lenient, and as strict, as Telegram.
"""

from __future__ import annotations

import json
import re
from typing import Any, Final

from aiohttp import BodyPartReader, MultipartReader, web

from .errors import bad_request

_INTEGER = re.compile(r"^-?\d+")
JSON_FIELDS: Final = frozenset(
    {
        "reply_markup",
        "entities",
        "caption_entities",
        "commands",
        "scope",
        "link_preview_options",
        "allowed_updates",
        "reply_parameters",
        "message_ids",
        "menu_button",
    }
)
INT_FIELDS: Final = frozenset(
    {
        "chat_id",
        "message_id",
        "offset",
        "limit",
        "timeout",
        "user_id",
        "cache_time",
        "max_connections",
        "message_thread_id",
        "reply_to_message_id",
        "from_chat_id",
    }
)
BOOL_FIELDS: Final = frozenset(
    {
        "show_alert",
        "disable_notification",
        "protect_content",
        "drop_pending_updates",
        "disable_web_page_preview",
        "allow_sending_without_reply",
        "allow_paid_broadcast",
    }
)


def as_arg(value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    return json.dumps(value, ensure_ascii=False)


def to_integer(raw: str) -> int:
    """``td::to_integer``: the leading integer of ``raw``, 0 for garbage, as the server reads."""
    match = _INTEGER.match(raw)
    return int(match.group(0)) if match else 0


class Query:
    """A method call's parameters as strings, with the server's lenient converters."""

    def __init__(self, args: dict[str, str]) -> None:
        self.args = args

    def arg(self, name: str) -> str:
        return self.args.get(name, "")

    def has(self, name: str) -> bool:
        return name in self.args

    def integer(
        self, name: str, default: int = 0, low: int | None = None, high: int | None = None
    ) -> int:
        """The integer parameter clamped to [low, high]; absent gives ``default``."""
        raw = self.arg(name)
        if not raw:
            return default
        value = to_integer(raw)
        if low is not None:
            value = max(value, low)
        if high is not None:
            value = min(value, high)
        return value

    def flag(self, name: str) -> bool:
        return self.arg(name).strip().lower() in {"true", "yes", "1"}

    def json(self, name: str, error: str) -> Any:
        """The decoded JSON field, None when absent; ``error`` names it when it is malformed."""
        raw = self.arg(name)
        if not raw:
            return None
        try:
            return json.loads(raw)
        except ValueError:
            raise bad_request(error) from None

    def decoded(self) -> dict[str, Any]:
        """A typed view for tests that assert on what the bot sent."""
        result: dict[str, Any] = {}
        for name, raw in self.args.items():
            value: Any = raw
            if name in JSON_FIELDS:
                try:
                    value = json.loads(raw)
                except ValueError:
                    value = raw
            elif name in INT_FIELDS and re.fullmatch(r"-?\d+", raw):
                value = int(raw)
            elif name in BOOL_FIELDS:
                value = raw.strip().lower() in {"true", "yes", "1"}
            result[name] = value
        return result


async def read_query(request: web.Request) -> Query:
    """Merge the query string with the body, whatever its encoding."""
    args: dict[str, str] = dict(request.query)
    if request.body_exists:
        content_type = request.content_type
        if content_type == "application/json":
            try:
                body = await request.json()
            except ValueError:
                raise bad_request("Can't parse JSON object") from None
            if isinstance(body, dict):
                for name, value in body.items():
                    arg = as_arg(value)
                    if arg is not None:
                        args[name] = arg
        elif content_type == "multipart/form-data":
            args.update(await read_multipart(await request.multipart()))
        elif content_type == "application/x-www-form-urlencoded":
            form = await request.post()
            for name, value in form.items():
                if isinstance(value, str):
                    args[name] = value
    return Query(args)


async def read_multipart(reader: MultipartReader) -> dict[str, str]:
    """Text fields of a multipart body; uploaded files are skipped (no file methods here)."""
    args: dict[str, str] = {}
    while (part := await reader.next()) is not None:
        if not isinstance(part, BodyPartReader) or part.name is None:
            continue
        if part.filename is not None:
            await part.release()
            continue
        args[part.name] = await part.text()
    return args
