"""The emulator's world: accounts, the market, every activation, rent and mail, and the money.

Action modules read and change it; the :class:`~bot.sandbox.emulator.Emulator` owns it.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable, Container
from decimal import Decimal
from typing import Any

from bot.sandbox.clock import Clock
from bot.sandbox.config import EmulatorConfig
from bot.sandbox.market import Market
from bot.sandbox.models import Account, Activation, CallTask, Mail, MailStatus, Rent
from bot.sandbox.webhooks import Webhooks
from bot.sandbox.wire import Answer, ApiError, Encoding, Params

__all__ = ["Handler", "InvalidState", "SandboxError", "UnknownObject", "World"]

# Above 2**32 so that a client storing ids in 32 bits breaks in tests, not in production.
_ID_BASES = {"activation": 4_300_000_000, "rent": 4_500_000_000, "mail": 4_700_000_000}


class SandboxError(Exception):
    """A control-surface call the emulator cannot carry out."""


class UnknownObject(SandboxError, KeyError):
    """No activation, rent, mail or account with that id or key."""

    def __str__(self) -> str:
        return str(self.args[0]) if self.args else "unknown object"


class InvalidState(SandboxError):
    """The object exists but its state does not allow this (an SMS to a closed activation)."""


class World:
    """Everything the emulator knows; action handlers are functions of it."""

    def __init__(self, config: EmulatorConfig, clock: Clock) -> None:
        self.config = config
        self.clock = clock
        self.rng = random.Random(config.seed)
        self.market = Market.build(random.Random(f"{config.seed}-market"))
        self.accounts: dict[str, Account] = {}
        self.activations: dict[int, Activation] = {}
        # Activation ids per account key: listing one account must not walk everyone's.
        self.activations_of: dict[str, list[int]] = {}
        self.rents: dict[int, Rent] = {}
        # Numbers and the activations and rents ever on them: whether a number is taken must
        # not walk every object (a purchase asks it, and load tests hold 50,000 of them).
        self.on_phone: dict[str, list[Activation | Rent]] = {}
        self.mails: dict[int, Mail] = {}
        self.call_tasks: dict[int, CallTask] = {}
        self.last_ids = {
            kind: base + self.rng.randrange(100_000_000) for kind, base in _ID_BASES.items()
        }
        self.webhooks = Webhooks(clock, config.webhook_schedule, config.webhook_timeout)

    def now(self) -> float:
        return self.clock.now()

    def add_activation(self, activation: Activation) -> None:
        self.activations[activation.id] = activation
        self.activations_of.setdefault(activation.key, []).append(activation.id)
        self.on_phone.setdefault(activation.phone, []).append(activation)

    def add_rent(self, rent: Rent) -> None:
        self.rents[rent.id] = rent
        self.on_phone.setdefault(rent.phone, []).append(rent)

    def activations_by(self, key: str) -> list[Activation]:
        return [self.activations[i] for i in self.activations_of.get(key, ())]

    def new_id(self, kind: str) -> int:
        # Gaps like a busy shared database, so nobody relies on consecutive ids.
        self.last_ids[kind] += self.rng.randint(1, 97)
        return self.last_ids[kind]

    # -- dates -------------------------------------------------------------------------------

    def _struct(self, ts: float) -> time.struct_time:
        return time.gmtime(ts + self.config.utc_offset_hours * 3600)

    def stamp(self, ts: float) -> str:
        """``YYYY-MM-DD HH:MM:SS``: activation, history and SMS dates."""
        return time.strftime("%Y-%m-%d %H:%M:%S", self._struct(ts))

    def iso(self, ts: float) -> str:
        """``YYYY-MM-DDTHH:MM:SS``: the rent ``endDate``."""
        return time.strftime("%Y-%m-%dT%H:%M:%S", self._struct(ts))

    def day(self, ts: float) -> str:
        return time.strftime("%Y-%m-%d", self._struct(ts))

    def banned_stamp(self, ts: float) -> str:
        """The documented ``'YYYY-m-d H-i-s'`` form of BANNED (PHP's date letters)."""
        text = time.strftime("%Y-%m-%d %H-%M-%S", self._struct(ts))
        return f"'{text}'" if self.config.banned_quotes else text

    # -- accounts and money ------------------------------------------------------------------

    def account(self, key: str) -> Account:
        try:
            return self.accounts[key]
        except KeyError:
            raise UnknownObject(f"no account with key {key[:2]}***") from None

    def open_channels(self, key: str) -> int:
        return (
            sum(1 for a in self.activations.values() if a.key == key and a.is_open)
            + sum(1 for r in self.rents.values() if r.key == key and r.is_active)
            + sum(
                1 for m in self.mails.values() if m.key == key and m.status is MailStatus.WAITING
            )
        )

    def check_account(
        self, account: Account, encoding: Encoding = Encoding.TEXT, *, new_channel: bool = True
    ) -> None:
        """Refusals that concern the account, not the order: a ban, the channels limit."""
        now = self.now()
        until = account.banned_until
        if until is not None and until > now:
            raise ApiError(
                "BANNED",
                payload=self.banned_stamp(until) if encoding is Encoding.TEXT else None,
                encoding=encoding,
                info={
                    "scope": "account",
                    "banned_until": self.stamp(until),
                    "retry_after_seconds": int(until - now),
                },
            )
        limit = account.max_channels
        if new_channel and limit is not None and self.open_channels(account.key) >= limit:
            raise ApiError("CHANNELS_LIMIT", encoding=encoding)

    def can_pay(self, account: Account, amount: Decimal) -> bool:
        spendable = account.balance + (account.cashback if account.use_cashback else 0)
        return spendable >= amount

    def charge(self, account: Account, amount: Decimal) -> Decimal:
        """Debit ``amount``; returns the part paid from cashback (spent first when enabled)."""
        from_cashback = min(account.cashback, amount) if account.use_cashback else Decimal(0)
        account.cashback -= from_cashback
        account.balance -= amount - from_cashback
        return from_cashback

    def refund(
        self, account: Account, amount: Decimal, from_cashback: Decimal = Decimal(0)
    ) -> None:
        account.cashback += from_cashback
        account.balance += amount - from_cashback

    def phone_taken(self, phone: str) -> bool:
        """Whether an open activation or an active rent holds the number."""
        return any(
            item.is_open if isinstance(item, Activation) else item.is_active
            for item in self.on_phone.get(phone, ())
        )

    def taken_phones(self) -> Container[str]:
        """The numbers in use, for ``in`` tests."""
        return _TakenPhones(self)

    # -- persistence -------------------------------------------------------------------------

    def to_dict(self) -> dict[str, Any]:
        return {
            "version": 1,
            "clock_offset": self.clock.offset,
            "rng": _jsonable_state(self.rng.getstate()),
            "last_ids": dict(self.last_ids),
            "market": self.market.to_dict(),
            "accounts": [a.model_dump(mode="json") for a in self.accounts.values()],
            "activations": [a.model_dump(mode="json") for a in self.activations.values()],
            "rents": [r.model_dump(mode="json") for r in self.rents.values()],
            "mails": [m.model_dump(mode="json") for m in self.mails.values()],
            "call_tasks": [c.model_dump(mode="json") for c in self.call_tasks.values()],
        }

    def load(self, data: dict[str, Any]) -> None:
        if data.get("version") != 1:
            raise ValueError(f"unsupported sandbox state version {data.get('version')!r}")
        self.rng.setstate(_state_from_json(data["rng"]))
        self.last_ids = {str(k): int(v) for k, v in data["last_ids"].items()}
        self.market = Market.from_dict(data["market"])
        self.accounts = {a.key: a for a in map(Account.model_validate, data["accounts"])}
        self.activations = {}
        self.activations_of = {}
        self.rents = {}
        self.on_phone = {}
        for activation in map(Activation.model_validate, data["activations"]):
            self.add_activation(activation)
        for rented in map(Rent.model_validate, data["rents"]):
            self.add_rent(rented)
        self.mails = {m.id: m for m in map(Mail.model_validate, data["mails"])}
        self.call_tasks = {
            c.activation_id: c for c in map(CallTask.model_validate, data["call_tasks"])
        }


class _TakenPhones(Container[str]):
    def __init__(self, world: World) -> None:
        self._world = world

    def __contains__(self, phone: object) -> bool:
        return isinstance(phone, str) and self._world.phone_taken(phone)


def _jsonable_state(state: tuple[Any, ...]) -> list[Any]:
    version, internal, gauss = state
    return [version, list(internal), gauss]


def _state_from_json(data: list[Any]) -> tuple[Any, ...]:
    version, internal, gauss = data
    return (version, tuple(internal), gauss)


# An action: reads parameters, changes the world, answers text or JSON or raises ApiError.
Handler = Callable[[World, Account, Params], Answer]
