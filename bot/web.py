"""The bot's HTTP side: health, metrics, provider webhooks and (optionally) Telegram's webhook.

* ``GET /healthz`` — 200 when Redis takes a write and the worker loop is alive, else 503 (JSON)
* ``GET /metrics`` — Prometheus text format
* ``POST /provider/<token>`` — an SMS event pushed by a provider, to one user's URL
* ``POST <path of WEBHOOK_URL>`` — Telegram updates, in webhook mode (secret header checked)

Providers POST each SMS to a URL set in the account profile (activations) or passed with the
rent (``url``). Each user has their own URL, shown by the bot (``bot.webhook_urls``): its token
names the user, the provider and the key, and carries a MAC only this server can make, so no
server-wide secret is ever given out. An event is only a hint: the bot reads that object from
the provider at once, if it is the URL owner's, and records what the provider says
(``bot.worker.hints``), so a forged event can change nothing. Every event to a well-formed
path is acknowledged alike (200): valid token or not, known id or not. A path that is not
shaped like a token (non-ASCII included) is 404.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Awaitable, Callable

from aiohttp import web
from aiohttp.http_exceptions import HttpProcessingError
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from bot.metrics import Metrics
from bot.webhook_urls import MalformedToken, WebhookUrls
from bot.worker.hints import ProviderHints

log = logging.getLogger(__name__)

#: Checks what the process depends on: name -> healthy.
HealthCheck = Callable[[], Awaitable[dict[str, bool]]]
#: Refreshes gauges that are read at scrape time.
BeforeScrape = Callable[[], Awaitable[object]]
#: Adds routes of its own (Telegram's webhook, which only the bot process serves).
Mount = Callable[[web.Application], None]


class _ClientFaults(logging.Filter):
    """A request the HTTP parser rejects (raw non-ASCII bytes in the path, say) is answered
    400 and is the sender's fault: one debug line, not an ERROR with a traceback each, which
    anyone on the internet could use to flood the logs."""

    def filter(self, record: logging.LogRecord) -> bool:
        fault = record.exc_info[1] if record.exc_info else None
        if isinstance(fault, HttpProcessingError) and 400 <= fault.code < 500:
            log.debug("rejected a malformed HTTP request: %s", fault.message.splitlines()[0])
            return False
        return True


#: The HTTP server's own log (``web.AppRunner(app, logger=SERVER_LOG)``).
SERVER_LOG = logging.getLogger("bot.web.server")
SERVER_LOG.addFilter(_ClientFaults())

HINTS: web.AppKey[ProviderHints] = web.AppKey("hints", ProviderHints)
URLS: web.AppKey[WebhookUrls] = web.AppKey("urls", WebhookUrls)
METRICS: web.AppKey[Metrics] = web.AppKey("metrics", Metrics)
HEALTH: web.AppKey[HealthCheck] = web.AppKey("health")
BEFORE_SCRAPE: web.AppKey[BeforeScrape | None] = web.AppKey("before_scrape")


async def _provider_webhook(request: web.Request) -> web.Response:
    """A provider's event: a hint to read that object from the provider now (bot.worker.hints).

    Whatever the body says, the answer is the same plain acknowledgement: it reveals neither
    whether the id exists nor what the provider answered.
    """
    app = request.app
    try:
        claim = app[URLS].read(request.match_info["token"])
    except MalformedToken:
        raise web.HTTPNotFound() from None
    try:
        body = await request.json(loads=json.loads)
    except ValueError:
        raise web.HTTPBadRequest(text="body is not JSON") from None
    if not isinstance(body, dict):
        raise web.HTTPBadRequest(text="body is not a JSON object")
    rent_id = _int(body.get("rentId"))
    activation_id = _int(body.get("activationId"))
    if rent_id is None and activation_id is None:
        raise web.HTTPBadRequest(text="no activationId or rentId")
    if claim is not None:
        hints = app[HINTS]
        if rent_id is not None:
            await hints.rent(claim, rent_id)
        elif activation_id is not None:
            await hints.activation(claim, activation_id)
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
    urls: WebhookUrls | None = None,
    telegram: Mount | None = None,
) -> web.Application:
    app = web.Application(client_max_size=1024 * 1024)
    app[METRICS] = metrics
    app[HEALTH] = health
    app[BEFORE_SCRAPE] = before_scrape
    app.router.add_get("/healthz", _healthz)
    app.router.add_get("/metrics", _metrics)
    if hints is not None and urls is not None:
        app[HINTS] = hints
        app[URLS] = urls
        app.router.add_post("/provider/{token}", _provider_webhook)
    if telegram is not None:
        telegram(app)
    return app
