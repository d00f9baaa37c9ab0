from __future__ import annotations

import json

from bot.sandbox import Clock, Emulator, EmulatorConfig
from tests.sandbox.helpers import KEY, T0, api, api_json, buy, status


def test_snapshot_round_trip(emu: Emulator) -> None:
    activation_id, phone = buy(emu)
    emu.deliver_sms(activation_id, "Telegram code: 42424")
    rent = api_json(emu, "getRentNumber", service="tg")["phone"]
    emu.deliver_rent_sms(rent["id"], "hello 1234")
    mail = api_json(emu, "buyMailActivation", site="x.com", mail_type="1", mail_domain="info")
    stock = emu.offer(0, "tg").count  # type: ignore[union-attr]

    data = json.loads(json.dumps(emu.snapshot()))
    restored = Emulator.restore(data, EmulatorConfig(seed=7), Clock(frozen_at=T0))

    assert status(restored, activation_id) == "STATUS_OK:42424"
    assert restored.activations[activation_id].phone == phone
    assert restored.account(KEY).balance == emu.account(KEY).balance
    assert restored.offer(0, "tg").count == stock  # type: ignore[union-attr]
    assert restored.rents[rent["id"]].sms[0].text == "hello 1234"
    assert restored.mails[mail["response"]["id"]].email == mail["response"]["email"]
    # Numbers in use stay in use: a rent's number is not sold again while it lasts.
    assert restored.world.phone_taken(rent["number"])
    assert restored.world.phone_taken(phone)
    assert not restored.world.phone_taken("70000000000")
    # The generators continue where they were: the next purchase is the same in both.
    assert api(restored, "getNumber", service="wa") == api(emu, "getNumber", service="wa")


def test_same_seed_same_world() -> None:
    def world() -> tuple[str, str]:
        emu = Emulator(EmulatorConfig(seed=99), Clock(frozen_at=T0))
        emu.add_account(KEY, 100)
        return api(emu, "getPrices", country="0"), api(emu, "getNumber", service="tg")

    assert world() == world()
