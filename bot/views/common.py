"""Pieces of text every card uses."""

from __future__ import annotations

from decimal import Decimal

from bot.catalogue import country
from bot.texts import escape, money

#: Telegram voids its own login codes once they appear in a chat, so they are spaced out
#: wherever the bot shows one: pushes, cards, lists, history, a rented number's SMS.
SPACED_SERVICES = frozenset({"tg"})


def format_code(service: str | None, code: str) -> str:
    if service in SPACED_SERVICES:
        return " ".join(code.replace(" ", ""))
    return code


def where_line(
    label: str, country_id: int | None, operator: str | None, cost: Decimal | None, locale: str
) -> str:
    """``Telegram · 🇮🇩 Indonesia · tsel · 0.27``: what, where, through whom, for how much."""
    parts = [escape(label)]
    info = country(country_id) if country_id is not None else None
    if info is not None:
        parts.append(f"{info.flag} {escape(info.name(locale))}")
    if operator and operator != "any":
        parts.append(escape(operator))
    if cost is not None:
        parts.append(money(cost))
    return " · ".join(parts)
