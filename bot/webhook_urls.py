"""Provider webhook URLs: one per user and provider account, and no shared secret in any.

A URL is ``<PUBLIC_URL>/provider/<token>`` with ``token = <user id>.<provider>.<key tag>.<mac>``:

* the key tag (8 characters) names the user's API key without revealing it, so a new key gives
  a new URL and the old one stops counting;
* the mac is HMAC-SHA256 over the other three parts, cut to 128 bits and base64url-encoded,
  keyed by a key derived from ``PROVIDER_WEBHOOK_SECRET``, which never leaves the server.

A token this server did not issue fails the MAC check alone, without a Redis read. An issued
token still counts only while the user's account is that provider with that key
(``WebhookUrls.owns``), and only for the objects that user owns (``bot.worker.hints``). A
leaked URL therefore lets its holder ask for at most a read of one user's own objects.

Rents carry the same per-user URL in getRentNumber's ``url``: the rent id is not known before
the purchase, and binding the URL to the order would add nothing, since the event's rent id is
checked against the URL's owner anyway and an event is only a hint to read that rent.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
from dataclasses import dataclass

from bot.accounts import UserAccount

_TAG_CHARS = 8
_MAC_CHARS = 22  # 16 bytes, base64url without padding
_B64 = r"[A-Za-z0-9_-]"
_TOKEN = re.compile(
    rf"(?P<uid>[1-9][0-9]{{0,19}})\.(?P<provider>[a-z0-9][a-z0-9._-]{{0,63}})"
    rf"\.(?P<tag>{_B64}{{{_TAG_CHARS}}})\.(?P<mac>{_B64}{{{_MAC_CHARS}}})"
)


class MalformedToken(ValueError):
    """The path is not shaped like a webhook token (answered 404)."""


@dataclass(frozen=True, slots=True)
class HookClaim:
    """What a token with a good MAC says: whose URL it is, for which provider and key."""

    user_id: int
    provider: str
    key_tag: str


def _b64(raw: bytes, chars: int) -> str:
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")[:chars]


class WebhookUrls:
    def __init__(self, secret: str, public_url: str | None = None) -> None:
        # A key of its own, so the MAC reveals nothing usable about the configured secret.
        self._key = hmac.new(secret.encode(), b"sms-bot/provider-webhooks/v1", "sha256").digest()
        self._base = public_url.rstrip("/") if public_url else None

    def __repr__(self) -> str:
        return f"WebhookUrls(public_url={self._base!r})"

    def _mac(self, message: str, chars: int) -> str:
        return _b64(hmac.new(self._key, message.encode(), hashlib.sha256).digest(), chars)

    def key_tag(self, user_id: int, provider: str, key_fingerprint: str) -> str:
        return self._mac(f"tag|{user_id}|{provider}|{key_fingerprint}", _TAG_CHARS)

    def token(self, user_id: int, provider: str, key_fingerprint: str) -> str:
        tag = self.key_tag(user_id, provider, key_fingerprint)
        mac = self._mac(f"url|{user_id}|{provider}|{tag}", _MAC_CHARS)
        return f"{user_id}.{provider}.{tag}.{mac}"

    def url(self, account: UserAccount) -> str | None:
        """The account's webhook URL; None when no public address is configured."""
        if self._base is None:
            return None
        token = self.token(account.user_id, account.provider, account.client.key_fingerprint)
        return f"{self._base}/provider/{token}"

    def read(self, token: str) -> HookClaim | None:
        """The claim of a token this server issued; None when the MAC is wrong.

        Raises MalformedToken when ``token`` is not shaped like one (non-ASCII included).
        """
        found = _TOKEN.fullmatch(token)
        if found is None:
            raise MalformedToken(token[:80])
        uid, provider, tag = found["uid"], found["provider"], found["tag"]
        expected = self._mac(f"url|{uid}|{provider}|{tag}", _MAC_CHARS)
        if not hmac.compare_digest(expected.encode(), found["mac"].encode()):
            return None
        return HookClaim(int(uid), provider, tag)

    def owns(self, claim: HookClaim, account: UserAccount) -> bool:
        """Whether the claim is the account as it is now (same user, provider and key)."""
        tag = self.key_tag(account.user_id, account.provider, account.client.key_fingerprint)
        return (
            account.user_id == claim.user_id
            and account.provider == claim.provider
            and hmac.compare_digest(tag.encode(), claim.key_tag.encode())
        )
