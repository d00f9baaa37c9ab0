"""Encryption of users' API keys at rest.

AES-GCM with a key derived (HKDF-SHA256) from ``SECRET_KEY``; the user id is the associated
data, so a ciphertext copied onto another user's record does not decrypt. A Redis dump holds
only ``v1:<base64(nonce + ciphertext)>``.
"""

from __future__ import annotations

import base64
import logging
import os
import secrets
import tempfile
from pathlib import Path

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from pydantic import SecretStr

log = logging.getLogger(__name__)

SECRET_FILE = "secret.key"
_VERSION = "v1"
_NONCE_BYTES = 12


class KeyDecryptionError(Exception):
    """A stored key cannot be decrypted: SECRET_KEY changed, or the record was tampered with."""


class SecretKeyMismatch(Exception):
    """SECRET_KEY is not the key the stored API keys were encrypted with."""

    def __init__(self, unreadable: int | None = None) -> None:
        found = "the check value" if unreadable is None else f"{unreadable} stored API keys"
        super().__init__(
            f"SECRET_KEY does not decrypt {found} in Redis: it is not the key the bot was "
            "started with before. Set SECRET_KEY back to that value (or, to start over, "
            "remove the stored keys so that users connect again)."
        )


_CHECK = "sms-bot secret check"
_CHECK_USER = 0  # no Telegram user has id 0


class KeyCipher:
    def __init__(self, secret: SecretStr | str) -> None:
        raw = secret.get_secret_value() if isinstance(secret, SecretStr) else secret
        if len(raw) < 16:
            raise ValueError("SECRET_KEY must be at least 16 characters")
        key = HKDF(
            algorithm=hashes.SHA256(), length=32, salt=b"sms-bot/api-keys", info=b"aes-gcm"
        ).derive(raw.encode())
        self._aead = AESGCM(key)

    def __repr__(self) -> str:
        return "KeyCipher(<secret>)"

    def encrypt(self, user_id: int, api_key: str) -> str:
        nonce = os.urandom(_NONCE_BYTES)
        sealed = self._aead.encrypt(nonce, api_key.encode(), _aad(user_id))
        return f"{_VERSION}:{base64.urlsafe_b64encode(nonce + sealed).decode()}"

    def check_value(self) -> str:
        return self.encrypt(_CHECK_USER, _CHECK)

    def verify_check(self, stored: str) -> None:
        if not self.can_decrypt(_CHECK_USER, stored):
            raise SecretKeyMismatch()

    def can_decrypt(self, user_id: int, token: str) -> bool:
        try:
            self.decrypt(user_id, token)
        except KeyDecryptionError:
            return False
        return True

    def decrypt(self, user_id: int, token: str) -> SecretStr:
        version, _, payload = token.partition(":")
        if version != _VERSION:
            raise KeyDecryptionError("unknown key record version")
        try:
            blob = base64.urlsafe_b64decode(payload.encode())
            plain = self._aead.decrypt(blob[:_NONCE_BYTES], blob[_NONCE_BYTES:], _aad(user_id))
        except (ValueError, InvalidTag):
            raise KeyDecryptionError("the stored key cannot be decrypted") from None
        return SecretStr(plain.decode())


def _aad(user_id: int) -> bytes:
    return f"user:{user_id}".encode()


def load_or_create_secret(configured: SecretStr | None, data_dir: Path) -> SecretStr:
    """SECRET_KEY when set; else a key generated once and kept under DATA_DIR (mode 0600)."""
    if configured is not None and configured.get_secret_value():
        return configured
    path = data_dir / SECRET_FILE
    if path.exists():
        value = path.read_text().strip()
        if value:
            return SecretStr(value)
    data_dir.mkdir(parents=True, exist_ok=True)
    value = secrets.token_urlsafe(48)
    # A unique temporary name: containers sharing the volume may well have the same pid.
    fd, tmp_name = tempfile.mkstemp(prefix=f".{SECRET_FILE}.", dir=data_dir)
    tmp = Path(tmp_name)
    with os.fdopen(fd, "w") as handle:
        handle.write(value)
    try:
        # link() publishes the complete file atomically and refuses to overwrite.
        os.link(tmp, path)
    except FileExistsError:
        # Another process (a worker starting beside the bot) won the race: use its key.
        return SecretStr(path.read_text().strip())
    finally:
        tmp.unlink()
    log.warning(
        "SECRET_KEY is not set: generated one in %s. Set SECRET_KEY in production and keep it "
        "safe: without it the stored API keys cannot be read.",
        path,
    )
    return SecretStr(value)
