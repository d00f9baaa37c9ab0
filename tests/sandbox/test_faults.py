from __future__ import annotations

import time
from collections.abc import AsyncIterator
from decimal import Decimal

import httpx
import pytest

from bot.sandbox import Emulator, EmulatorTransport
from tests.sandbox.helpers import KEY

BUY = {"api_key": KEY, "action": "getNumber", "service": "tg", "country": "0"}


@pytest.fixture
async def client(emu: Emulator) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(
        transport=EmulatorTransport(emu), base_url="https://sandbox.test"
    ) as client:
        yield client


async def get(client: httpx.AsyncClient, params: dict[str, str]) -> httpx.Response:
    return await client.get("/stubs/handler_api.php", params=params)


async def test_timeout_before_is_not_carried_out(emu: Emulator, client: httpx.AsyncClient) -> None:
    emu.faults.configure(rate=1.0, kinds=["timeout"], when="before")
    with pytest.raises(httpx.ReadTimeout):
        await get(client, BUY)
    assert emu.activations == {}
    assert emu.account(KEY).balance == Decimal(100)
    record = emu.calls[-1]
    assert (record.fault, record.performed, record.status) == ("timeout", False, 0)


async def test_timeout_after_really_buys(emu: Emulator, client: httpx.AsyncClient) -> None:
    emu.faults.configure(rate=1.0, kinds=["timeout"], when="after", actions={"getNumber"})
    with pytest.raises(httpx.ReadTimeout):
        await get(client, BUY)
    assert len(emu.activations) == 1
    assert emu.account(KEY).balance < Decimal(100)
    record = emu.calls[-1]
    assert (record.action, record.fault, record.performed) == ("getNumber", "timeout", True)
    # Other actions are untouched by an action-limited fault.
    balance = await get(client, {"api_key": KEY, "action": "getBalance"})
    assert balance.text.startswith("ACCESS_BALANCE:")
    emu.faults.clear()
    active = await get(client, {"api_key": KEY, "action": "getActiveActivations"})
    assert active.json()["status"] == "success"


async def test_http_5xx_after(emu: Emulator, client: httpx.AsyncClient) -> None:
    emu.faults.configure(rate=1.0, kinds=["http_5xx"], when="after")
    response = await get(client, BUY)
    assert response.status_code in (500, 502, 503, 504)
    assert "<html>" in response.text
    assert len(emu.activations) == 1


async def test_garbage_error_sql_and_rate_limit(emu: Emulator, client: httpx.AsyncClient) -> None:
    emu.faults.configure(rate=1.0, kinds=["garbage"])
    garbage = await get(client, BUY)
    assert garbage.status_code == 200
    assert not garbage.text.startswith(("ACCESS_NUMBER:", "NO_"))

    emu.faults.configure(rate=1.0, kinds=["error_sql"])
    assert (await get(client, BUY)).text == "ERROR_SQL"
    rent = await get(client, {"api_key": KEY, "action": "getRentList"})
    assert rent.json() == {"status": "error", "message": "SQL_ERROR"}

    emu.faults.configure(rate=1.0, kinds=["rate_limit"])
    limited = await get(client, BUY)
    assert (limited.status_code, limited.text) == (429, "RATE_LIMIT")
    assert emu.activations == {}


async def test_faults_are_deterministic(emu: Emulator, client: httpx.AsyncClient) -> None:
    params = {"api_key": KEY, "action": "getBalance"}

    async def run() -> list[int]:
        emu.faults.configure(rate=0.5, kinds=["http_5xx", "rate_limit"])
        return [(await get(client, params)).status_code for _ in range(20)]

    first = await run()
    assert first == await run()
    assert 200 in first
    assert any(code != 200 for code in first)


async def test_random_when_and_latency(emu: Emulator, client: httpx.AsyncClient) -> None:
    emu.faults.configure(rate=1.0, kinds=["error_sql"], when="random")
    for _ in range(12):
        await get(client, BUY)
    performed = [record.performed for record in emu.calls[-12:]]
    assert True in performed
    assert False in performed
    assert len(emu.activations) == performed.count(True)

    emu.faults.configure(rate=0.0, kinds=[], latency=0.05)
    started = time.perf_counter()
    response = await get(client, {"api_key": KEY, "action": "getBalance"})
    assert response.status_code == 200
    assert time.perf_counter() - started >= 0.05


def test_configure_validates(emu: Emulator) -> None:
    with pytest.raises(ValueError, match="unknown fault kinds"):
        emu.faults.configure(rate=0.5, kinds=["meteor"])
    with pytest.raises(ValueError, match="rate"):
        emu.faults.configure(rate=2, kinds=["timeout"])


def test_handle_ignores_faults(emu: Emulator) -> None:
    emu.faults.configure(rate=1.0, kinds=["timeout"])
    assert emu.handle(BUY).body.startswith("ACCESS_NUMBER:")
