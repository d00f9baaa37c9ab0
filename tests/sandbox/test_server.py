from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest
from aiohttp.test_utils import TestServer

from bot.sandbox import Clock, Emulator, EmulatorConfig, create_app
from bot.sandbox.__main__ import build, parse_args
from tests.sandbox.helpers import KEY, T0

HANDLER = "/stubs/handler_api.php"


@pytest.fixture
async def server_emu() -> AsyncIterator[tuple[httpx.AsyncClient, Emulator]]:
    config = EmulatorConfig(seed=11, server_timeout_hold=0.05)
    emu = Emulator(config, Clock(frozen_at=T0))
    emu.add_account(KEY, 100)
    server = TestServer(create_app(emu, background_interval=0.05), host="127.0.0.1")
    await server.start_server()
    try:
        async with httpx.AsyncClient(base_url=str(server.make_url("")), timeout=5) as client:
            yield client, emu
    finally:
        await server.close()


async def test_protocol_over_http(server_emu: tuple[httpx.AsyncClient, Emulator]) -> None:
    client, _ = server_emu
    got = await client.get(HANDLER, params={"api_key": KEY, "action": "getBalance"})
    assert (got.status_code, got.text) == (200, "ACCESS_BALANCE:100.00")
    assert got.headers["content-type"] == "text/html; charset=UTF-8"
    bad = await client.get(HANDLER, params={"api_key": "nope", "action": "getBalance"})
    assert bad.text == "BAD_KEY"
    posted = await client.post(
        HANDLER,
        params={"action": "getBalance"},
        data={"api_key": KEY, "action": "getNumber", "service": "tg", "country": "0"},
    )
    token, activation_id, _ = posted.text.split(":")
    assert token == "ACCESS_NUMBER"

    sms = await client.post("/sandbox/sms", json={"id": activation_id, "text": "Code 98765"})
    assert sms.json() == {"ok": True, "code": "98765", "at": T0}
    status = await client.get(
        HANDLER, params={"api_key": KEY, "action": "getStatus", "id": activation_id}
    )
    assert status.text == "STATUS_OK:98765"

    state = (await client.get("/sandbox/state")).json()
    assert state["activations"][0]["id"] == int(activation_id)
    assert state["accounts"][0]["key"] == "de***"
    calls = (await client.get("/sandbox/calls")).json()
    assert [c["action"] for c in calls][-2:] == ["getNumber", "getStatus"]
    assert all(c["params"].get("api_key", "de***") in ("de***", "no***") for c in calls)


async def test_controls(server_emu: tuple[httpx.AsyncClient, Emulator]) -> None:
    client, emu = server_emu
    created = await client.post("/sandbox/accounts", json={"key": "fresh-key", "balance": "5.5"})
    assert created.json()["balance"] == "5.5"
    got = await client.get(HANDLER, params={"api_key": "fresh-key", "action": "getBalance"})
    assert got.text == "ACCESS_BALANCE:5.50"

    bought = await client.get(
        HANDLER, params={"api_key": KEY, "action": "getNumber", "service": "tg"}
    )
    activation_id = int(bought.text.split(":")[1])
    moved = await client.post("/sandbox/clock", json={"advance": 1200})
    assert moved.json()["now"] == T0 + 1200
    assert emu.activations[activation_id].status == 10

    rent = (
        await client.get(
            HANDLER, params={"api_key": KEY, "action": "getRentNumber", "service": "tg"}
        )
    ).json()
    rent_id = rent["phone"]["id"]
    assert (
        await client.post(
            "/sandbox/rent-sms", json={"id": rent_id, "text": "hi 1234", "phoneFrom": "VK"}
        )
    ).json() == {"ok": True}
    assert emu.rents[rent_id].sms[0].phone_from == "VK"

    mail = (
        await client.get(
            HANDLER,
            params={
                "api_key": KEY,
                "action": "buyMailActivation",
                "site": "apple.com",
                "mail_type": "1",
                "mail_domain": "info",
            },
        )
    ).json()
    mail_id = mail["response"]["id"]
    letter = await client.post("/sandbox/mail", json={"id": mail_id, "text": "code 4242"})
    assert letter.json() == {"ok": True, "value": "4242"}

    call_bought = await client.get(
        HANDLER,
        params={"api_key": KEY, "action": "getNumber", "service": "wa", "verification": "true"},
    )
    call_id = call_bought.text.split(":")[1]
    called = await client.post("/sandbox/call", json={"id": call_id, "phoneFrom": "79001112233"})
    assert called.json()["code"] == "2233"

    hooks = await client.post(
        "/sandbox/webhooks", json={"key": KEY, "urls": ["http://127.0.0.1:9/x"]}
    )
    assert hooks.status_code == 200
    assert emu.account(KEY).webhook_urls == ["http://127.0.0.1:9/x"]


async def test_control_errors(server_emu: tuple[httpx.AsyncClient, Emulator]) -> None:
    client, _ = server_emu
    broken = await client.post("/sandbox/sms", content=b"{not json")
    assert broken.status_code == 400
    assert "error" in broken.json()
    missing = await client.post("/sandbox/sms", json={"text": "x"})
    assert missing.status_code == 400
    unknown = await client.post("/sandbox/sms", json={"id": 12345, "text": "x"})
    assert unknown.status_code == 404
    assert "12345" in unknown.json()["error"]
    backwards = await client.post("/sandbox/clock", json={"advance": -5})
    assert backwards.status_code == 400
    faults = await client.post("/sandbox/faults", json={"rate": 1, "kinds": ["meteor"]})
    assert faults.status_code == 400


async def test_faults_over_http(server_emu: tuple[httpx.AsyncClient, Emulator]) -> None:
    client, emu = server_emu
    configured = await client.post(
        "/sandbox/faults", json={"rate": 1, "kinds": ["timeout"], "when": "after"}
    )
    assert configured.json() == {"ok": True, "active": True}
    # The server holds the answer (here 0.05 s), then sends the real one late.
    late = await client.get(
        HANDLER, params={"api_key": KEY, "action": "getNumber", "service": "tg"}
    )
    assert late.text.startswith("ACCESS_NUMBER:")
    await client.post("/sandbox/faults", json={"rate": 1, "kinds": ["timeout"], "when": "before"})
    lost = await client.get(
        HANDLER, params={"api_key": KEY, "action": "getNumber", "service": "tg"}
    )
    assert lost.status_code == 504
    assert len(emu.activations) == 1
    assert (await client.post("/sandbox/faults", json={})).json() == {"ok": True, "active": False}


async def test_bulk_buy_goes_through_get_number(
    server_emu: tuple[httpx.AsyncClient, Emulator],
) -> None:
    client, emu = server_emu
    await client.post("/sandbox/accounts", json={"key": "bulk-key", "balance": "100"})
    reply = await client.post(
        "/sandbox/buy", json={"key": "bulk-key", "service": "tg", "country": 6, "count": 3}
    )
    assert reply.status_code == 200
    bought = reply.json()["bought"]
    assert len(bought) == 3
    assert all(emu.activations[item["id"]].key == "bulk-key" for item in bought)
    assert emu.account("bulk-key").balance < 100
    refused = await client.post(
        "/sandbox/buy", json={"key": "bulk-key", "service": "tg", "country": 6, "count": 0}
    )
    assert refused.status_code == 400
    await client.post("/sandbox/accounts", json={"key": "poor-key", "balance": "0"})
    poor = await client.post(
        "/sandbox/buy", json={"key": "poor-key", "service": "tg", "country": 6, "count": 2}
    )
    assert poor.status_code == 409
    assert poor.json()["error"] == "NO_BALANCE"


async def test_served_counts_every_request_by_action(
    server_emu: tuple[httpx.AsyncClient, Emulator],
) -> None:
    client, emu = server_emu
    emu.config.max_recorded_calls = 1  # the call log forgets; the counts do not
    for _ in range(3):
        await client.get(HANDLER, params={"api_key": KEY, "action": "getBalance"})
    await client.get(HANDLER, params={"api_key": KEY, "action": "getStatus", "id": "1"})
    served = (await client.get("/sandbox/served")).json()
    assert served == {"getBalance": 3, "getStatus": 1}
    assert len(emu.calls) == 1


async def test_a_disabled_action_is_bad_action_over_http() -> None:
    config = EmulatorConfig(seed=11, disabled_actions=frozenset({"getActiveActivations"}))
    emu = Emulator(config, Clock(frozen_at=T0))
    emu.add_account(KEY, 100)
    server = TestServer(create_app(emu), host="127.0.0.1")
    await server.start_server()
    try:
        async with httpx.AsyncClient(base_url=str(server.make_url("")), timeout=5) as client:
            bought = await client.get(
                HANDLER, params={"api_key": KEY, "action": "getNumber", "service": "tg"}
            )
            activation_id = bought.text.split(":")[1]
            listed = await client.get(
                HANDLER, params={"api_key": KEY, "action": "getActiveActivations"}
            )
            status = await client.get(
                HANDLER, params={"api_key": KEY, "action": "getStatus", "id": activation_id}
            )
    finally:
        await server.close()
    assert listed.text == "BAD_ACTION"
    assert status.text == "STATUS_WAIT_CODE"


def test_the_without_flag_disables_an_action() -> None:
    emu = build(parse_args(["--key", KEY, "--without", "getActiveActivations"]))
    listed = emu.handle({"api_key": KEY, "action": "getActiveActivations"})
    assert listed.body == "BAD_ACTION"
    balance = emu.handle({"api_key": KEY, "action": "getBalance"})
    assert balance.body == "ACCESS_BALANCE:100.00"
