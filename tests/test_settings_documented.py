"""Every setting is listed in .env.example and in the README: the docs stay true."""

from __future__ import annotations

from pathlib import Path

from bot.config import Settings

ROOT = Path(__file__).resolve().parent.parent


def setting_names() -> set[str]:
    return {field.alias for field in Settings.model_fields.values() if field.alias}


def test_env_example_lists_every_setting():
    lines = (ROOT / ".env.example").read_text().splitlines()
    listed = {line.split("=", 1)[0].lstrip("# ").strip() for line in lines if "=" in line}
    assert setting_names() - listed == set()


def test_readme_mentions_every_setting():
    readme = (ROOT / "README.md").read_text()
    missing = {name for name in setting_names() if f"`{name}`" not in readme}
    assert missing == set()
