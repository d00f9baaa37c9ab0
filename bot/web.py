"""The bot's HTTP side: health, metrics, provider webhooks and (optionally) Telegram's webhook.

* ``GET /healthz`` — 200 when Redis answers and the worker loop is alive, else 503 (JSON)
* ``GET /metrics`` — Prometheus text format
* ``POST /provider/<PROVIDER_WEBHOOK_SECRET>/<provider>`` — SMS pushed by a provider
* ``POST <path of WEBHOOK_URL>`` — Telegram updates, in webhook mode (secret header checked)

Providers POST each SMS to a URL set in the account profile (activations) or passed with the
rent (``url``). The path carries a secret and the provider's name, because the body names an
activation only by the provider's id. A code that arrives there is recorded and pushed at
once; the poller, seeing the same code later, finds it already recorded. Unknown ids are
acknowledged (200) so the provider stops retrying; a failure on our side answers 500 so it
tries again.
"""

from __future__ import annotations

import hmac
import json
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from aiogram import Bot, Dispatcher
from aiogram.webhook.aiohttp_server import SimpleRequestHandler
from aiohttp import web
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from bot.metrics import Metrics
from bot.provider.models import ActivationState, ActivationStatus
from bot.services.activation_rules import apply_status
from bot.storage.activations import Activation
from bot.storage.records import make_ref
from bot.worker.activations import ActivationPoller

log = logging.getLogger(__name__)

#: Handles a rent webhook body for a provider; returns whether it was new.
RentHook = Callable[[str, dict[str, Any]], Awaitable[bool]]
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


POLLER: web.AppKey[ActivationPoller] = web.AppKey("poller", ActivationPoller)
SECRET: web.AppKey[str] = web.AppKey("secret", str)
PROVIDERS: web.AppKey[frozenset[str]] = web.AppKey("providers", frozenset)
RENT_HOOK: web.AppKey[RentHook | None] = web.AppKey("rent_hook")
METRICS: web.AppKey[Metrics] = web.AppKey("metrics", Metrics)
HEALTH: web.AppKey[HealthCheck] = web.AppKey("health")
BEFORE_SCRAPE: web.AppKey[BeforeScrape | None] = web.AppKey("before_scrape")


async def record_code(poller: ActivationPoller, ref: str, code: str) -> bool:
    """Record a code that a webhook brought, push it and update the card. False if known."""
    clock = poller.ctx.clock
    status = ActivationStatus(state=ActivationState.CODE_RECEIVED, code=code)

    def change(record: Activation) -> Activation:
        return apply_status(record, status, clock())

    before, after = await poller.service.activations.update(ref, change)
    if len(after.codes) == len(before.codes):
        return False
    await poller.deliver(after)
    await poller.render_card(after)
    return True


async def _provider_webhook(request: web.Request) -> web.Response:
    app = request.app
    if not hmac.compare_digest(request.match_info["secret"], app[SECRET]):
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
    if "rentId" in body:
        hook = app[RENT_HOOK]
        new = await hook(provider, body) if hook is not None else False
        return web.json_response({"ok": True, "new": new})
    activation_id = _int(body.get("activationId"))
    code = body.get("code")
    if activation_id is None:
        raise web.HTTPBadRequest(text="no activationId")
    if code in (None, ""):
        # HeroSMS sends code=null when it could not extract one; the poller will see the SMS.
        return web.json_response({"ok": True})
    poller = app[POLLER]
    ref = make_ref(provider, activation_id)
    if await poller.service.activations.get(ref) is None:
        return web.json_response({"ok": True, "known": False})
    new = await record_code(poller, ref, str(code).strip())
    log.info("webhook code for an activation (%s)", "new" if new else "already known")
    return web.json_response({"ok": True, "new": new})


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
    poller: ActivationPoller | None = None,
    providers: frozenset[str] = frozenset(),
    webhook_secret: str | None = None,
    rent_hook: RentHook | None = None,
    telegram: TelegramWebhook | None = None,
) -> web.Application:
    app = web.Application(client_max_size=1024 * 1024)
    app[METRICS] = metrics
    app[HEALTH] = health
    app[BEFORE_SCRAPE] = before_scrape
    app.router.add_get("/healthz", _healthz)
    app.router.add_get("/metrics", _metrics)
    if poller is not None and webhook_secret:
        app[POLLER] = poller
        app[PROVIDERS] = providers
        app[RENT_HOOK] = rent_hook
        app[SECRET] = webhook_secret
        app.router.add_post("/provider/{secret}/{provider}", _provider_webhook)
    if telegram is not None:
        handler = SimpleRequestHandler(
            telegram.dispatcher, telegram.bot, secret_token=telegram.secret
        )
        handler.register(app, path=telegram.path)
    return app
