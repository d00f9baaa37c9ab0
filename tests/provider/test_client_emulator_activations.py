"""ProviderClient against the emulator: activations, their lifecycle on the movable clock,
forwarding add-ons, re-activation and outgoing calls."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

import pytest

from bot.provider import ProviderClient
from bot.provider import errors as e
from bot.provider.models import ActivationAction, ActivationState, SetStatusResult
from bot.sandbox import ActivationStatus, Emulator
from bot.sandbox.market import PROFILES
from tests.provider.conftest import BALANCE, KEY, T0, T0_NAIVE

A = ActivationAction
S = ActivationState


def stock(emu: Emulator, country: int, service: str) -> int:
    offer = emu.offer(country, service)
    assert offer is not None
    return offer.count


def price(emu: Emulator, country: int, service: str) -> Decimal:
    offer = emu.offer(country, service)
    assert offer is not None
    return offer.cost


# --- purchase ---


async def test_get_number(client: ProviderClient, emu: Emulator) -> None:
    before = stock(emu, 0, "tg")
    number = await client.get_number("tg", 0)
    assert number.activation_id > 2**32
    assert number.phone.startswith("79")
    assert len(number.phone) == 11
    assert await client.get_balance() == Decimal(BALANCE) - price(emu, 0, "tg")
    assert stock(emu, 0, "tg") == before - 1
    activation = emu.activations[number.activation_id]
    assert (activation.phone, activation.key, activation.service) == (number.phone, KEY, "tg")
    status = await client.get_status(number.activation_id)
    assert (status.state, status.code) == (S.WAIT_CODE, None)
    assert not status.is_closed


async def test_get_number_in_another_country(client: ProviderClient, emu: Emulator) -> None:
    number = await client.get_number("wa", 16)
    assert number.phone.startswith("44")
    assert emu.activations[number.activation_id].country == 16


async def test_get_number_v2(client: ProviderClient, emu: Emulator) -> None:
    before = stock(emu, 0, "tg")
    number = await client.get_number_v2("tg", 0)
    assert number.activation_id > 2**32
    assert number.cost == price(emu, 0, "tg")
    assert number.country == 0
    assert number.can_get_another_sms is True
    assert number.activation_time == T0_NAIVE
    assert number.operator in PROFILES[0].operators
    assert number.currency is None
    assert number.end_time is None
    assert emu.activations[number.activation_id].phone == number.phone
    assert stock(emu, 0, "tg") == before - 1
    assert await client.get_balance() == Decimal(BALANCE) - number.cost


async def test_get_number_v2_modern_shape(client: ProviderClient, emu: Emulator) -> None:
    emu.config.json_style = "modern"
    number = await client.get_number_v2("wa", 0)
    assert number.cost == price(emu, 0, "wa")
    assert number.currency == 840
    assert number.can_get_another_sms is True


async def test_get_number_v2_no_retry_country(client: ProviderClient) -> None:
    # China does not allow another SMS (getCountries "retry": 0).
    number = await client.get_number_v2("tg", 3)
    assert number.can_get_another_sms is False


async def test_get_number_v2_order_id_is_idempotent(client: ProviderClient) -> None:
    await client.get_number_v2("tg", 0, order_id="order-1")
    with pytest.raises(e.DuplicateOrder):
        await client.get_number_v2("tg", 0, order_id="order-1")


async def test_get_number_with_operator(client: ProviderClient, emu: Emulator) -> None:
    for _ in range(5):
        number = await client.get_number("wa", 0, operator=["mts", "tele2"])
        assert emu.activations[number.activation_id].operator in {"mts", "tele2"}
    with pytest.raises(e.BadOperator):
        await client.get_number("wa", 0, operator="nokia")


async def test_get_number_max_price(client: ProviderClient, emu: Emulator) -> None:
    emu.set_offer(0, "wa", cost="0.75")
    with pytest.raises(e.WrongMaxPrice) as caught:
        await client.get_number("wa", 0, max_price=Decimal("0.5"))
    assert caught.value.min_price == Decimal("0.75")
    with pytest.raises(e.WrongMaxPrice) as caught_v2:
        await client.get_number_v2("wa", 0, max_price=Decimal("0.5"))
    assert caught_v2.value.min_price == Decimal("0.75")
    assert emu.activations == {}
    number = await client.get_number("wa", 0, max_price=Decimal("0.75"))
    assert emu.activations[number.activation_id].cost == Decimal("0.75")


async def test_get_number_phone_exception(client: ProviderClient) -> None:
    exclusions = [f"79{n:02d}" for n in range(16)]  # 7900..7915
    for _ in range(8):
        number = await client.get_number("ok", 0, phone_exception=exclusions)
        assert not number.phone.startswith(tuple(exclusions))
    with pytest.raises(e.WrongExceptionPhone):
        await client.get_number("ok", 0, phone_exception="79x8")
    with pytest.raises(e.WrongExceptionPhone):
        await client.get_number("ok", 0, phone_exception=["12"])


async def test_get_number_for_call_verification(client: ProviderClient, emu: Emulator) -> None:
    number = await client.get_number("tg", 0, verification=True)
    activation = emu.activations[number.activation_id]
    assert activation.verification
    assert activation.cost == emu.world.market.verification_prices[0]
    assert await client.get_balance() == Decimal(BALANCE) - activation.cost


async def test_get_number_with_forwarding(client: ProviderClient, emu: Emulator) -> None:
    offer = emu.offer(0, "av")
    assert offer is not None
    forwarding = offer.forward_count
    number = await client.get_number("av", 0, forward=True)
    activation = emu.activations[number.activation_id]
    assert activation.forward
    assert activation.cost == offer.cost + emu.config.forward_fee
    assert offer.forward_count == forwarding - 1
    result = await client.set_status(number.activation_id, A.SMS_SENT, forward_phone="79001112233")
    assert result is SetStatusResult.READY
    assert activation.forward_to == "79001112233"


async def test_no_balance(client: ProviderClient, emu: Emulator) -> None:
    emu.add_account(KEY, "0.01")
    with pytest.raises(e.InsufficientFunds) as caught:
        await client.get_number("tg", 0)
    assert caught.value.token == "NO_BALANCE"
    with pytest.raises(e.InsufficientFunds):
        await client.get_number_v2("tg", 0)
    assert emu.activations == {}


async def test_no_balance_forward(client: ProviderClient, emu: Emulator) -> None:
    # Enough for the number, not for the number plus the forwarding fee.
    emu.add_account(KEY, price(emu, 0, "av") + Decimal("0.01"))
    with pytest.raises(e.InsufficientFunds) as caught:
        await client.get_number("av", 0, forward=True)
    assert caught.value.token == "NO_BALANCE_FORWARD"
    assert (await client.get_number("av", 0)).activation_id in emu.activations


async def test_no_numbers(client: ProviderClient, emu: Emulator) -> None:
    emu.set_offer(0, "tg", count=0)
    with pytest.raises(e.OutOfStock) as caught:
        await client.get_number("tg", 0)
    assert caught.value.token == "NO_NUMBERS"
    with pytest.raises(e.OutOfStock):
        await client.get_number_v2("tg", 0)
    with pytest.raises(e.OutOfStock):
        await client.get_number("tg", 190)  # a catalogue country without any stock
    assert emu.activations == {}


async def test_bad_service_and_country(client: ProviderClient) -> None:
    with pytest.raises(e.BadService):
        await client.get_number("nope", 0)
    with pytest.raises(e.BadService):
        await client.get_number_v2("nope", 0)
    with pytest.raises(e.BadCountry):
        await client.get_number("tg", 9999)
    with pytest.raises(e.BadCountry):
        await client.get_number_v2("tg", 9999)


async def test_banned(client: ProviderClient, emu: Emulator) -> None:
    emu.account(KEY).banned_until = T0 + 3600
    with pytest.raises(e.Banned) as caught:
        await client.get_number("tg", 0)
    assert caught.value.until == T0_NAIVE + timedelta(hours=1)
    with pytest.raises(e.Banned) as caught_v2:
        await client.get_number_v2("tg", 0)
    assert caught_v2.value.until == T0_NAIVE + timedelta(hours=1)
    with pytest.raises(e.Banned):
        await client.get_multi_service_number(["vk", "ok"], 0)
    emu.advance(3600)
    assert (await client.get_number("tg", 0)).activation_id in emu.activations


async def test_channels_limit(client: ProviderClient, emu: Emulator) -> None:
    emu.account(KEY).max_channels = 1
    first = await client.get_number("tg", 0)
    with pytest.raises(e.ChannelsLimit):
        await client.get_number("tg", 0)
    with pytest.raises(e.ChannelsLimit):
        await client.get_number_v2("wa", 0)
    emu.advance(120)
    await client.set_status(first.activation_id, A.CANCEL)
    await client.get_number("tg", 0)


async def test_get_multi_service_number(client: ProviderClient, emu: Emulator) -> None:
    got = await client.get_multi_service_number(["vk", "ok", "av"], 0, forward_index=2)
    assert [item.service for item in got] == ["vk", "ok", "av"]
    assert len({item.phone for item in got}) == 1
    assert all(item.activation_id > 2**32 for item in got)
    assert len({item.activation_id for item in got}) == 3
    for item in got:
        assert emu.activations[item.activation_id].phone == item.phone
    assert [emu.activations[item.activation_id].forward for item in got] == [False, False, True]
    emu.config.json_style = "modern"  # ids as numbers instead of strings
    again = await client.get_multi_service_number(["vk", "ok"], 0)
    assert all(item.activation_id in emu.activations for item in again)


async def test_get_multi_service_number_errors(client: ProviderClient, emu: Emulator) -> None:
    with pytest.raises(e.OutOfStock) as caught:
        await client.get_multi_service_number(["vk", "tg"], 3)  # China: no multiservice
    assert caught.value.token == "NOT_AVAILABLE"
    with pytest.raises(e.BadService):
        await client.get_multi_service_number(["vk", "nope"], 0)
    emu.add_account(KEY, "0.01")
    with pytest.raises(e.InsufficientFunds):
        await client.get_multi_service_number(["vk", "ok"], 0)
    assert emu.activations == {}


# --- setStatus and getStatus through the lifecycle ---


async def test_whole_lifecycle(client: ProviderClient, emu: Emulator) -> None:
    number = await client.get_number("tg", 0)
    ident = number.activation_id
    assert (await client.get_status(ident)).state is S.WAIT_CODE
    assert await client.set_status(ident, A.SMS_SENT) is SetStatusResult.READY
    assert (await client.get_status(ident)).state is S.WAIT_CODE
    with pytest.raises(e.BadStatus):
        await client.set_status(ident, A.ANOTHER_CODE)  # no code yet

    emu.advance(30)
    emu.deliver_sms(ident, "Telegram code: 12345")
    status = await client.get_status(ident)
    assert (status.state, status.code) == (S.CODE_RECEIVED, "12345")

    assert await client.set_status(ident, A.ANOTHER_CODE) is SetStatusResult.RETRY_GET
    status = await client.get_status(ident)
    assert (status.state, status.code) == (S.WAIT_RETRY, "12345")
    assert await client.set_status(ident, A.ANOTHER_CODE) is SetStatusResult.RETRY_GET

    emu.advance(30)
    emu.deliver_sms(ident, "Telegram code: 67890")
    status = await client.get_status(ident)
    assert (status.state, status.code) == (S.CODE_RECEIVED, "67890")

    paid = await client.get_balance()
    assert await client.set_status(ident, A.FINISH) is SetStatusResult.ACTIVATION
    status = await client.get_status(ident)
    assert status.state is S.CANCELLED  # "cancelled or completed"
    assert status.is_closed
    assert await client.get_balance() == paid  # finishing keeps the money
    assert emu.activations[ident].status is ActivationStatus.FINISHED
    assert emu.activations[ident].codes == ["12345", "67890"]
    with pytest.raises(e.BadStatus):
        await client.set_status(ident, A.FINISH)  # closed


async def test_status_after_finish_can_be_ok(client: ProviderClient, emu: Emulator) -> None:
    emu.config.status_after_finish = "ok"
    number = await client.get_number("tg", 0)
    emu.deliver_sms(number.activation_id, "Telegram code: 24680")
    await client.set_status(number.activation_id, A.FINISH)
    status = await client.get_status(number.activation_id)
    assert (status.state, status.code) == (S.CODE_RECEIVED, "24680")


async def test_codes_with_colons_and_urls_arrive_whole(
    client: ProviderClient, emu: Emulator
) -> None:
    first = await client.get_number("tg", 0)
    emu.deliver_sms(first.activation_id, "anything", code="12:34:56")
    assert (await client.get_status(first.activation_id)).code == "12:34:56"
    second = await client.get_number("go", 0)
    url = "https://example.com/verify?token=a:b&x=1"
    emu.deliver_sms(second.activation_id, f"Open {url}", code=url)
    assert (await client.get_status(second.activation_id)).code == url
    third = await client.get_number("wa", 0)
    emu.deliver_sms(third.activation_id, "Your WhatsApp code: 123-456\nDon't share this code")
    assert (await client.get_status(third.activation_id)).code == "123456"


async def test_early_cancel_denied_then_cancel_with_refund(
    client: ProviderClient, emu: Emulator
) -> None:
    before = stock(emu, 0, "tg")
    number = await client.get_number("tg", 0)
    with pytest.raises(e.EarlyCancelDenied) as caught:
        await client.set_status(number.activation_id, A.CANCEL)
    assert caught.value.token == "EARLY_CANCEL_DENIED"
    emu.advance(119)
    with pytest.raises(e.EarlyCancelDenied):
        await client.set_status(number.activation_id, A.CANCEL)
    emu.advance(1)
    assert await client.set_status(number.activation_id, A.CANCEL) is SetStatusResult.CANCEL
    assert await client.get_balance() == Decimal(BALANCE)
    assert stock(emu, 0, "tg") == before
    status = await client.get_status(number.activation_id)
    assert status.state is S.CANCELLED
    assert emu.activations[number.activation_id].status is ActivationStatus.CANCELLED
    with pytest.raises(e.BadStatus):
        await client.set_status(number.activation_id, A.CANCEL)


async def test_bad_status_transitions(client: ProviderClient, emu: Emulator) -> None:
    number = await client.get_number("tg", 0)
    with pytest.raises(e.BadStatus):
        await client.set_status(number.activation_id, A.FINISH)  # finish without a code
    assert emu.activations[number.activation_id].is_open
    emu.advance(300)
    emu.deliver_sms(number.activation_id, "Telegram code: 11111")
    with pytest.raises(e.BadStatus):
        await client.set_status(number.activation_id, A.CANCEL)  # cancel after a code
    assert (await client.get_status(number.activation_id)).code == "11111"


async def test_another_code_refused_where_the_country_has_no_retry(
    client: ProviderClient, emu: Emulator
) -> None:
    number = await client.get_number("tg", 3)
    emu.deliver_sms(number.activation_id, "Telegram code: 33333")
    with pytest.raises(e.BadStatus):
        await client.set_status(number.activation_id, A.ANOTHER_CODE)


async def test_no_activation(client: ProviderClient, other: ProviderClient) -> None:
    with pytest.raises(e.NoActivation) as caught:
        await client.get_status(123)
    assert caught.value.token == "NO_ACTIVATION"
    with pytest.raises(e.NoActivation):
        await client.set_status(123, A.CANCEL)
    mine = await client.get_number("tg", 0)
    with pytest.raises(e.NoActivation):
        await other.get_status(mine.activation_id)
    with pytest.raises(e.NoActivation):
        await other.set_status(mine.activation_id, A.FINISH)
    assert (await client.get_status(mine.activation_id)).state is S.WAIT_CODE


# --- expiry ---


async def test_expiry_without_code_refunds(client: ProviderClient, emu: Emulator) -> None:
    number = await client.get_number("tg", 0)
    assert await client.get_balance() < Decimal(BALANCE)
    emu.advance(20 * 60 - 1)
    assert (await client.get_status(number.activation_id)).state is S.WAIT_CODE
    emu.advance(1)
    assert (await client.get_status(number.activation_id)).state is S.CANCELLED
    assert await client.get_balance() == Decimal(BALANCE)
    assert emu.activations[number.activation_id].status is ActivationStatus.EXPIRED
    assert await client.get_active_activations() == []
    with pytest.raises(e.BadStatus):
        await client.set_status(number.activation_id, A.CANCEL)


async def test_expiry_with_code_counts_as_finished(client: ProviderClient, emu: Emulator) -> None:
    number = await client.get_number("tg", 0)
    emu.deliver_sms(number.activation_id, "Telegram code: 55555")
    await client.set_status(number.activation_id, A.ANOTHER_CODE)
    paid = await client.get_balance()
    emu.advance(20 * 60)
    assert (await client.get_status(number.activation_id)).state is S.CANCELLED
    assert await client.get_balance() == paid
    assert emu.activations[number.activation_id].status is ActivationStatus.FINISHED
    [entry] = await client.get_history(start=int(T0) - 60, end=int(T0) + 3600)
    assert entry.status == "6"
    assert entry.cost == price(emu, 0, "tg")


async def test_longer_lifetime_for_some_services(client: ProviderClient, emu: Emulator) -> None:
    number = await client.get_number("ig", 0)
    emu.advance(30 * 60)
    assert (await client.get_status(number.activation_id)).state is S.WAIT_CODE
    emu.advance(30 * 60)
    assert (await client.get_status(number.activation_id)).state is S.CANCELLED


# --- lists ---


async def test_get_active_activations(client: ProviderClient, emu: Emulator) -> None:
    assert await client.get_active_activations() == []
    first = await client.get_number("tg", 0)
    emu.deliver_sms(first.activation_id, "Telegram code: 24680")
    second = await client.get_number("wa", 16)
    rows = {row.activation_id: row for row in await client.get_active_activations()}
    assert set(rows) == {first.activation_id, second.activation_id}
    row = rows[first.activation_id]
    assert (row.service, row.phone, row.country) == ("tg", first.phone, 0)
    assert row.codes == ["24680"]
    assert row.text is not None
    assert row.text.startswith("Telegram code: 24680")
    assert row.status == 2
    assert row.cost == price(emu, 0, "tg")
    assert row.activation_time == T0_NAIVE
    assert row.country_name == "Russia"
    assert row.can_get_another_sms is True
    waiting = rows[second.activation_id]
    assert (waiting.codes, waiting.text, waiting.status) == ([], None, 4)
    assert waiting.country == 16
    emu.config.json_style = "modern"
    modern = await client.get_active_activations()
    assert {row.currency for row in modern} == {840}


async def test_get_active_activations_hides_closed_and_foreign(
    client: ProviderClient, other: ProviderClient, emu: Emulator
) -> None:
    number = await client.get_number("tg", 0)
    await other.get_number("tg", 0)
    emu.deliver_sms(number.activation_id, "Telegram code: 13579")
    await client.set_status(number.activation_id, A.FINISH)
    assert await client.get_active_activations() == []
    assert len(await other.get_active_activations()) == 1


async def test_get_history(client: ProviderClient, emu: Emulator) -> None:
    first = await client.get_number("tg", 0)
    emu.deliver_sms(first.activation_id, "Telegram code: 24680")
    emu.advance(60)
    second = await client.get_number("wa", 0)
    await client.set_status(first.activation_id, A.FINISH)
    history = await client.get_history(start=int(T0) - 60, end=int(T0) + 120)
    assert [entry.id for entry in history] == [second.activation_id, first.activation_id]
    done = history[1]
    assert done.codes == ["24680"]
    assert done.status == "6"
    assert done.cost == price(emu, 0, "tg")
    assert done.phone == first.phone
    assert done.date == T0_NAIVE
    waiting = history[0]
    assert (waiting.codes, waiting.cost, waiting.status) == ([], Decimal(0), "4")
    assert [entry.id for entry in await client.get_history(offset=1, limit=1)] == [
        first.activation_id
    ]
    assert len(await client.get_history()) == 2  # default: the last 30 days


async def test_get_history_wrong_date(client: ProviderClient) -> None:
    with pytest.raises(e.WrongDate):
        await client.get_history(start=0, end=int(T0))  # more than 30 days
    with pytest.raises(e.WrongDate):
        await client.get_history(start=int(T0), end=int(T0) - 1)


# --- call verification ---


async def test_get_incoming_call_status(client: ProviderClient, emu: Emulator) -> None:
    number = await client.get_number("tg", 0, verification=True)
    ident = number.activation_id
    before = await client.get_incoming_call_status(ident)
    assert (before.status, before.phone) == (2, None)
    emu.deliver_call(ident, "79161234567")
    after = await client.get_incoming_call_status(ident)
    assert (after.status, after.phone) == (2, "79161234567")
    status = await client.get_status(ident)
    assert (status.state, status.code) == (S.CODE_RECEIVED, "4567")
    with pytest.raises(e.BadStatus):
        await client.set_status(ident, A.FINISH)  # locked once the call came
    emu.advance(20 * 60)
    assert (await client.get_incoming_call_status(ident)).status == 3


async def test_get_incoming_call_status_refunded(client: ProviderClient, emu: Emulator) -> None:
    number = await client.get_number("tg", 0, verification=True)
    emu.advance(20 * 60)
    assert (await client.get_incoming_call_status(number.activation_id)).status == 5


async def test_get_incoming_call_status_errors(client: ProviderClient) -> None:
    plain = await client.get_number("tg", 0)
    with pytest.raises(e.NoActivation) as not_incoming:
        await client.get_incoming_call_status(plain.activation_id)
    assert not_incoming.value.token == "NOT_INCOMING"
    with pytest.raises(e.NoActivation) as invalid:
        await client.get_incoming_call_status(1)
    assert invalid.value.token == "INVALID_ACTIVATION_ID"


# --- forwarding add-ons ---


async def test_get_additional_service(client: ProviderClient, emu: Emulator) -> None:
    parent = await client.get_number("av", 0, forward=True)
    emu.deliver_sms(parent.activation_id, "Код подтверждения: 4321")
    balance = await client.get_balance()
    child = await client.get_additional_service(parent.activation_id, "ym")
    assert child.activation_id > 2**32
    assert child.activation_id != parent.activation_id
    assert child.phone == parent.phone
    assert emu.activations[child.activation_id].parent_id == parent.activation_id
    assert await client.get_balance() == balance - emu.config.additional_service_price
    assert (await client.get_status(child.activation_id)).state is S.WAIT_CODE


async def test_get_additional_service_errors(client: ProviderClient, emu: Emulator) -> None:
    plain = await client.get_number("av", 0)
    forwarded = await client.get_number("av", 0, forward=True)
    with pytest.raises(e.NoActivation) as unknown:
        await client.get_additional_service(1, "ym")
    assert unknown.value.token == "WRONG_ACTIVATION_ID"
    with pytest.raises(e.AdditionalServiceError) as early:
        await client.get_additional_service(forwarded.activation_id, "ym")  # no SMS yet
    assert early.value.token == "WRONG_SECURITY"
    emu.deliver_sms(plain.activation_id, "Код подтверждения: 1234")
    with pytest.raises(e.AdditionalServiceError) as unforwarded:
        await client.get_additional_service(plain.activation_id, "ym")
    assert unforwarded.value.token == "WRONG_SECURITY"
    emu.deliver_sms(forwarded.activation_id, "Код подтверждения: 4321")
    with pytest.raises(e.AdditionalServiceError) as wrong:
        await client.get_additional_service(forwarded.activation_id, "tg")
    assert wrong.value.token == "WRONG_ADDITIONAL_SERVICE"
    await client.get_additional_service(forwarded.activation_id, "ym")
    with pytest.raises(e.AdditionalServiceError) as repeat:
        await client.get_additional_service(forwarded.activation_id, "ym")
    assert repeat.value.token == "REPEAT_ADDITIONAL_SERVICE"
    emu.add_account(KEY, 0)
    with pytest.raises(e.InsufficientFunds):
        await client.get_additional_service(forwarded.activation_id, "ya")


# --- re-activation ---


async def test_check_and_get_extra_activation(client: ProviderClient, emu: Emulator) -> None:
    parent = await client.get_number("tg", 0)
    emu.deliver_sms(parent.activation_id, "Telegram code: 11111")
    await client.set_status(parent.activation_id, A.FINISH)
    info = await client.check_extra_activation(parent.activation_id)
    assert info.cost == price(emu, 0, "tg")
    assert (info.service, info.phone, info.country) == ("tg", parent.phone, 0)
    balance = await client.get_balance()
    child = await client.get_extra_activation(parent.activation_id)
    assert child.phone == parent.phone
    assert child.activation_id != parent.activation_id
    assert emu.activations[child.activation_id].repeated
    assert await client.get_balance() == balance - info.cost
    assert (await client.get_status(child.activation_id)).state is S.WAIT_CODE
    # The number is busy with the extra activation now.
    with pytest.raises(e.ReactivationUnavailable):
        await client.get_extra_activation(parent.activation_id)


async def test_extra_activation_errors(client: ProviderClient, emu: Emulator) -> None:
    parent = await client.get_number("tg", 0)
    with pytest.raises(e.ReactivationUnavailable) as not_finished:
        await client.check_extra_activation(parent.activation_id)
    assert not_finished.value.token == "RENEW_ACTIVATION_NOT_AVAILABLE"
    with pytest.raises(e.ReactivationUnavailable):
        await client.get_extra_activation(parent.activation_id)
    with pytest.raises(e.NoActivation) as unknown:
        await client.check_extra_activation(42)
    assert unknown.value.token == "WRONG_ACTIVATION_ID"
    with pytest.raises(e.NoActivation):
        await client.get_extra_activation(42)
    emu.deliver_sms(parent.activation_id, "Telegram code: 11111")
    await client.set_status(parent.activation_id, A.FINISH)
    emu.add_account(KEY, 0)
    with pytest.raises(e.InsufficientFunds):
        await client.get_extra_activation(parent.activation_id)
    emu.advance(emu.config.extra_activation_window + 1)
    with pytest.raises(e.ReactivationUnavailable) as too_late:
        await client.check_extra_activation(parent.activation_id)
    assert too_late.value.token == "NEW_ACTIVATION_IMPOSSIBLE"


# --- outgoing calls ---


async def test_create_task_for_call_and_get_outgoing_calls(
    client: ProviderClient, emu: Emulator
) -> None:
    number = await client.get_number("tg", 0)
    assert await client.get_outgoing_calls() == []
    task = await client.create_task_for_call(number.activation_id, "78006007664")
    assert task.message == "Заявка на звонок успешно создана."
    [call] = await client.get_outgoing_calls()
    assert call.activation_id == number.activation_id
    assert call.phone_from == number.phone
    assert call.status == "IN_PROCESS"
    assert call.date == T0_NAIVE
    only = await client.get_outgoing_calls(number.activation_id, date(2025, 12, 29))
    assert [c.activation_id for c in only] == [number.activation_id]
    assert await client.get_outgoing_calls(day=date(2022, 7, 27)) == []
    assert await client.get_outgoing_calls(activation_id=1) == []


async def test_create_task_for_call_errors(client: ProviderClient) -> None:
    number = await client.get_number("tg", 0)
    await client.create_task_for_call(number.activation_id, "78006007664")
    with pytest.raises(e.CallTaskExists):
        await client.create_task_for_call(number.activation_id, "78006007664")
    with pytest.raises(e.NoActivation) as unknown:
        await client.create_task_for_call(9, "78006007664")
    assert unknown.value.token == "WRONG_ACTIVATION_ID"
    second = await client.get_number("wa", 0)
    with pytest.raises(e.NoActivation) as bad_number:
        await client.create_task_for_call(second.activation_id, "12")
    assert bad_number.value.token == "NUMBER_NOT_EXIST"


async def test_create_task_for_call_errors_as_text(client: ProviderClient, emu: Emulator) -> None:
    emu.config.call_error_encoding = "text"
    number = await client.get_number("tg", 0)
    await client.create_task_for_call(number.activation_id)
    with pytest.raises(e.CallTaskExists):
        await client.create_task_for_call(number.activation_id)
    with pytest.raises(e.NoActivation):
        await client.create_task_for_call(9)
