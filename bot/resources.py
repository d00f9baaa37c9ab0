"""Everything application-scoped: opened once at start, shared, closed on shutdown.

Below the factory, the handlers, the lifespan and the worker, which all take ``Resources``:
it imports none of them. What runs beside the bot (worker loop, web server, background
tasks) is the lifespan's (see lifespan.py), not a resource.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any

import httpx
from redis.asyncio import BlockingConnectionPool, Redis
from redis.asyncio.retry import Retry
from redis.backoff import ExponentialBackoff
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError

from bot.accounts import Accounts
from bot.botapi import TELEGRAM_API, BotApi
from bot.config import Settings
from bot.i18n import I18n, build_i18n
from bot.metrics import Metrics
from bot.provider.client import build_http_client
from bot.provider.hub import ProviderHub
from bot.provider.presets import SANDBOX2_PRESET, SANDBOX_PRESET, ProviderPreset
from bot.sandbox import Emulator, EmulatorConfig, EmulatorTransport
from bot.sandbox.server import keep_saving, save_state
from bot.services.account_items import AccountItems
from bot.services.activations import ActivationService
from bot.services.budget import ProviderBudget
from bot.services.catalogue import CatalogueService
from bot.services.mails import MailService
from bot.services.offers import OfferService
from bot.services.rents import RentService
from bot.storage.activations import ActivationRepo
from bot.storage.embedded import EmbeddedRedis
from bot.storage.mails import MailRepo
from bot.storage.orders import OrderRepo
from bot.storage.rents import RentRepo
from bot.storage.schedule import Schedule
from bot.storage.secrets import KeyCipher, load_or_create_secret
from bot.storage.users import UserRepo
from bot.webhook_urls import WebhookUrls

log = logging.getLogger(__name__)

SANDBOX_SMS_DELAY = 8.0
REDIS_CONNECTIONS = 200
SANDBOX_RENT_SMS_INTERVAL = 90.0
SANDBOX_STATE = "sandbox.json"
SANDBOX_BALANCE = Decimal("100")


@dataclass(frozen=True, slots=True)
class DemoProvider:
    """One demo provider of SANDBOX=1: its preset, the seed of its market (another seed,
    other prices and stock) and the file under DATA_DIR that keeps its state."""

    preset: ProviderPreset
    seed: int
    state_file: str


#: The demo providers, "Sandbox" first (its state file is the one a single sandbox kept).
DEMO_PROVIDERS: tuple[DemoProvider, ...] = (
    DemoProvider(SANDBOX_PRESET, seed=1, state_file=SANDBOX_STATE),
    DemoProvider(SANDBOX2_PRESET, seed=2, state_file="sandbox2.json"),
)


@dataclass(frozen=True)
class Resources:
    """Opened once by ``open_resources``, shared read-only, closed by ``close_resources``."""

    settings: Settings
    redis: Redis
    i18n: I18n
    #: The Bot API for what the bot sends on its own (codes, cards): no aiogram needed.
    bot_api: BotApi
    users: UserRepo
    hub: ProviderHub
    accounts: Accounts
    #: The same accounts through the worker's own provider lanes (see bot/provider/lane.py).
    worker_accounts: Accounts
    activations: ActivationRepo
    orders: OrderRepo
    schedule: Schedule
    activation_service: ActivationService
    catalogue: CatalogueService
    #: Every account's offer for a service and country, side by side (bot/services/offers.py).
    offer_service: OfferService
    mails: MailRepo
    mail_service: MailService
    rents: RentRepo
    rent_service: RentService
    embedded: EmbeddedRedis | None = None
    #: The first demo provider ("Sandbox"), the one ``Accounts`` connects today.
    sandbox: SandboxRuntime | None = None
    #: Every demo provider's runtime by provider name (empty without SANDBOX=1).
    sandboxes: dict[str, SandboxRuntime] = field(default_factory=dict)
    clock: Callable[[], float] = time.time
    #: The worker's steady clock: tells a wall-clock jump from time passing (clockguard.py).
    steady: Callable[[], float] = time.monotonic
    metrics: Metrics = field(default_factory=Metrics)
    webhook_urls: WebhookUrls | None = None
    account_items: AccountItems | None = None

    def workflow_data(self) -> dict[str, Any]:
        """What handlers may ask for by parameter name."""
        return {
            "settings": self.settings,
            "redis": self.redis,
            "i18n": self.i18n,
            "bot_api": self.bot_api,
            "users": self.users,
            "hub": self.hub,
            "accounts": self.accounts,
            "webhook_urls": self.webhook_urls,
            "activations": self.activations,
            "activation_service": self.activation_service,
            "catalogue": self.catalogue,
            "offer_service": self.offer_service,
            "mail_service": self.mail_service,
            "rent_service": self.rent_service,
            "schedule": self.schedule,
            "orders": self.orders,
            "account_items": self.account_items
            or AccountItems(self.accounts, self.activations, self.rents, self.mails),
        }


class SandboxRuntime:
    """The in-process emulator behind one demo provider: demo accounts, kept under DATA_DIR."""

    def __init__(self, data_dir: Path, demo: DemoProvider = DEMO_PROVIDERS[0]) -> None:
        self.demo = demo
        self.path = data_dir / demo.state_file
        config = EmulatorConfig(
            seed=demo.seed,
            auto_sms_delay=SANDBOX_SMS_DELAY,
            auto_rent_sms_interval=SANDBOX_RENT_SMS_INTERVAL,
        )
        self.emulator = self._load(config) or Emulator(config)
        self.http = build_http_client(transport=EmulatorTransport(self.emulator))
        self._saver: asyncio.Task[None] | None = None

    def _load(self, config: EmulatorConfig) -> Emulator | None:
        try:
            return Emulator.restore(json.loads(self.path.read_text(encoding="utf-8")), config)
        except FileNotFoundError:
            return None
        except (OSError, ValueError, KeyError, TypeError) as error:
            log.warning("sandbox state unreadable, starting afresh: %s", type(error).__name__)
            return None

    def ensure_account(self, key: str, balance: Decimal) -> None:
        if key not in self.emulator.accounts:
            self.emulator.add_account(key, balance=balance)

    def start(self) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._saver = asyncio.create_task(keep_saving(self.emulator, self.path, 2.0))

    async def stop(self) -> None:
        if self._saver is not None:
            self._saver.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._saver
        save_state(self.emulator, self.path)


def open_sandboxes(settings: Settings) -> dict[str, SandboxRuntime]:
    """Every demo provider's emulator, started (each saves its own state under DATA_DIR)."""
    runtimes = {
        demo.preset.name: SandboxRuntime(settings.data_dir, demo) for demo in DEMO_PROVIDERS
    }
    for runtime in runtimes.values():
        runtime.start()
    return runtimes


async def open_users(settings: Settings, redis: Redis) -> UserRepo:
    """The users' store, once SECRET_KEY is known to decrypt what is stored (else it fails
    with SecretKeyMismatch: the bot must not run on, unable to read anyone's key)."""
    secret = load_or_create_secret(settings.secret_key, settings.data_dir)
    users = UserRepo(redis, KeyCipher(secret))
    await users.check_secret()
    return users


async def open_redis(settings: Settings) -> tuple[Redis, EmbeddedRedis | None]:
    embedded = None
    url = settings.redis_url
    if url is None:
        embedded = EmbeddedRedis(settings.data_dir / "redis")
        url = await embedded.start()
    # A blocking pool: under a burst of updates a command waits for a free connection instead
    # of failing with "Too many connections".
    # Retried with backoff on a dropped connection: a Redis restart of a few seconds is
    # ridden out instead of failing every update (and the error handler with it).
    pool = BlockingConnectionPool.from_url(
        url,
        max_connections=REDIS_CONNECTIONS,
        timeout=30,
        retry=Retry(ExponentialBackoff(cap=1.0, base=0.05), 8),
        retry_on_error=[RedisConnectionError, RedisTimeoutError],
    )
    redis = Redis(connection_pool=pool)
    try:
        await redis.ping()
    except Exception:
        await close_redis(redis, embedded)
        raise
    return redis, embedded


async def close_redis(redis: Redis, embedded: EmbeddedRedis | None) -> None:
    """Close the client, then the embedded Redis behind it (when this process runs one)."""
    await redis.aclose()
    if embedded is not None:
        await embedded.stop()


async def open_resources(
    settings: Settings,
    *,
    redis: Redis | None = None,
    http: httpx.AsyncClient | None = None,
    clock: Callable[[], float] | None = None,
    steady: Callable[[], float] = time.monotonic,
    bot_api: BotApi | None = None,
) -> Resources:
    """Open what the bot needs. Tests pass their own Redis, HTTP client, Bot API and clocks
    (the real wall clock is None: the shared schedule then keeps Redis time, see schedule.py).

    A start that fails (a wrong SECRET_KEY, say) closes what it opened: no embedded Redis
    is left running behind it.
    """
    embedded = None
    own_redis = redis is None
    if redis is None:
        redis, embedded = await open_redis(settings)
    try:
        users = await open_users(settings, redis)
    except BaseException:
        if own_redis:  # a test's own Redis stays open; an embedded one is only ever ours
            await close_redis(redis, embedded)
        raise
    i18n = build_i18n(settings.default_locale)
    special: dict[str, httpx.AsyncClient] = {}
    sandboxes = open_sandboxes(settings) if settings.sandbox else {}
    sandbox = sandboxes.get(SANDBOX_PRESET.name)
    special.update({name: runtime.http for name, runtime in sandboxes.items()})
    budget = ProviderBudget(redis, settings.provider_rps)
    metrics = Metrics()
    if http is None:
        # A pool per provider: one that hangs holds its own connections, not the others'.
        timeout = httpx.Timeout(settings.provider_timeout, connect=5.0)
        http = build_http_client(timeout=timeout)
        for preset in settings.providers:
            special.setdefault(preset.name, build_http_client(timeout=timeout))
    hub = ProviderHub(
        settings.providers,
        http,
        special=special,
        gate_for=budget.gate_for,
        observer=metrics.provider_request,
    )
    accounts = Accounts(users, hub, sandboxes=sandboxes, sandbox_balance=SANDBOX_BALANCE)
    activations = ActivationRepo(redis)
    orders = OrderRepo(redis, quote_ttl=settings.quote_ttl)
    schedule = Schedule(redis, clock)
    clock = clock or time.time
    mails = MailRepo(redis)
    rents = RentRepo(redis)
    items = AccountItems(accounts, activations, rents, mails)
    for repo in (activations, rents, mails):
        # The last open item of a removed account closing lets its key go.
        repo.on_close = items.closed
    urls = webhook_urls(settings)
    catalogue = CatalogueService(redis)
    if bot_api is None:
        # Without BOT_TOKEN nothing is sent: both commands refuse to start without one.
        token = settings.bot_token.get_secret_value() if settings.bot_token else ""
        bot_api = BotApi(token, settings.telegram_api_base or TELEGRAM_API)
    return Resources(
        settings=settings,
        redis=redis,
        i18n=i18n,
        bot_api=bot_api,
        users=users,
        hub=hub,
        accounts=accounts,
        worker_accounts=accounts.background(),
        activations=activations,
        orders=orders,
        schedule=schedule,
        activation_service=ActivationService(activations, orders, schedule, users, clock=clock),
        catalogue=catalogue,
        offer_service=OfferService(catalogue, settings.offer_timeout),
        mails=mails,
        mail_service=MailService(mails, orders, schedule, clock=clock),
        rents=rents,
        rent_service=RentService(
            rents, orders, schedule, redis, clock=clock, webhook_url=urls.url if urls else None
        ),
        embedded=embedded,
        sandbox=sandbox,
        sandboxes=sandboxes,
        clock=clock,
        steady=steady,
        metrics=metrics,
        webhook_urls=urls,
        account_items=items,
    )


def webhook_urls(settings: Settings) -> WebhookUrls | None:
    """Per-user provider webhook URLs, when PROVIDER_WEBHOOK_SECRET turns them on."""
    secret = settings.provider_webhook_secret
    if secret is None:
        return None
    return WebhookUrls(secret.get_secret_value(), settings.public_url)


async def close_resources(resources: Resources) -> None:
    await resources.offer_service.aclose()
    await resources.bot_api.aclose()
    for runtime in resources.sandboxes.values():
        await runtime.stop()
    await resources.hub.aclose()
    await close_redis(resources.redis, resources.embedded)
