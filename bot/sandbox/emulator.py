"""The emulator: a stateful fake SMS-Activate provider behind ``handler_api.php``.

:meth:`Emulator.handle` answers one request synchronously (no faults); :meth:`Emulator.serve`
does the same through the fault injector and is what the in-process transport and the HTTP
server call. Timers are evaluated lazily against the clock on every request and by
:meth:`Emulator.tick`, so moving the clock moves every lifecycle.
"""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass
from decimal import Decimal
from typing import Any

import httpx

from bot.sandbox import activations, listings, mail, rent
from bot.sandbox.clock import Clock
from bot.sandbox.config import EmulatorConfig
from bot.sandbox.faults import FaultPlan, Faults
from bot.sandbox.herosms import render_error
from bot.sandbox.market import Offer
from bot.sandbox.models import Account, Activation, CallTask, Mail, Rent, RentSms, Sms
from bot.sandbox.state import Handler, UnknownObject, World
from bot.sandbox.texts import extract_code, extract_mail_value
from bot.sandbox.webhooks import WebhookDelivery
from bot.sandbox.wire import Answer, ApiError, Encoding, Params, Reply, dump_json, mask_key

__all__ = ["ACTIONS", "CallRecord", "Emulator", "Outcome"]

ACTIONS: dict[str, Handler] = {
    **listings.ACTIONS,
    **activations.ACTIONS,
    **rent.ACTIONS,
    **mail.ACTIONS,
}


@dataclass(frozen=True, slots=True)
class CallRecord:
    """One served request, as tests see it: the API key is masked like ``de***``."""

    at: float
    action: str
    params: dict[str, str]
    status: int
    body: str
    fault: str | None = None
    performed: bool = True

    @property
    def token(self) -> str:
        """The answer's leading token (``ACCESS_NUMBER``), ``json`` for JSON, ``""`` if lost."""
        text = self.body.strip()
        if text.startswith(("{", "[")):
            return "json"
        return text.split(":", 1)[0]

    def as_dict(self) -> dict[str, Any]:
        return {**asdict(self), "token": self.token}


@dataclass(frozen=True, slots=True)
class Outcome:
    """A served request: the reply, or None when a timeout fault swallowed it.

    ``original`` is the real answer of a request carried out before its fault (``"after"``),
    which the HTTP server sends late instead of dropping.
    """

    reply: Reply | None
    latency: float = 0.0
    fault: str | None = None
    performed: bool = True
    original: Reply | None = None

    @property
    def timed_out(self) -> bool:
        return self.reply is None


def _decimal(value: Decimal | str | int | float) -> Decimal:
    return value if isinstance(value, Decimal) else Decimal(str(value))


TICK_EVERY = 0.2


class Emulator:
    """A fake provider with accounts, stock, activations, rents and mails.

    emu = Emulator(EmulatorConfig(seed=1), Clock(frozen_at=1_767_000_000))
    emu.add_account("key", 100)
    emu.handle({"api_key": "key", "action": "getNumber", "service": "tg"})
    emu.deliver_sms(activation_id, "Telegram code: 12345")
    emu.advance(20 * 60)  # expiries, refunds and scripted SMS happen here
    """

    def __init__(
        self,
        config: EmulatorConfig | None = None,
        clock: Clock | None = None,
        *,
        webhook_client: httpx.AsyncClient | None = None,
    ) -> None:
        self.config = config if config is not None else EmulatorConfig()
        self.clock = clock if clock is not None else Clock()
        self.world = World(self.config, self.clock)
        self.world.webhooks.client = webhook_client
        self.faults = Faults(self.config.seed)
        self.calls: list[CallRecord] = []
        # Requests served, by action: every one, unlike ``calls`` (load tests read it).
        self.served: Counter[str] = Counter()
        self._ticked_at: float | None = None

    # -- state, readable by tests ----------------------------------------------------------------

    @property
    def accounts(self) -> dict[str, Account]:
        return self.world.accounts

    @property
    def activations(self) -> dict[int, Activation]:
        return self.world.activations

    @property
    def rents(self) -> dict[int, Rent]:
        return self.world.rents

    @property
    def mails(self) -> dict[int, Mail]:
        return self.world.mails

    @property
    def call_tasks(self) -> dict[int, CallTask]:
        return self.world.call_tasks

    @property
    def webhook_deliveries(self) -> list[WebhookDelivery]:
        return self.world.webhooks.deliveries

    def offer(self, country: int, service: str) -> Offer | None:
        return self.world.market.offer(country, service)

    # -- control surface ---------------------------------------------------------------------

    def add_account(
        self,
        key: str,
        balance: Decimal | str | int = 0,
        cashback: Decimal | str | int = 0,
    ) -> Account:
        """Create the account, or reset the money of an existing one."""
        if not key:
            raise ValueError("an account needs a non-empty key")
        existing = self.world.accounts.get(key)
        if existing is not None:
            existing.balance = _decimal(balance)
            existing.cashback = _decimal(cashback)
            return existing
        account = Account(key=key, balance=_decimal(balance), cashback=_decimal(cashback))
        self.world.accounts[key] = account
        return account

    def revoke_key(self, key: str, revoked: bool = True) -> None:
        """The key stops working (BAD_KEY) while its numbers keep their lifecycle."""
        self.world.account(key).revoked = revoked

    def account(self, key: str) -> Account:
        return self.world.account(key)

    def set_webhooks(self, key: str, urls: Iterable[str]) -> None:
        """The profile's activation webhook URLs (rents use their own ``url``)."""
        self.world.account(key).webhook_urls = list(urls)

    def set_offer(
        self,
        country: int,
        service: str,
        *,
        cost: Decimal | str | int | None = None,
        count: int | None = None,
    ) -> Offer:
        """Change (or create) the price and stock of a service in a country."""
        offer = self.world.market.offers.get((country, service))
        if offer is None:
            offer = Offer(Decimal("0.1"), 0)
            self.world.market.offers[country, service] = offer
            self.world.market.verification_prices.setdefault(country, Decimal("0.15"))
        if cost is not None:
            offer.cost = _decimal(cost)
        if count is not None:
            offer.count = count
        return offer

    def deliver_sms(self, activation_id: int, text: str, code: str | None = None) -> Sms:
        self.tick()
        activation = self._activation(activation_id)
        code = code if code is not None else extract_code(text)
        return activations.deliver_sms(self.world, activation, text, code, self.clock.now())

    def deliver_call(self, activation_id: int, phone_from: str) -> Sms:
        self.tick()
        activation = self._activation(activation_id)
        return activations.deliver_call(self.world, activation, phone_from, self.clock.now())

    def deliver_rent_sms(
        self,
        rent_id: int,
        text: str,
        phone_from: str = "Info",
        service: str = "ot",
    ) -> RentSms:
        self.tick()
        found = self._rent(rent_id)
        return rent.deliver_rent_sms(
            self.world, found, text, phone_from, service, self.clock.now()
        )

    def deliver_mail(self, mail_id: int, text: str, value: str | None = None) -> Mail:
        self.tick()
        found = self.world.mails.get(mail_id)
        if found is None:
            raise UnknownObject(f"no mail {mail_id}")
        value = value if value is not None else extract_mail_value(text)
        mail.deliver_mail(self.world, found, text, value, self.clock.now())
        return found

    def revoke_rent(self, rent_id: int) -> None:
        self.tick()
        rent.revoke(self.world, self._rent(rent_id))

    def advance(self, seconds: float) -> None:
        self.clock.advance(seconds)
        self.tick(force=True)

    def tick(self, *, force: bool = False) -> None:
        """Run everything that is due: scripted SMS, expiries, rent ends, mail lifetimes.

        A tick scans every object, so it runs once per instant of a frozen clock and at most
        every TICK_EVERY seconds of a running one: with tens of thousands of numbers a scan
        per request would make the emulator, not the bot, the thing being measured.
        """
        now = self.clock.now()
        last = self._ticked_at
        recent = last is not None and (
            now == last or (not self.clock.frozen and now - last < TICK_EVERY)
        )
        if recent and not force:
            return
        self._ticked_at = now
        activations.run_due(self.world, now)
        rent.run_due(self.world, now)
        mail.run_due(self.world, now)

    def _activation(self, activation_id: int) -> Activation:
        found = self.world.activations.get(activation_id)
        if found is None:
            raise UnknownObject(f"no activation {activation_id}")
        return found

    def _rent(self, rent_id: int) -> Rent:
        found = self.world.rents.get(rent_id)
        if found is None:
            raise UnknownObject(f"no rent {rent_id}")
        return found

    # -- the protocol ------------------------------------------------------------------------

    def handle(self, params: Mapping[str, str]) -> Reply:
        """Answer one request, without faults."""
        action, reply = self._execute(Params(params))
        self._record(action, params, reply, None, performed=True)
        return reply

    def serve(self, params: Mapping[str, str]) -> Outcome:
        """Answer one request through the fault injector."""
        parsed = Params(params)
        action = parsed.get("action") or ""
        plan = self.faults.plan(action)
        if plan.kind is None:
            _, reply = self._execute(parsed)
            self._record(action, params, reply, None, performed=True)
            return Outcome(reply, plan.latency)
        performed = plan.when == "after"
        original = self._execute(parsed)[1] if performed else None
        faulty = self._fault_reply(plan, action)
        self._record(action, params, faulty, plan.kind, performed=performed)
        return Outcome(faulty, plan.latency, plan.kind, performed, original)

    def _execute(self, p: Params) -> tuple[str, Reply]:
        self.tick()
        action = p.get("action") or ""
        key = p.get("api_key")
        # The key is checked before the action, as HeroSMS does.
        if key is None:
            return action, self._error(ApiError("NO_KEY"), action)
        account = self.world.accounts.get(key)
        if account is None or account.revoked:
            return action, self._error(ApiError("BAD_KEY"), action)
        handler = ACTIONS.get(action)
        if handler is None or action in self.config.disabled_actions:
            return action, self._error(ApiError("BAD_ACTION"), action)
        try:
            answer = handler(self.world, account, p)
        except ApiError as error:
            return action, self._error(error, action)
        return action, self._answer(answer, action)

    def _content_type(self, action: str, *, is_json: bool) -> str:
        override = self.config.content_types.get(action)
        if override is not None:
            return override
        return self.config.json_content_type if is_json else self.config.text_content_type

    def _answer(self, answer: Answer, action: str) -> Reply:
        if isinstance(answer, str):
            return Reply(200, answer, self._content_type(action, is_json=False))
        return Reply(200, dump_json(answer), self._content_type(action, is_json=True))

    def _error(self, error: ApiError, action: str) -> Reply:
        if self.config.dialect == "herosms":
            hero = render_error(error, action)
            if hero is not None:
                status, body = hero
                return Reply(status, body, "application/json")
        body = error.classic_body()
        return Reply(200, body, self._content_type(action, is_json=body.startswith("{")))

    def _fault_reply(self, plan: FaultPlan, action: str) -> Reply | None:
        text_type = self.config.text_content_type
        match plan.kind:
            case "timeout":
                return None
            case "http_5xx":
                status, page = self.faults.http_error()
                return Reply(status, page, "text/html")
            case "garbage":
                return Reply(200, self.faults.garbage(), text_type)
            case "error_sql":
                if action in rent.ACTIONS:
                    return self._error(ApiError("SQL_ERROR", encoding=Encoding.J_MSG), action)
                if action in mail.ACTIONS:
                    return self._error(ApiError("ERROR_SQL", encoding=Encoding.J_MAIL), action)
                return self._error(ApiError("ERROR_SQL"), action)
            case _:
                if self.config.dialect == "herosms":
                    error = ApiError("RATE_LIMIT", info={"retry_after_seconds": 10})
                    return self._error(error, action)
                return Reply(429, "RATE_LIMIT", text_type)

    def _record(
        self,
        action: str,
        params: Mapping[str, str],
        reply: Reply | None,
        fault: str | None,
        *,
        performed: bool,
    ) -> None:
        self.served[action] += 1
        self.calls.append(
            CallRecord(
                at=self.clock.now(),
                action=action,
                params=Params(params).masked(),
                status=reply.status if reply is not None else 0,
                body=reply.body[:500] if reply is not None else "",
                fault=fault,
                performed=performed,
            )
        )
        overflow = len(self.calls) - self.config.max_recorded_calls
        if overflow > 0:
            del self.calls[:overflow]

    # -- webhooks ----------------------------------------------------------------------------

    async def flush_webhooks(self) -> int:
        """Send every webhook that is due now; returns the number of attempts made."""
        self.tick()
        return await self.world.webhooks.flush()

    async def run_webhooks(self, interval: float = 1.0) -> None:
        """Background loop: runs timers (scripted SMS) and sends due webhooks, forever."""
        while True:
            await self.flush_webhooks()
            await asyncio.sleep(interval)

    async def aclose(self) -> None:
        await self.world.webhooks.aclose()

    # -- persistence -------------------------------------------------------------------------

    def snapshot(self) -> dict[str, Any]:
        """Accounts, objects, stock and generator state as JSON-able data (no config)."""
        return self.world.to_dict()

    @classmethod
    def restore(
        cls,
        data: Mapping[str, Any],
        config: EmulatorConfig | None = None,
        clock: Clock | None = None,
        *,
        webhook_client: httpx.AsyncClient | None = None,
    ) -> Emulator:
        if clock is None:
            clock = Clock(offset=float(data.get("clock_offset", 0.0)))
        emulator = cls(config, clock, webhook_client=webhook_client)
        emulator.world.load(dict(data))
        return emulator

    def state_dump(self) -> dict[str, Any]:
        """What ``GET /sandbox/state`` shows: objects and money (keys masked), no stock tables."""
        data = self.snapshot()

        def masked(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
            return [{**row, "key": mask_key(row["key"])} for row in rows]

        return {
            "now": self.clock.now(),
            "accounts": masked(data["accounts"]),
            "activations": masked(data["activations"]),
            "rents": masked(data["rents"]),
            "mails": masked(data["mails"]),
            "call_tasks": masked(data["call_tasks"]),
            "webhooks": [asdict(d) for d in self.world.webhooks.deliveries],
        }
