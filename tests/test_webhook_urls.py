"""Webhook tokens: derived from the server's secret, checked by MAC alone, bound to the user,
the provider and the key."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from bot.webhook_urls import HookClaim, MalformedToken, WebhookUrls

URLS = WebhookUrls("server-secret-0123456789", "https://bot.example.com")
TOKEN = URLS.token(1234567, "herosms", "fingerprint-1")


def test_a_token_names_user_and_provider_and_reads_back() -> None:
    uid, provider, tag, mac = TOKEN.split(".")
    assert (uid, provider) == ("1234567", "herosms")
    assert len(tag) == 8
    assert len(mac) == 22
    assert URLS.read(TOKEN) == HookClaim(1234567, "herosms", tag)
    assert "server-secret" not in TOKEN


def test_tokens_differ_by_user_provider_key_and_secret() -> None:
    others = {
        URLS.token(1234568, "herosms", "fingerprint-1"),
        URLS.token(1234567, "smshub", "fingerprint-1"),
        URLS.token(1234567, "herosms", "fingerprint-2"),
        WebhookUrls("another-secret-0123456789").token(1234567, "herosms", "fingerprint-1"),
    }
    assert TOKEN not in others
    assert len(others) == 4
    assert URLS.token(1234567, "herosms", "fingerprint-1") == TOKEN  # deterministic


def test_a_provider_name_with_dots_and_dashes_reads_back() -> None:
    token = URLS.token(5, "my.sms-provider", "f")
    claim = URLS.read(token)
    assert claim is not None
    assert claim.provider == "my.sms-provider"


@pytest.mark.parametrize(
    "edit",
    [
        lambda t: t.replace("1234567", "1234568", 1),
        lambda t: t.replace("herosms", "smshub"),
        lambda t: t[:-1] + ("A" if t[-1] != "A" else "B"),
        lambda t: ".".join([*t.split(".")[:2], "AAAAAAAA", *t.split(".")[3:]]),
        lambda t: WebhookUrls("another-secret-0123456789").token(1234567, "herosms", "x"),
    ],
)
def test_a_token_this_server_did_not_issue_reads_as_none(edit: Callable[[str], str]) -> None:
    assert URLS.read(edit(TOKEN)) is None


@pytest.mark.parametrize(
    "token",
    ["", "x", "é", TOKEN + "é", TOKEN + "\n", TOKEN + ".x", "0" + TOKEN, "1.a.b.c", TOKEN[:-1]],
)
def test_a_token_of_the_wrong_shape_is_malformed(token: str) -> None:
    with pytest.raises(MalformedToken):
        URLS.read(token)


def test_the_public_address_changes_no_token_and_the_secret_is_not_shown() -> None:
    assert WebhookUrls("server-secret-0123456789").key_tag(1, "p", "f") == WebhookUrls(
        "server-secret-0123456789", "https://x.example"
    ).key_tag(1, "p", "f")
    assert "server-secret" not in repr(URLS)
