"""Translations: gettext catalogues under ``locales/``, compiled to ``.mo`` when missing.

``make locales`` and the Docker build compile them ahead; a process that finds a catalogue
missing or older than its ``.po`` (a fresh clone, a ``git pull``) compiles it at start with
Babel: into ``locales/`` when it may write there, else into a cache directory.
"""

from __future__ import annotations

import logging
import os
import tempfile
from pathlib import Path

from aiogram.utils.i18n import I18n
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po

from bot.config import SUPPORTED_LOCALES

LOCALES_DIR = Path(__file__).resolve().parent.parent / "locales"
DOMAIN = "messages"

log = logging.getLogger(__name__)


def cache_dir() -> Path:
    """Where catalogues are compiled when ``locales/`` is read-only."""
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "sms-activate-bot" / "locales"


def _stale(source: Path, compiled: Path) -> bool:
    try:
        return compiled.stat().st_mtime < source.stat().st_mtime
    except FileNotFoundError:
        return True


def _sources(source_dir: Path) -> dict[str, Path]:
    pattern = f"*/LC_MESSAGES/{DOMAIN}.po"
    return {po.parent.parent.name: po for po in sorted(source_dir.glob(pattern))}


def _compile_into(sources: dict[str, Path], target_dir: Path) -> None:
    for locale, po in sources.items():
        mo = target_dir / locale / "LC_MESSAGES" / f"{DOMAIN}.mo"
        if not _stale(po, mo):
            continue
        with po.open("rb") as handle:
            catalog = read_po(handle, locale=locale)
        mo.parent.mkdir(parents=True, exist_ok=True)
        # Written aside and renamed: a process starting beside this one never reads half a file.
        fd, tmp = tempfile.mkstemp(dir=mo.parent, suffix=".tmp")
        try:
            with os.fdopen(fd, "wb") as out:
                write_mo(out, catalog)
            os.replace(tmp, mo)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
        log.info("compiled the %s catalogue into %s", locale, mo)


def compiled_locales(source_dir: Path = LOCALES_DIR) -> Path:
    """A directory holding every catalogue of ``source_dir`` compiled and up to date."""
    sources = _sources(source_dir)
    if not any(_stale(po, po.with_suffix(".mo")) for po in sources.values()):
        return source_dir
    try:
        _compile_into(sources, source_dir)
        return source_dir
    except OSError:
        pass
    for target in (cache_dir(), Path(tempfile.gettempdir()) / f"sms-activate-bot-{os.getuid()}"):
        try:
            _compile_into(sources, target)
            return target
        except OSError as error:
            log.warning("cannot compile the catalogues into %s: %s", target, error)
    raise RuntimeError(f"cannot compile the catalogues of {source_dir}: run `make locales`")


def build_i18n(default_locale: str = "en", source_dir: Path = LOCALES_DIR) -> I18n:
    i18n = I18n(path=compiled_locales(source_dir), default_locale=default_locale, domain=DOMAIN)
    missing = set(SUPPORTED_LOCALES) - set(i18n.available_locales) - {"en"}
    if missing:
        raise RuntimeError(f"no catalogue for {', '.join(sorted(missing))} in {source_dir}")
    return i18n


def pick_locale(language_code: str | None, default: str) -> str:
    """Telegram's language code ("ru", "en-US", "pt-br") reduced to a supported locale."""
    if language_code:
        language = language_code.replace("_", "-").split("-")[0].lower()
        if language in SUPPORTED_LOCALES:
            return language
    return default
