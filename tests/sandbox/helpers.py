"""Helpers for driving the emulator with raw protocol bodies."""

from __future__ import annotations

import json
from typing import Any

from bot.sandbox import Emulator

KEY = "demo-key-1"
OTHER = "other-key-2"
T0 = 1_767_000_000.0  # 2025-12-29, a fixed instant for the frozen clock


def api(emu: Emulator, action: str, key: str = KEY, **params: str) -> str:
    reply = emu.handle({"api_key": key, "action": action, **params})
    assert reply.status == 200, reply
    return reply.body


def api_json(emu: Emulator, action: str, key: str = KEY, **params: str) -> Any:
    return json.loads(api(emu, action, key, **params))


def buy(emu: Emulator, service: str = "tg", country: str = "0", **params: str) -> tuple[int, str]:
    body = api(emu, "getNumber", service=service, country=country, **params)
    token, activation_id, phone = body.split(":")
    assert token == "ACCESS_NUMBER", body
    return int(activation_id), phone


def status(emu: Emulator, activation_id: int, key: str = KEY) -> str:
    return api(emu, "getStatus", key, id=str(activation_id))


def set_status(emu: Emulator, activation_id: int, value: int, key: str = KEY) -> str:
    return api(emu, "setStatus", key, id=str(activation_id), status=str(value))
