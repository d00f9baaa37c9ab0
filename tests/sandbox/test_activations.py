from __future__ import annotations

from decimal import Decimal

from bot.sandbox import ActivationStatus, Emulator
from tests.sandbox.helpers import KEY, OTHER, T0, api, api_json, buy, set_status, status


def test_purchase_debits_lowers_stock_and_uses_big_ids(emu: Emulator) -> None:
    offer = emu.offer(0, "tg")
    assert offer is not None
    stock, price = offer.count, offer.cost
    activation_id, phone = buy(emu)
    assert activation_id > 2**32
    assert phone.startswith("79")
    assert len(phone) == 11
    assert phone.isdigit()
    assert emu.account(KEY).balance == Decimal(100) - price
    assert offer.count == stock - 1
    activation = emu.activations[activation_id]
    assert activation.status is ActivationStatus.WAIT_CODE
    assert activation.cost == price
    assert activation.key == KEY
    assert status(emu, activation_id) == "STATUS_WAIT_CODE"


def test_stock_is_reported_and_goes_down(emu: Emulator) -> None:
    before = api_json(emu, "getNumbersStatus", country="0")["tg_0"]
    buy(emu)
    buy(emu)
    assert api_json(emu, "getNumbersStatus", country="0")["tg_0"] == before - 2
    prices = api_json(emu, "getPrices", country="0", service="tg")
    assert prices["0"]["tg"]["count"] == before - 2


def test_purchase_refusals(emu: Emulator) -> None:
    emu.add_account(KEY, "0.01")
    assert api(emu, "getNumber", service="tg", country="0") == "NO_BALANCE"
    emu.add_account(KEY, 100)
    assert api(emu, "getNumber", service="nope", country="0") == "BAD_SERVICE"
    assert api(emu, "getNumber", country="0") == "BAD_SERVICE"
    assert api(emu, "getNumber", service="tg", country="9999") == "BAD_COUNTRY"
    assert api(emu, "getNumber", service="tg", country="190") == "NO_NUMBERS"
    emu.set_offer(0, "tg", count=0)
    assert api(emu, "getNumber", service="tg", country="0") == "NO_NUMBERS"
    assert api(emu, "getNumber", service="wa", operator="nokia") == "BAD_OPERATOR"
    assert api(emu, "getNumber", service="wa", phoneException="79x8") == "WRONG_EXCEPTION_PHONE"
    assert api(emu, "getNumber", service="wa", phoneException="12") == "WRONG_EXCEPTION_PHONE"
    assert [c.performed for c in emu.calls] == [True] * len(emu.calls)
    assert emu.activations == {}


def test_max_price_operator_and_exclusions(emu: Emulator) -> None:
    emu.set_offer(0, "wa", cost="0.75")
    assert api(emu, "getNumber", service="wa", maxPrice="0.5") == "WRONG_MAX_PRICE:0.75"
    activation_id, _ = buy(emu, "wa", maxPrice="0.80", operator="mts,tele2")
    assert emu.activations[activation_id].operator in {"mts", "tele2"}
    # A ceiling above the price is only a ceiling: the number costs the regular price.
    assert emu.activations[activation_id].cost == Decimal("0.75")
    assert api(emu, "getNumber", service="wa", maxPrice="0.75").startswith("ACCESS_NUMBER:")
    exclusions = "7900,7901,7902,7903,7904,7905,7906,7908,7909,7910,7911,7912,7913,7914,7915"
    for _ in range(10):
        _, phone = buy(emu, "ok", phoneException=exclusions)
        assert not any(phone.startswith(prefix) for prefix in exclusions.split(","))


def test_early_cancel_then_cancel_with_refund(emu: Emulator) -> None:
    activation_id, _ = buy(emu)
    assert set_status(emu, activation_id, 8) == "EARLY_CANCEL_DENIED"
    emu.advance(119)
    assert set_status(emu, activation_id, 8) == "EARLY_CANCEL_DENIED"
    emu.advance(1)
    stock = emu.offer(0, "tg").count  # type: ignore[union-attr]
    assert set_status(emu, activation_id, 8) == "ACCESS_CANCEL"
    assert emu.account(KEY).balance == Decimal(100)
    assert emu.offer(0, "tg").count == stock + 1  # type: ignore[union-attr]
    assert status(emu, activation_id) == "STATUS_CANCEL"
    assert emu.activations[activation_id].status is ActivationStatus.CANCELLED
    # Closed: no more transitions.
    assert set_status(emu, activation_id, 8) == "BAD_STATUS"
    assert set_status(emu, activation_id, 6) == "BAD_STATUS"


def test_another_code_then_finish(emu: Emulator) -> None:
    activation_id, _ = buy(emu)
    assert set_status(emu, activation_id, 1) == "ACCESS_READY"
    assert set_status(emu, activation_id, 3) == "BAD_STATUS"  # no code yet
    emu.deliver_sms(activation_id, "Telegram code: 12345")
    assert status(emu, activation_id) == "STATUS_OK:12345"
    assert set_status(emu, activation_id, 8) == "BAD_STATUS"  # cancel after a code
    assert set_status(emu, activation_id, 3) == "ACCESS_RETRY_GET"
    assert status(emu, activation_id) == "STATUS_WAIT_RETRY:12345"
    emu.deliver_sms(activation_id, "Telegram code: 67890")
    assert status(emu, activation_id) == "STATUS_OK:67890"
    paid = emu.account(KEY).balance
    assert set_status(emu, activation_id, 6) == "ACCESS_ACTIVATION"
    assert status(emu, activation_id) == "STATUS_CANCEL"
    assert emu.activations[activation_id].status is ActivationStatus.FINISHED
    assert emu.activations[activation_id].codes == ["12345", "67890"]
    assert emu.account(KEY).balance == paid  # finishing keeps the money


def test_finish_without_code_is_refused(emu: Emulator) -> None:
    activation_id, _ = buy(emu)
    assert set_status(emu, activation_id, 6) == "BAD_STATUS"
    assert set_status(emu, activation_id, 5) == "BAD_STATUS"
    assert api(emu, "setStatus", id=str(activation_id)) == "BAD_STATUS"


def test_code_extraction(emu: Emulator) -> None:
    activation_id, _ = buy(emu, "wa")
    emu.deliver_sms(activation_id, "Your WhatsApp code: 123-456\nDon't share this code")
    assert status(emu, activation_id) == "STATUS_OK:123456"
    other_id, _ = buy(emu, "go")
    emu.deliver_sms(other_id, "anything", code="G-1")
    assert status(emu, other_id) == "STATUS_OK:G-1"


def test_expiry_without_code_refunds(emu: Emulator) -> None:
    activation_id, _ = buy(emu)
    emu.advance(20 * 60 - 1)
    assert status(emu, activation_id) == "STATUS_WAIT_CODE"
    emu.advance(1)
    assert status(emu, activation_id) == "STATUS_CANCEL"
    activation = emu.activations[activation_id]
    assert activation.status is ActivationStatus.EXPIRED
    assert activation.closed_at == T0 + 1200
    assert emu.account(KEY).balance == Decimal(100)


def test_expiry_with_code_finishes(emu: Emulator) -> None:
    activation_id, _ = buy(emu)
    emu.deliver_sms(activation_id, "Telegram code: 55555")
    set_status(emu, activation_id, 3)
    balance = emu.account(KEY).balance
    emu.advance(21 * 60)
    assert emu.activations[activation_id].status is ActivationStatus.FINISHED
    assert emu.account(KEY).balance == balance


def test_lifetime_per_service(emu: Emulator) -> None:
    activation_id, _ = buy(emu, "ig")
    emu.advance(30 * 60)
    assert status(emu, activation_id) == "STATUS_WAIT_CODE"
    emu.advance(30 * 60)
    assert status(emu, activation_id) == "STATUS_CANCEL"


def test_other_accounts_activation_is_unknown(emu: Emulator) -> None:
    activation_id, _ = buy(emu)
    assert status(emu, activation_id, key=OTHER) == "NO_ACTIVATION"
    assert set_status(emu, activation_id, 8, key=OTHER) == "NO_ACTIVATION"
    assert api(emu, "getStatus", id="123") == "NO_ACTIVATION"
    assert api(emu, "getStatus", id="abc") == "NO_ACTIVATION"


def test_active_activations_and_history(emu: Emulator) -> None:
    assert api_json(emu, "getActiveActivations") == {"status": "error", "error": "NO_ACTIVATIONS"}
    first, phone = buy(emu)
    emu.deliver_sms(first, "Telegram code: 24680")
    second, _ = buy(emu, "wa")
    active = api_json(emu, "getActiveActivations")
    assert active["status"] == "success"
    rows = {row["activationId"]: row for row in active["activeActivations"]}
    assert set(rows) == {str(first), str(second)}
    row = rows[str(first)]
    assert all(isinstance(value, str) for value in row.values())
    assert row["phoneNumber"] == phone
    assert row["smsCode"] == "24680"
    assert row["activationStatus"] == "2"
    assert rows[str(second)]["smsCode"] is None
    assert rows[str(second)]["activationStatus"] == "4"

    set_status(emu, first, 6)
    history = api_json(emu, "getHistory", start=str(int(T0) - 60), end=str(int(T0) + 60))
    assert [item["id"] for item in history] == [second, first]
    finished = history[1]
    assert finished["sms"] == '["24680"]'
    assert finished["status"] == "6"
    assert finished["cost"] > 0
    assert history[0]["cost"] == 0
    assert api_json(emu, "getHistory", limit="1", offset="1")[0]["id"] == first
    assert api(emu, "getHistory", start="0", end=str(int(T0))) == "WRONG_DATE"
    assert api(emu, "getHistory", start="yesterday") == "WRONG_DATE"


def test_number_v2_and_idempotent_order(emu: Emulator) -> None:
    body = api_json(emu, "getNumberV2", service="tg", country="0", orderId="order-1")
    assert isinstance(body["activationId"], int)
    assert body["activationId"] > 2**32
    assert body["countryCode"] == "0"
    assert body["canGetAnotherSms"] == "1"
    assert isinstance(body["activationCost"], str)
    assert body["activationTime"] == "2025-12-29 09:20:00"
    assert body["activationOperator"] in emu.world.market.operators(0)
    assert api(emu, "getNumberV2", service="tg", orderId="order-1") == "ORDER_ALREADY_EXISTS"
    emu.config.json_style = "modern"
    modern = api_json(emu, "getNumberV2", service="tg")
    assert isinstance(modern["activationCost"], float)
    assert modern["currency"] == 840


def test_multi_service_number(emu: Emulator) -> None:
    body = api_json(emu, "getMultiServiceNumber", multiService="vk,ok,av", multiForward="0,0,1")
    assert [item["service"] for item in body] == ["vk", "ok", "av"]
    assert len({item["phone"] for item in body}) == 1
    ids = [int(item["activation"]) for item in body]
    assert all(emu.activations[i].phone == body[0]["phone"] for i in ids)
    assert emu.activations[ids[2]].forward
    assert api(emu, "getMultiServiceNumber", multiService="vk,ok", multiForward="1,1") == (
        "BAD_SERVICE"
    )
    assert api(emu, "getMultiServiceNumber", multiService="vk,tg", country="3") == "NOT_AVAILABLE"


def test_extra_activation(emu: Emulator) -> None:
    parent, phone = buy(emu)
    ident = str(parent)
    assert api(emu, "checkExtraActivation", activationId=ident) == "RENEW_ACTIVATION_NOT_AVAILABLE"
    assert api(emu, "getExtraActivation", activationId="42") == "WRONG_ACTIVATION_ID"
    emu.deliver_sms(parent, "Telegram code: 11111")
    set_status(emu, parent, 6)
    check = api_json(emu, "checkExtraActivation", activationId=ident)
    assert check["status"] == "success"
    assert check["service"] == "tg"
    assert check["phone"] == int(phone)
    assert check["country"] == 0
    body = api(emu, "getExtraActivation", activationId=ident)
    token, child, child_phone = body.split(":")
    assert token == "ACCESS_NUMBER"
    assert child_phone == phone
    assert int(child) != parent
    assert emu.activations[int(child)].repeated
    # The number is busy with the extra activation now.
    assert api(emu, "getExtraActivation", activationId=ident) == "RENEW_ACTIVATION_NOT_AVAILABLE"


def test_additional_service_on_forwarding_number(emu: Emulator) -> None:
    plain, _ = buy(emu, "av")
    forwarded, phone = buy(emu, "av", forward="1")
    assert emu.activations[forwarded].forward
    assert api(emu, "getAdditionalService", service="ym", id="1") == "WRONG_ACTIVATION_ID"
    assert api(emu, "getAdditionalService", service="ym", id=str(forwarded)) == "WRONG_SECURITY"
    emu.deliver_sms(plain, "Код подтверждения: 1234")
    assert api(emu, "getAdditionalService", service="ym", id=str(plain)) == "WRONG_SECURITY"
    emu.deliver_sms(forwarded, "Код подтверждения: 4321")
    assert api(emu, "getAdditionalService", service="tg", id=str(forwarded)) == (
        "WRONG_ADDITIONAL_SERVICE"
    )
    body = api(emu, "getAdditionalService", service="ym", id=str(forwarded))
    token, child, child_phone = body.split(":")
    assert token == "ADDITIONAL"
    assert child_phone == phone
    assert emu.activations[int(child)].parent_id == forwarded
    assert api(emu, "getAdditionalService", service="ym", id=str(forwarded)) == (
        "REPEAT_ADDITIONAL_SERVICE"
    )


def test_call_verification(emu: Emulator) -> None:
    plain, _ = buy(emu)
    activation_id, _ = buy(emu, "tg", verification="true")
    ident = str(activation_id)
    assert api(emu, "getIncomingCallStatus", activationId=str(plain)) == "NOT_INCOMING"
    assert api(emu, "getIncomingCallStatus", activationId="1") == "INVALID_ACTIVATION_ID"
    assert api_json(emu, "getIncomingCallStatus", activationId=ident) == {
        "status": "2",
        "phone": False,
    }
    emu.deliver_call(activation_id, "79161234567")
    assert api_json(emu, "getIncomingCallStatus", activationId=ident) == {
        "status": "2",
        "phone": "79161234567",
    }
    assert status(emu, activation_id) == "STATUS_OK:4567"
    assert set_status(emu, activation_id, 6) == "BAD_STATUS"  # locked once the call came
    emu.advance(1200)
    assert api_json(emu, "getIncomingCallStatus", activationId=ident)["status"] == "3"


def test_outgoing_call_tasks(emu: Emulator) -> None:
    activation_id, phone = buy(emu)
    ident = str(activation_id)
    created = api_json(emu, "createTaskForCall", activationId=ident, phone="78006007664")
    assert created == {"status": "success", "msg": "Заявка на звонок успешно создана."}
    again = api_json(emu, "createTaskForCall", activationId=ident, phone="78006007664")
    assert again == {"status": "error", "msg": "CALL_TASK_ALREADY_EXIST"}
    assert api_json(emu, "createTaskForCall", activationId="9", phone="7800")["msg"] == (
        "WRONG_ACTIVATION_ID"
    )
    calls = api_json(emu, "getOutgoingCalls")
    assert calls == {
        ident: {"date": "2025-12-29 09:20:00", "phoneFrom": phone, "status": "IN_PROCESS"}
    }
    assert api_json(emu, "getOutgoingCalls", date="2022-07-27") == {}


def test_cashback_is_sticky(emu: Emulator) -> None:
    emu.add_account(KEY, 100, cashback=1)
    price = emu.offer(0, "tg").cost  # type: ignore[union-attr]
    activation_id, _ = buy(emu, useCashBack="true")
    account = emu.account(KEY)
    assert account.cashback == Decimal(1) - price
    assert account.balance == Decimal(100)
    buy(emu, useCashBack="false")  # still spends cashback first
    assert account.cashback < Decimal(1) - price
    emu.advance(1200)
    assert emu.activations[activation_id].status is ActivationStatus.EXPIRED
    assert account.cashback + account.balance == Decimal(101)


def test_banned_and_channels_limit(emu: Emulator) -> None:
    account = emu.account(KEY)
    account.banned_until = T0 + 3600
    assert api(emu, "getNumber", service="tg") == "BANNED:'2025-12-29 10-20-00'"
    account.banned_until = None
    account.max_channels = 1
    buy(emu)
    assert api(emu, "getNumber", service="tg") == "CHANNELS_LIMIT"


def test_auto_sms(emu: Emulator) -> None:
    emu.config.auto_sms_delay = 5
    activation_id, _ = buy(emu)
    emu.advance(4)
    assert status(emu, activation_id) == "STATUS_WAIT_CODE"
    emu.advance(1)
    first = status(emu, activation_id)
    assert first.startswith("STATUS_OK:")
    code = first.split(":", 1)[1]
    assert code.isdigit()
    assert len(code) in (5, 6)
    assert emu.activations[activation_id].sms[0].text.startswith("Telegram code: ")
    set_status(emu, activation_id, 3)
    emu.advance(5)
    second = status(emu, activation_id)
    assert second.startswith("STATUS_OK:")
    assert second != first
