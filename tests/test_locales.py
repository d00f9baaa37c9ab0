"""Every message the code translates is in both catalogues, and Russian is complete."""

from __future__ import annotations

import functools
import os
import re
import shutil
from pathlib import Path

import pytest
from babel.messages.extract import extract_from_dir
from babel.messages.pofile import read_po

from bot import i18n as i18n_module
from bot.i18n import I18n, build_i18n

ROOT = Path(__file__).resolve().parent.parent
KEYWORDS = {"_": None, "__": None, "ngettext": (1, 2), "lazy_ngettext": (1, 2)}


@functools.cache
def code_messages() -> frozenset[str]:
    found: set[str] = set()
    for _file, _line, message, _comments, _context in extract_from_dir(
        str(ROOT / "bot"), method_map=[("**.py", "python")], keywords=KEYWORDS
    ):
        found.add(message if isinstance(message, str) else message[0])
    return frozenset(found)


def catalogue(locale: str) -> dict[str, object]:
    path = ROOT / "locales" / locale / "LC_MESSAGES" / "messages.po"
    with path.open("rb") as handle:
        parsed = read_po(handle)
    return {(m.id if isinstance(m.id, str) else m.id[0]): m.string for m in parsed if m.id}


def test_code_uses_translations():
    assert len(code_messages()) > 50


@pytest.mark.parametrize("locale", ["en", "ru"])
def test_every_message_is_in_the_catalogue(locale: str):
    missing = code_messages() - set(catalogue(locale))
    assert not missing, f"missing from {locale} (run `make messages`): {sorted(missing)}"


def test_russian_is_complete():
    untranslated = [
        msgid
        for msgid, string in catalogue("ru").items()
        if msgid in code_messages()
        and (not string or (isinstance(string, tuple) and not all(string)))
    ]
    assert not untranslated, f"untranslated in ru: {untranslated}"


def test_placeholders_match():
    pattern = re.compile(r"\{[a-z_]+\}")
    for msgid, string in catalogue("ru").items():
        if isinstance(string, str) and string:
            assert set(pattern.findall(msgid)) == set(pattern.findall(string)), msgid


# --- catalogues compiled at start (a fresh clone has no .mo) --------------------------------


def uncompiled_copy(tmp_path: Path) -> Path:
    copy = tmp_path / "locales"
    shutil.copytree(ROOT / "locales", copy, ignore=shutil.ignore_patterns("*.mo"))
    return copy


def russian_start(i18n: I18n) -> str:
    return i18n.gettext("Cancel", locale="ru")


def test_missing_catalogues_are_compiled_in_place(tmp_path: Path) -> None:
    source = uncompiled_copy(tmp_path)
    i18n = build_i18n("en", source_dir=source)
    assert set(i18n.available_locales) >= {"en", "ru"}
    assert russian_start(i18n) == "Отмена"
    assert (source / "ru" / "LC_MESSAGES" / "messages.mo").is_file()


def test_an_outdated_catalogue_is_compiled_again(tmp_path: Path) -> None:
    source = uncompiled_copy(tmp_path)
    build_i18n("en", source_dir=source)
    po = source / "ru" / "LC_MESSAGES" / "messages.po"
    po.write_text(
        po.read_text(encoding="utf-8").replace('msgstr "Отмена"', 'msgstr "Отмена!"', 1),
        encoding="utf-8",
    )
    mo = po.with_suffix(".mo")
    os.utime(mo, (po.stat().st_mtime - 10, po.stat().st_mtime - 10))
    assert russian_start(build_i18n("en", source_dir=source)) == "Отмена!"


def test_read_only_catalogues_are_compiled_into_the_cache(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    source = uncompiled_copy(tmp_path)
    compile_into = i18n_module._compile_into

    def read_only_source(sources: dict[str, Path], target: Path) -> None:
        # chmod does not stop root (tests may run as root): refuse writes under source here.
        if target == source:
            raise PermissionError(13, "Read-only file system", str(target))
        compile_into(sources, target)

    monkeypatch.setattr(i18n_module, "_compile_into", read_only_source)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    i18n = build_i18n("ru", source_dir=source)
    assert russian_start(i18n) == "Отмена"
    assert not list(source.rglob("*.mo"))
    assert list((tmp_path / "cache").rglob("ru/LC_MESSAGES/messages.mo"))
