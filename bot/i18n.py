"""Translations: gettext catalogues under ``locales/``, compiled to ``.mo`` when missing.

``I18n`` and the module's ``gettext``/``ngettext``/``lazy_gettext`` behave as aiogram's
(``aiogram.utils.i18n``) but are the standard library's gettext: the worker translates codes
and cards without importing aiogram, whose Telegram models cost about 150 MB of memory.

``make locales`` and the Docker build compile them ahead; a process that finds a catalogue
missing or older than its ``.po`` (a fresh clone, a ``git pull``) compiles it at start with
Babel: into ``locales/`` when it may write there, else into a cache directory.
"""

from __future__ import annotations

import gettext as stdlib_gettext
import logging
import os
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from pathlib import Path
from typing import Any

from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.support import LazyProxy

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


class I18n:
    """The compiled catalogues of one directory, and the locale in use in this context."""

    def __init__(self, *, path: Path, default_locale: str = "en", domain: str = DOMAIN) -> None:
        self.path = Path(path).resolve()
        self.default_locale = default_locale
        self.domain = domain
        self._locale: ContextVar[str] = ContextVar("locale", default=default_locale)
        self.locales = self._load()

    def _load(self) -> dict[str, stdlib_gettext.GNUTranslations]:
        found: dict[str, stdlib_gettext.GNUTranslations] = {}
        for entry in sorted(self.path.iterdir()):
            mo = entry / "LC_MESSAGES" / f"{self.domain}.mo"
            if mo.is_file():
                with mo.open("rb") as handle:
                    found[entry.name] = stdlib_gettext.GNUTranslations(handle)
        return found

    @property
    def available_locales(self) -> tuple[str, ...]:
        return tuple(self.locales)

    @property
    def current_locale(self) -> str:
        return self._locale.get()

    @current_locale.setter
    def current_locale(self, locale: str) -> None:
        self._locale.set(locale)

    @contextmanager
    def use_locale(self, locale: str) -> Iterator[None]:
        token = self._locale.set(locale)
        try:
            yield
        finally:
            self._locale.reset(token)

    @contextmanager
    def context(self) -> Iterator[I18n]:
        """Make this the catalogue the module's ``gettext`` reads (in this task)."""
        token = _current.set(self)
        try:
            yield self
        finally:
            _current.reset(token)

    def gettext(
        self, singular: str, plural: str | None = None, n: int = 1, locale: str | None = None
    ) -> str:
        translations = self.locales.get(locale or self.current_locale)
        if translations is None:
            return singular if n == 1 or plural is None else plural
        if plural is None:
            return translations.gettext(singular)
        return translations.ngettext(singular, plural, n)


_current: ContextVar[I18n | None] = ContextVar("i18n", default=None)


def gettext(
    singular: str, plural: str | None = None, n: int = 1, locale: str | None = None
) -> str:
    """``singular`` in the current context's language (see ``I18n.context``)."""
    i18n = _current.get()
    if i18n is None:
        raise LookupError("no I18n context: translate inside `with i18n.context()`")
    return i18n.gettext(singular, plural, n, locale)


ngettext = gettext


def lazy_gettext(*args: Any, **kwargs: Any) -> LazyProxy:
    """Translated when used (a filter's text, compared in each update's own language)."""
    return LazyProxy(gettext, *args, **kwargs, enable_cache=False)


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
