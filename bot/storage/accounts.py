"""A user's provider accounts, as kept in their ``user:<id>`` hash.

* ``accounts`` — JSON list of ``{"id", "provider", "key" (ciphertext), "title", "created",
  "retired"}``; ``default`` — the id of the default account.
* A hash from before several accounts (``provider`` and ``key`` fields, no ``accounts``) reads
  as one default account whose id is derived from the stored ciphertext, so it is the same on
  every read; the first change of the user's accounts writes the list and drops the old fields.
* ``retired``: the user removed the account while items bought with it were open; it is kept
  (key included) only so the worker can follow those items, and forgotten once none is open.
"""

from __future__ import annotations

import hashlib
import json
import secrets
from collections.abc import Iterable
from dataclasses import dataclass, replace
from typing import Any

#: The longest title a user may give an account (it is shown on buttons).
TITLE_LIMIT = 32


@dataclass(frozen=True, slots=True)
class StoredAccount:
    id: str
    provider: str
    sealed_key: str
    title: str | None = None
    created: int = 0
    retired: bool = False

    def __repr__(self) -> str:
        return f"StoredAccount(id={self.id!r}, provider={self.provider!r}, retired={self.retired})"

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "provider": self.provider,
            "key": self.sealed_key,
            "title": self.title,
            "created": self.created,
            "retired": self.retired,
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> StoredAccount:
        return cls(
            id=str(data["id"]),
            provider=str(data["provider"]),
            sealed_key=str(data["key"]),
            title=data.get("title") or None,
            created=int(data.get("created") or 0),
            retired=bool(data.get("retired")),
        )


@dataclass(frozen=True, slots=True)
class AccountBook:
    """Every account of one user (retired ones included) and which one is the default."""

    accounts: tuple[StoredAccount, ...] = ()
    default: str | None = None
    #: Read from the fields of before several accounts (the first write migrates them).
    legacy: bool = False

    @classmethod
    def read(
        cls,
        raw_accounts: str | None,
        default: str | None,
        provider: str | None,
        sealed_key: str | None,
        created: int = 0,
    ) -> AccountBook:
        if raw_accounts:
            listed = tuple(StoredAccount.from_json(item) for item in json.loads(raw_accounts))
            return cls(listed, default)
        if provider and sealed_key:
            account = StoredAccount(
                legacy_id(provider, sealed_key), provider, sealed_key, None, created
            )
            return cls((account,), account.id, legacy=True)
        return cls()

    def dump(self) -> str:
        return json.dumps([account.to_json() for account in self.accounts])

    @property
    def active(self) -> list[StoredAccount]:
        """The accounts the user has not removed, the default first, then by connection."""
        kept = [account for account in self.accounts if not account.retired]
        return sorted(kept, key=lambda account: account.id != self.default)

    @property
    def default_account(self) -> StoredAccount | None:
        found = self.find(self.default) if self.default else None
        if found is not None and not found.retired:
            return found
        active = self.active
        return active[0] if active else None

    def find(self, account_id: str | None) -> StoredAccount | None:
        return next((account for account in self.accounts if account.id == account_id), None)

    def owner_of(self, account_id: str | None, provider: str) -> StoredAccount | None:
        """The account an item was bought with (a removed one too): by ``account_id``; an item
        from before several accounts names only its ``provider`` and goes to the user's
        account of that provider (the default if it is one). None when it is gone."""
        if account_id:
            stored = self.find(account_id)
            return stored if stored is not None and stored.provider == provider else None
        default = self.default_account
        if default is not None and default.provider == provider:
            return default
        # A connected account of that provider, else a removed one still kept for its items.
        same = [known for known in self.active if known.provider == provider]
        same += [known for known in self.accounts if known.retired and known.provider == provider]
        return same[0] if same else None

    def new_id(self) -> str:
        taken = {account.id for account in self.accounts}
        while (candidate := secrets.token_hex(4)) in taken:
            pass
        return candidate

    def put(self, account: StoredAccount, *, make_default: bool) -> AccountBook:
        """``account`` added, or in place of the one with its id."""
        others = [known for known in self.accounts if known.id != account.id]
        position = next(
            (i for i, known in enumerate(self.accounts) if known.id == account.id), len(others)
        )
        others.insert(position, account)
        default = account.id if make_default or self.default_account is None else self.default
        return AccountBook(tuple(others), default)

    def without(self, account_ids: Iterable[str]) -> AccountBook:
        gone = set(account_ids)
        kept = tuple(account for account in self.accounts if account.id not in gone)
        book = AccountBook(kept, self.default)
        fallback = book.default_account
        return replace(book, default=fallback.id if fallback else None)

    def retire(self, account_id: str) -> AccountBook:
        account = self.find(account_id)
        if account is None:
            return self
        book = self.put(replace(account, retired=True), make_default=False)
        fallback = book.default_account
        return replace(book, default=fallback.id if fallback else None)


def legacy_id(provider: str, sealed_key: str) -> str:
    """The id of an account stored before several accounts: the same on every read."""
    return hashlib.sha256(f"{provider}:{sealed_key}".encode()).hexdigest()[:8]
