"""Every message the code translates is in both catalogues, and Russian is complete."""

from __future__ import annotations

import functools
import re
from pathlib import Path

import pytest
from babel.messages.extract import extract_from_dir
from babel.messages.pofile import read_po

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
