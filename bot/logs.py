"""Logging: one line per event (JSON by default), and nothing secret in it.

The code never logs keys, tokens or update contents; the filter below is the second line of
defence: it masks the bot token and other registered secrets, and at INFO and above it shortens
anything that looks like a phone number to its last four digits.
"""

from __future__ import annotations

import json
import logging
import re
import sys
import time
from collections.abc import Iterable
from typing import Any

from bot.config import Settings

_PHONE = re.compile(r"(?<![\w.])\+?(\d{6,})(\d{4})(?![\w.])")
_BOT_TOKEN = re.compile(r"\b\d{6,12}:[A-Za-z0-9_-]{30,}\b")
_STANDARD = set(vars(logging.makeLogRecord({})))


class Redactor(logging.Filter):
    def __init__(self, secrets: Iterable[str] = ()) -> None:
        super().__init__()
        self._secrets = [s for s in secrets if len(s) >= 6]

    def redact(self, text: str, level: int) -> str:
        for secret in self._secrets:
            text = text.replace(secret, "***")
        text = _BOT_TOKEN.sub("***", text)
        if level >= logging.INFO:
            text = _PHONE.sub(lambda m: "…" + m.group(2), text)
        return text

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        cleaned = self.redact(message, record.levelno)
        if cleaned != message:
            record.msg, record.args = cleaned, None
        return True


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "ts": time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(record.created))
            + f".{int(record.msecs):03d}Z",
            "level": record.levelname.lower(),
            "logger": record.name,
            "msg": record.getMessage(),
        }
        for key, value in vars(record).items():
            if key not in _STANDARD and not key.startswith("_"):
                entry[key] = value if isinstance(value, str | int | float | bool) else repr(value)
        if record.exc_info:
            entry["exc"] = self.formatException(record.exc_info)
        return json.dumps(entry, ensure_ascii=False)


def setup_logging(settings: Settings) -> None:
    handler = logging.StreamHandler(sys.stderr)
    if settings.log_format == "json":
        handler.setFormatter(JsonFormatter())
    else:
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    secrets = [
        value.get_secret_value()
        for value in (
            settings.bot_token,
            settings.secret_key,
            settings.webhook_secret,
            settings.provider_webhook_secret,
        )
        if value is not None
    ]
    handler.addFilter(Redactor(secrets))
    logging.basicConfig(level=settings.log_level, handlers=[handler], force=True)
    # httpx logs every request URL at INFO, and provider URLs carry the API key.
    logging.getLogger("httpx").setLevel(logging.WARNING)
    logging.getLogger("httpcore").setLevel(logging.WARNING)
