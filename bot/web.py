"""The bot's HTTP side: provider webhooks (and, later, health and metrics).

Providers POST each SMS to a URL set in the account profile (activations) or passed with the
rent (``url``). The path carries a secret and the provider's name, because the body names an
activation only by the provider's id:

    POST /provider/<PROVIDER_WEBHOOK_SECRET>/<provider name>

A code that arrives here is recorded and pushed at once; the poller, seeing the same code
later, finds it already recorded. Unknown ids are acknowledged (200) so the provider stops
retrying; a failure on our side answers 500 so it tries again.
"""

from __future__ import annotations

import hmac
import json
import logging
from collections.abc import Awaitable, Callable
from typing import Any

from aiohttp import web

from bot.provider.models import ActivationState, ActivationStatus
from bot.services.activations import apply_status
from bot.storage.activations import Activation, make_ref
from bot.worker.activations import ActivationPoller

log = logging.getLogger(__name__)

#: Handles a rent webhook body for a provider; returns whether it was new.
RentHook = Callable[[str, dict[str, Any]], Awaitable[bool]]

POLLER: web.AppKey[ActivationPoller] = web.AppKey("poller", ActivationPoller)
SECRET: web.AppKey[str] = web.AppKey("secret", str)
PROVIDERS: web.AppKey[frozenset[str]] = web.AppKey("providers", frozenset)
RENT_HOOK: web.AppKey[RentHook | None] = web.AppKey("rent_hook")


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
        if hook is not None:
            await hook(provider, body)
        return web.json_response({"ok": True})
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


def _int(value: object) -> int | None:
    try:
        return int(str(value).strip())
    except (TypeError, ValueError):
        return None


def create_web_app(
    poller: ActivationPoller,
    *,
    providers: frozenset[str],
    webhook_secret: str | None,
    rent_hook: RentHook | None = None,
) -> web.Application:
    app = web.Application(client_max_size=256 * 1024)
    app[POLLER] = poller
    app[PROVIDERS] = providers
    app[RENT_HOOK] = rent_hook
    if webhook_secret:
        app[SECRET] = webhook_secret
        app.router.add_post("/provider/{secret}/{provider}", _provider_webhook)
    return app
