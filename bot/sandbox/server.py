"""The emulator over real HTTP (aiohttp): ``/stubs/handler_api.php`` plus ``/sandbox/*`` controls.

Control endpoints take and give JSON::

    POST /sandbox/sms       {"id", "text", "code"?}         an SMS to an activation
    POST /sandbox/call      {"id", "phoneFrom"}             a call to a call-verification number
    POST /sandbox/rent-sms  {"id", "text", "phoneFrom"?, "service"?}
    POST /sandbox/mail      {"id", "text", "value"?}        a letter to a bought mailbox
    POST /sandbox/clock     {"advance": seconds}
    POST /sandbox/faults    {"rate", "kinds", "latency"?, "when"?, "actions"?}; {} clears
    POST /sandbox/accounts  {"key", "balance"?, "cashback"?}
    POST /sandbox/webhooks  {"key", "urls": [...]}
    GET  /sandbox/calls     served requests, keys masked
    GET  /sandbox/state     activations, rents, mails, accounts (keys masked)

Bad JSON or fields answer 400, unknown ids 404, an object in the wrong state 409, always as
``{"error": "..."}``. A timeout fault holds the answer for ``config.server_timeout_hold`` seconds.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any

from aiohttp import web
from aiohttp.abc import AbstractAccessLogger

from bot.sandbox.emulator import Emulator
from bot.sandbox.state import InvalidState, UnknownObject
from bot.sandbox.transport import HANDLER_PATH, merge_params

__all__ = ["EMULATOR", "AccessLogger", "create_app", "save_state"]

EMULATOR = web.AppKey("emulator", Emulator)


class AccessLogger(AbstractAccessLogger):
    """One line per request without the query string, which carries the API key."""

    def log(self, request: web.BaseRequest, response: web.StreamResponse, time: float) -> None:
        action = request.query.get("action", "")
        self.logger.info(
            "%s %s %s %s %d %.3fs",
            request.remote,
            request.method,
            request.path,
            action,
            response.status,
            time,
        )


class _BadRequest(Exception):
    pass


def _fail(status: int, message: str) -> web.Response:
    return web.json_response({"error": message}, status=status)


@web.middleware
async def _errors(
    request: web.Request, handler: Callable[[web.Request], Awaitable[web.StreamResponse]]
) -> web.StreamResponse:
    try:
        return await handler(request)
    except _BadRequest as exc:
        return _fail(400, str(exc))
    except UnknownObject as exc:
        return _fail(404, str(exc))
    except InvalidState as exc:
        return _fail(409, str(exc))
    except ValueError as exc:
        return _fail(400, str(exc))


async def _body(request: web.Request) -> dict[str, Any]:
    try:
        data = await request.json()
    except (json.JSONDecodeError, UnicodeDecodeError):
        raise _BadRequest("the body must be a JSON object") from None
    if not isinstance(data, dict):
        raise _BadRequest("the body must be a JSON object")
    return data


def _field(data: dict[str, Any], name: str, kind: type, *, required: bool = True) -> Any:
    value = data.get(name)
    if value is None:
        if required:
            raise _BadRequest(f"missing field {name!r}")
        return None
    if kind is int and isinstance(value, str) and value.isdigit():
        return int(value)
    if kind is float and isinstance(value, int | str) and not isinstance(value, bool):
        try:
            return float(value)
        except ValueError:
            raise _BadRequest(f"field {name!r} must be a number") from None
    if kind is str and isinstance(value, int | float) and not isinstance(value, bool):
        return str(value)
    if not isinstance(value, kind) or (isinstance(value, bool) and kind is not bool):
        raise _BadRequest(f"field {name!r} must be {kind.__name__}")
    return value


# -- the protocol ----------------------------------------------------------------------------


async def _handler_api(request: web.Request) -> web.StreamResponse:
    emulator = request.app[EMULATOR]
    form: list[tuple[str, str]] = []
    if request.method == "POST":
        posted = await request.post()
        form = [(k, v) for k, v in posted.items() if isinstance(v, str)]
    outcome = emulator.serve(merge_params(list(request.query.items()), form))
    if outcome.latency > 0:
        await asyncio.sleep(outcome.latency)
    reply = outcome.reply
    if reply is None:
        await asyncio.sleep(emulator.config.server_timeout_hold)
        reply = outcome.original
        if reply is None:
            return web.Response(status=504, text="Gateway Time-out", content_type="text/html")
    return web.Response(
        status=reply.status,
        body=reply.body.encode("utf-8"),
        headers={"Content-Type": reply.content_type},
    )


# -- controls --------------------------------------------------------------------------------


async def _sms(request: web.Request) -> web.Response:
    data = await _body(request)
    sms = request.app[EMULATOR].deliver_sms(
        _field(data, "id", int),
        _field(data, "text", str),
        _field(data, "code", str, required=False),
    )
    return web.json_response({"ok": True, "code": sms.code, "at": sms.at})


async def _call(request: web.Request) -> web.Response:
    data = await _body(request)
    sms = request.app[EMULATOR].deliver_call(
        _field(data, "id", int), _field(data, "phoneFrom", str)
    )
    return web.json_response({"ok": True, "code": sms.code})


async def _rent_sms(request: web.Request) -> web.Response:
    data = await _body(request)
    request.app[EMULATOR].deliver_rent_sms(
        _field(data, "id", int),
        _field(data, "text", str),
        _field(data, "phoneFrom", str, required=False) or "Info",
        _field(data, "service", str, required=False) or "ot",
    )
    return web.json_response({"ok": True})


async def _mail(request: web.Request) -> web.Response:
    data = await _body(request)
    found = request.app[EMULATOR].deliver_mail(
        _field(data, "id", int),
        _field(data, "text", str),
        _field(data, "value", str, required=False),
    )
    return web.json_response({"ok": True, "value": found.value})


async def _clock(request: web.Request) -> web.Response:
    data = await _body(request)
    seconds = _field(data, "advance", float)
    if seconds < 0:
        raise _BadRequest("the clock only moves forward")
    emulator = request.app[EMULATOR]
    emulator.advance(seconds)
    return web.json_response({"now": emulator.clock.now()})


async def _faults(request: web.Request) -> web.Response:
    data = await _body(request)
    faults = request.app[EMULATOR].faults
    if not data:
        faults.clear()
    else:
        kinds = _field(data, "kinds", list, required=False) or []
        actions = _field(data, "actions", list, required=False)
        faults.configure(
            rate=_field(data, "rate", float),
            kinds=[str(kind) for kind in kinds],
            latency=_field(data, "latency", float, required=False) or 0.0,
            when=_field(data, "when", str, required=False) or "before",
            actions=[str(a) for a in actions] if actions is not None else None,
        )
    return web.json_response({"ok": True, "active": faults.active})


async def _calls(request: web.Request) -> web.Response:
    return web.json_response([call.as_dict() for call in request.app[EMULATOR].calls])


async def _served(request: web.Request) -> web.Response:
    return web.json_response(dict(request.app[EMULATOR].served))


async def _accounts(request: web.Request) -> web.Response:
    data = await _body(request)
    emulator = request.app[EMULATOR]
    key = _field(data, "key", str)
    balance = _field(data, "balance", str, required=False)
    cashback = _field(data, "cashback", str, required=False)
    existing = emulator.accounts.get(key)
    account = emulator.add_account(
        key,
        balance if balance is not None else (existing.balance if existing else 0),
        cashback if cashback is not None else (existing.cashback if existing else 0),
    )
    return web.json_response(
        {
            "key": account.key[:2] + "***",
            "balance": str(account.balance),
            "cashback": str(account.cashback),
        }
    )


async def _buy(request: web.Request) -> web.Response:
    """Buy ``count`` numbers at once, through the ordinary getNumber path (load tests)."""
    data = await _body(request)
    emulator = request.app[EMULATOR]
    key = _field(data, "key", str)
    service = _field(data, "service", str)
    country = _field(data, "country", int)
    count = _field(data, "count", int)
    if not 1 <= count <= 1000:
        raise _BadRequest("count must be within 1..1000")
    bought: list[dict[str, Any]] = []
    for _ in range(count):
        params = {"api_key": key, "action": "getNumber", "service": service}
        reply = emulator.handle({**params, "country": str(country)})
        word, _, rest = reply.body.partition(":")
        if word != "ACCESS_NUMBER":
            return web.json_response({"bought": bought, "error": reply.body}, status=409)
        activation_id, _, phone = rest.partition(":")
        bought.append({"id": int(activation_id), "phone": phone})
    return web.json_response({"bought": bought})


async def _webhooks(request: web.Request) -> web.Response:
    data = await _body(request)
    urls = _field(data, "urls", list)
    if not all(isinstance(url, str) for url in urls):
        raise _BadRequest("urls must be strings")
    request.app[EMULATOR].set_webhooks(_field(data, "key", str), urls)
    return web.json_response({"ok": True})


async def _state(request: web.Request) -> web.Response:
    return web.json_response(request.app[EMULATOR].state_dump())


# -- lifecycle -------------------------------------------------------------------------------


def save_state(emulator: Emulator, path: Path) -> str:
    """Write a snapshot atomically; returns the JSON written."""
    text = json.dumps(emulator.snapshot(), ensure_ascii=False)
    temporary = path.with_suffix(path.suffix + ".tmp")
    temporary.write_text(text, encoding="utf-8")
    os.replace(temporary, path)
    return text


async def keep_saving(emulator: Emulator, path: Path, interval: float) -> None:
    last = ""
    while True:
        await asyncio.sleep(interval)
        text = json.dumps(emulator.snapshot(), ensure_ascii=False)
        if text != last:
            last = save_state(emulator, path)


def create_app(
    emulator: Emulator,
    *,
    state_path: Path | None = None,
    background_interval: float = 1.0,
) -> web.Application:
    """The sandbox server; with ``state_path`` it saves a snapshot on changes and on shutdown."""
    app = web.Application(middlewares=[_errors])
    app[EMULATOR] = emulator
    app.router.add_route("GET", HANDLER_PATH, _handler_api)
    app.router.add_route("POST", HANDLER_PATH, _handler_api)
    app.router.add_post("/sandbox/sms", _sms)
    app.router.add_post("/sandbox/call", _call)
    app.router.add_post("/sandbox/rent-sms", _rent_sms)
    app.router.add_post("/sandbox/mail", _mail)
    app.router.add_post("/sandbox/clock", _clock)
    app.router.add_post("/sandbox/faults", _faults)
    app.router.add_get("/sandbox/calls", _calls)
    app.router.add_get("/sandbox/served", _served)
    app.router.add_post("/sandbox/accounts", _accounts)
    app.router.add_post("/sandbox/buy", _buy)
    app.router.add_post("/sandbox/webhooks", _webhooks)
    app.router.add_get("/sandbox/state", _state)

    async def background(app: web.Application) -> AsyncIterator[None]:
        tasks = [asyncio.create_task(emulator.run_webhooks(background_interval))]
        if state_path is not None:
            tasks.append(
                asyncio.create_task(keep_saving(emulator, state_path, background_interval))
            )
        yield
        for task in tasks:
            task.cancel()
        for task in tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        if state_path is not None:
            save_state(emulator, state_path)
        await emulator.aclose()

    app.cleanup_ctx.append(background)
    return app
