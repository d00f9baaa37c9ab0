from __future__ import annotations

import json

import pytest

from bot.sandbox import Clock, Emulator, EmulatorConfig
from tests.sandbox.helpers import KEY, T0


@pytest.fixture
def hero() -> Emulator:
    emu = Emulator(EmulatorConfig(seed=5, dialect="herosms"), Clock(frozen_at=T0))
    emu.add_account(KEY, 100)
    return emu


def call(emu: Emulator, **params: str) -> tuple[int, str]:
    reply = emu.handle({"api_key": KEY, **params})
    return reply.status, reply.body


def test_errors_carry_http_codes_and_an_envelope(hero: Emulator) -> None:
    reply = hero.handle({"api_key": "wrong", "action": "getBalance"})
    assert reply.status == 401
    assert reply.content_type == "application/json"
    assert json.loads(reply.body) == {"title": "BAD_KEY", "details": "Invalid API key", "info": {}}
    assert call(hero, action="nope")[0] == 404

    status, body = call(hero, action="getNumber", service="tg", country="0")
    activation_id = body.split(":")[1]
    status, body = call(hero, action="setStatus", id=activation_id, status="8")
    assert status == 409
    assert json.loads(body)["title"] == "EARLY_CANCEL_DENIED"
    assert json.loads(body)["info"] == {"minActivationTime": 120}

    hero.set_offer(0, "wa", cost="0.7")
    status, body = call(hero, action="getNumber", service="wa", maxPrice="0.1")
    assert status == 400
    assert json.loads(body)["info"] == {"min": 0.7}

    hero.add_account(KEY, "0")
    status, body = call(hero, action="getNumber", service="wa")
    assert status == 402
    assert json.loads(body)["title"] == "NO_BALANCE"


def test_states_and_no_numbers_keep_their_classic_shape(hero: Emulator) -> None:
    hero.set_offer(0, "tg", count=0)
    assert call(hero, action="getNumber", service="tg") == (200, "NO_NUMBERS")
    assert call(hero, action="getActiveActivations") == (
        200,
        '{"status":"error","error":"NO_ACTIVATIONS"}',
    )
    status, body = call(hero, action="getRentNumber", service="tg", country="3")
    assert status == 404
    assert json.loads(body)["title"] == "NO_NUMBERS"
    rent = json.loads(call(hero, action="getRentNumber", service="tg")[1])
    assert call(hero, action="getRentStatus", id=str(rent["phone"]["id"])) == (
        200,
        '{"status":"error","message":"STATUS_WAIT_CODE"}',
    )


def test_rate_limit_fault_in_hero_dialect(hero: Emulator) -> None:
    hero.faults.configure(rate=1.0, kinds=["rate_limit"])
    outcome = hero.serve({"api_key": KEY, "action": "getBalance"})
    assert outcome.reply is not None
    assert outcome.reply.status == 429
    assert json.loads(outcome.reply.body)["info"] == {"retry_after_seconds": 10}
