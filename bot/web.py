"""The bot's HTTP side: health, metrics, provider webhooks and (optionally) Telegram's webhook.

* ``GET /healthz`` — 200 when Redis takes a write and the worker loop is alive, else 503 (JSON)
* ``GET /metrics`` — Prometheus text format
* ``POST /provider/<PROVIDER_WEBHOOK_SECRET>/<provider>`` — SMS pushed by a provider
* ``POST <path of WEBHOOK_URL>`` — Telegram updates, in webhook mode (secret header checked)

Providers POST each SMS to a URL set in the account profile (activations) or passed with the
rent (``url``). The path carries a secret and the provider's name, because the body names an
activation only by the provider's id. An event is only a hint: the bot reads that object
from the provider at once and records what the provider says (``bot.worker.hints``), so a
forged event can change nothing. Every event is acknowledged alike (200), known id or not.
Per-user webhook URLs are not built yet: the secret in the path is shared by the deployment.
"""

from __future__ import annotations

import hmac
import json
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from aiogram import Bot, Dispatcher
from aiogram.webhook.aiohttp_server import SimpleRequestHandler
from aiohttp import web
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from bot.metrics import Metrics
from bot.worker.hints import ProviderHints

log = logging.getLogger(__name__)

#: Handles a rent webhook body for a provider; returns whether it was new.
#: Checks what the process depends on: name -> healthy.
HealthCheck = Callable[[], Awaitable[dict[str, bool]]]
#: Refreshes gauges that are read at scrape time.
BeforeScrape = Callable[[], Awaitable[object]]


@dataclass(frozen=True, slots=True)
class TelegramWebhook:
    dispatcher: Dispatcher
    bot: Bot
    path: str
    secret: str


HINTS: web.AppKey[ProviderHints] = web.AppKey("hints", ProviderHints)
SECRET: web.AppKey[str] = web.AppKey("secret", str)
PROVIDERS: web.AppKey[frozenset[str]] = web.AppKey("providers", frozenset)
METRICS: web.AppKey[Metrics] = web.AppKey("metrics", Metrics)
HEALTH: web.AppKey[HealthCheck] = web.AppKey("health")
BEFORE_SCRAPE: web.AppKey[BeforeScrape | None] = web.AppKey("before_scrape")


async def _provider_webhook(request: web.Request) -> web.Response:
    """A provider's event: a hint to read that object from the provider now (bot.worker.hints).

    Whatever the body says, the answer is the same plain acknowledgement: it reveals neither
    whether the id exists nor what the provider answered.
    """
    app = request.app
    secret = request.match_info["secret"].encode()
    if not hmac.compare_digest(secret, app[SECRET].encode()):
        raise web.HTTPNotFound()
    provider = request.match_info["provider"]
    if provider not in app[PROVIDERS]:
        raise web.HTTPNotFound()
    try:
        body = await request.json(loads=json.loads)
    except ValueError:
        raise web.HTTPBadRequest(text="body is not JSON") from None
    if not isinstance(body, dict):
        raise web.HTTPBadRequest(text="body is not a JSON object")
    hints = app[HINTS]
    rent_id = _int(body.get("rentId"))
    activation_id = _int(body.get("activationId"))
    if rent_id is not None:
        await hints.rent(provider, rent_id)
    elif activation_id is not None:
        await hints.activation(provider, activation_id)
    else:
        raise web.HTTPBadRequest(text="no activationId or rentId")
    return web.json_response({"ok": True})


async def _healthz(request: web.Request) -> web.Response:
    try:
        checks = await request.app[HEALTH]()
    except Exception as error:
        log.warning("health check failed: %s", type(error).__name__)
        checks = {"checks": False}
    healthy = all(checks.values())
    return web.json_response(
        {"ok": healthy, **{name: "ok" if good else "failing" for name, good in checks.items()}},
        status=200 if healthy else 503,
    )


async def _metrics(request: web.Request) -> web.Response:
    before = request.app[BEFORE_SCRAPE]
    if before is not None:
        try:
            await before()
        except Exception as error:
            log.warning("could not refresh gauges: %s", type(error).__name__)
    body = generate_latest(request.app[METRICS].registry)
    return web.Response(body=body, headers={"Content-Type": CONTENT_TYPE_LATEST})


def _int(value: object) -> int | None:
    try:
        return int(str(value).strip())
    except (TypeError, ValueError):
        return None


def create_web_app(
    *,
    metrics: Metrics,
    health: HealthCheck,
    before_scrape: BeforeScrape | None = None,
    hints: ProviderHints | None = None,
    providers: frozenset[str] = frozenset(),
    webhook_secret: str | None = None,
    telegram: TelegramWebhook | None = None,
) -> web.Application:
    app = web.Application(client_max_size=1024 * 1024)
    app[METRICS] = metrics
    app[HEALTH] = health
    app[BEFORE_SCRAPE] = before_scrape
    app.router.add_get("/healthz", _healthz)
    app.router.add_get("/metrics", _metrics)
    if hints is not None and webhook_secret:
        app[HINTS] = hints
        app[PROVIDERS] = providers
        app[SECRET] = webhook_secret
        app.router.add_post("/provider/{secret}/{provider}", _provider_webhook)
    if telegram is not None:
        handler = SimpleRequestHandler(
            telegram.dispatcher, telegram.bot, secret_token=telegram.secret
        )
        handler.register(app, path=telegram.path)
    return app
