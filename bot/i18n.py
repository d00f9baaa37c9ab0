"""Translations: gettext catalogues under ``locales/``, compiled to ``.mo`` by the build."""

from __future__ import annotations

from pathlib import Path

from aiogram.utils.i18n import I18n

from bot.config import SUPPORTED_LOCALES

LOCALES_DIR = Path(__file__).resolve().parent.parent / "locales"
DOMAIN = "messages"


def build_i18n(default_locale: str = "en") -> I18n:
    i18n = I18n(path=LOCALES_DIR, default_locale=default_locale, domain=DOMAIN)
    missing = set(SUPPORTED_LOCALES) - set(i18n.available_locales) - {"en"}
    if missing:
        raise RuntimeError(
            f"compiled catalogues missing for {', '.join(sorted(missing))}: run `make locales`"
        )
    return i18n


def pick_locale(language_code: str | None, default: str) -> str:
    """Telegram's language code ("ru", "en-US", "pt-br") reduced to a supported locale."""
    if language_code:
        language = language_code.replace("_", "-").split("-")[0].lower()
        if language in SUPPORTED_LOCALES:
            return language
    return default
