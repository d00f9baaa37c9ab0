"""The client against raw bodies taken from the protocol reference (and its quirks)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from decimal import Decimal

import httpx
import pytest

from bot.provider import ProviderClient, RentAction
from bot.provider import errors as e
from bot.provider.models import (
    ActivationAction,
    ActivationState,
    MailType,
    RentState,
    SetStatusResult,
)
from bot.provider.tokens import error_for_token

KEY = "s3cret-key-value"
URL = "https://provider.test/stubs/handler_api.php"

Reply = tuple[int, str] | str | Callable[[httpx.Request], httpx.Response]


def client_for(reply: Reply, *, content_type: str = "text/html; charset=UTF-8", **kw):
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        if callable(reply):
            return reply(request)
        status, body = (200, reply) if isinstance(reply, str) else reply
        return httpx.Response(status, text=body, headers={"Content-Type": content_type})

    http = httpx.AsyncClient(transport=httpx.MockTransport(handler))
    kw.setdefault("backoff", 0)
    return ProviderClient(http, URL, KEY, **kw), seen


async def test_balance_with_trailing_newline_and_three_decimals():
    client, seen = client_for("ACCESS_BALANCE:17.154\n")
    assert await client.get_balance() == Decimal("17.154")
    assert seen[0].url.params["action"] == "getBalance"
    assert seen[0].url.params["api_key"] == KEY


async def test_balance_info_derives_cashback():
    def reply(request: httpx.Request) -> httpx.Response:
        if request.url.params["action"] == "getBalance":
            return httpx.Response(200, text="ACCESS_BALANCE:100.00")
        return httpx.Response(200, text="ACCESS_BALANCE:112.50")

    client, _ = client_for(reply)
    info = await client.get_balance_info()
    assert info.balance == Decimal("100.00")
    assert info.cashback == Decimal("12.50")


async def test_bad_key_is_auth_error_and_key_never_leaks():
    client, _ = client_for("BAD_KEY")
    with pytest.raises(e.AuthError) as caught:
        await client.get_balance()
    assert caught.value.token == "BAD_KEY"
    rendered = f"{caught.value!s} {caught.value!r} {caught.value.raw} {client!r}"
    assert KEY not in rendered


async def test_no_key():
    client, _ = client_for("NO_KEY")
    with pytest.raises(e.AuthError):
        await client.get_balance()


async def test_access_number_with_ten_digit_id():
    client, seen = client_for("ACCESS_NUMBER:3936040355:6285872391152")
    number = await client.get_number("tg", 6, max_price=Decimal("0.25"), operator=["mts", "mtt"])
    assert number.activation_id == 3936040355
    assert number.activation_id > 2**31
    assert number.phone == "6285872391152"
    params = seen[0].url.params
    assert params["service"] == "tg"
    assert params["country"] == "6"
    assert params["maxPrice"] == "0.25"
    assert params["operator"] == "mts,mtt"
    assert "verification" not in params


async def test_number_v2_sends_the_ceiling_and_reads_its_refusal():
    """The bot's quote goes to the provider as maxPrice; a rise is refused with the new
    minimum (the bot re-quotes at it, never buys)."""
    client, seen = client_for((400, "WRONG_MAX_PRICE:0.31"))
    with pytest.raises(e.WrongMaxPrice) as refused:
        await client.get_number_v2("tg", 6, max_price=Decimal("0.25"))
    assert refused.value.min_price == Decimal("0.31")
    assert len(seen) == 1
    params = seen[0].url.params
    assert params["action"] == "getNumberV2"
    assert params["maxPrice"] == "0.25"


@pytest.mark.parametrize(
    ("body", "error", "check"),
    [
        ("NO_NUMBERS", e.OutOfStock, None),
        ("NO_BALANCE", e.InsufficientFunds, None),
        ("NO_BALANCE_FORWARD", e.InsufficientFunds, None),
        ("WRONG_MAX_PRICE:0.025", e.WrongMaxPrice, lambda x: x.min_price == Decimal("0.025")),
        (
            "BANNED:'2025-1-5 13-45-00'",
            e.Banned,
            lambda x: x.until == datetime(2025, 1, 5, 13, 45),
        ),
        (
            "BANNED:2025-01-05 13-45-00",
            e.Banned,
            lambda x: x.until == datetime(2025, 1, 5, 13, 45),
        ),
        ("CHANNELS_LIMIT", e.ChannelsLimit, None),
        ("WRONG_EXCEPTION_PHONE", e.WrongExceptionPhone, None),
        ("BAD_SERVICE", e.BadService, None),
        ("BAD_COUNTRY", e.BadCountry, None),
        ("WRONG_OPERATOR", e.BadOperator, None),
        ("ERROR_SQL", e.ServerError, None),
        ("BAD_ACTION", e.BadAction, None),
        ("NO_YULA_MAIL", e.OutOfStock, None),
        ("WHATSAPP_NOT_AVAILABLE", e.OutOfStock, None),
        ("SOMETHING_NEW", e.UnknownProviderError, lambda x: x.raw == "SOMETHING_NEW"),
    ],
)
async def test_get_number_errors(body, error, check):
    client, seen = client_for(body)
    with pytest.raises(error) as caught:
        await client.get_number("tg", 0)
    if check is not None:
        assert check(caught.value)
    assert len(seen) == 1, "a paid call is never repeated"


async def test_get_number_v2_strings_and_booleans():
    body = (
        '{"activationId":"1528260922","phoneNumber":"79584000000","activationCost":"10.00",'
        '"countryCode":"13","canGetAnotherSms":true,"activationTime":"2023-06-01 17:30:57",'
        '"activationOperator":"mtt"}'
    )
    client, _ = client_for(body)
    number = await client.get_number_v2("tg", 13)
    assert number.activation_id == 1528260922
    assert number.cost == Decimal("10.00")
    assert number.country == 13
    assert number.can_get_another_sms is True
    assert number.activation_time == datetime(2023, 6, 1, 17, 30, 57)
    assert number.operator == "mtt"


async def test_get_number_v2_modern_numbers():
    body = (
        '{"activationId":635468024,"phoneNumber":"79584000000","activationCost":12.50,'
        '"currency":840,"countryCode":"0","canGetAnotherSms":"1",'
        '"activationTime":"2022-06-01 17:30:57","activationOperator":"mtt"}'
    )
    client, _ = client_for(body, content_type="application/json")
    number = await client.get_number_v2("tg")
    assert number.cost == Decimal("12.5")
    assert number.currency == 840


async def test_status_ok_keeps_colons_and_urls():
    client, _ = client_for("STATUS_OK:https://t.me/login?code=12:34\n")
    status = await client.get_status(4_000_000_001)
    assert status.state is ActivationState.CODE_RECEIVED
    assert status.code == "https://t.me/login?code=12:34"


@pytest.mark.parametrize(
    ("body", "state", "code"),
    [
        ("STATUS_WAIT_CODE", ActivationState.WAIT_CODE, None),
        ("STATUS_WAIT_RETRY:12345", ActivationState.WAIT_RETRY, "12345"),
        ("STATUS_WAIT_RESEND", ActivationState.WAIT_RESEND, None),
        ("STATUS_CANCEL", ActivationState.CANCELLED, None),
        ("STATUS_OK: '54321'", ActivationState.CODE_RECEIVED, "54321"),
    ],
)
async def test_status_states(body, state, code):
    client, _ = client_for(body)
    status = await client.get_status(1)
    assert status.state is state
    assert status.code == code


async def test_get_status_no_activation():
    client, _ = client_for("NO_ACTIVATION")
    with pytest.raises(e.NoActivation):
        await client.get_status(1)


@pytest.mark.parametrize(
    ("status", "body", "result"),
    [
        (ActivationAction.SMS_SENT, "ACCESS_READY", SetStatusResult.READY),
        (ActivationAction.ANOTHER_CODE, "ACCESS_RETRY_GET", SetStatusResult.RETRY_GET),
        (ActivationAction.FINISH, "ACCESS_ACTIVATION", SetStatusResult.ACTIVATION),
        (ActivationAction.CANCEL, "ACCESS_CANCEL", SetStatusResult.CANCEL),
    ],
)
async def test_set_status(status, body, result):
    client, seen = client_for(body)
    assert await client.set_status(4_294_967_296, status) is result
    assert seen[0].url.params["id"] == "4294967296"
    assert seen[0].url.params["status"] == str(int(status))


async def test_early_cancel_denied_herosms_envelope():
    body = (
        '{"title":"EARLY_CANCEL_DENIED","details":"Activation cannot be cancelled yet",'
        '"info":{"minActivationTime":120,"secondsLeft":75}}'
    )
    client, _ = client_for((409, body), content_type="application/json")
    with pytest.raises(e.EarlyCancelDenied) as caught:
        await client.set_status(1, ActivationAction.CANCEL)
    assert caught.value.seconds_left == 75
    assert caught.value.status_code == 409


async def test_herosms_envelope_for_bad_key_and_balance():
    client, _ = client_for((401, '{"title":"BAD_KEY","details":"Invalid API key"}'))
    with pytest.raises(e.AuthError):
        await client.get_balance()
    client, _ = client_for((402, '{"title":"NO_BALANCE","details":"..."}'))
    with pytest.raises(e.InsufficientFunds):
        await client.get_number("tg")
    client, _ = client_for((400, '{"title":"WRONG_MAX_PRICE","info":{"min":"0.31"}}'))
    with pytest.raises(e.WrongMaxPrice) as caught:
        await client.get_number("tg", max_price=Decimal("0.1"))
    assert caught.value.min_price == Decimal("0.31")


async def test_herosms_banned_envelope():
    body = '{"title":"BANNED","info":{"banned_until":"2026-05-01 10:00:00","scope":"account"}}'
    client, _ = client_for((403, body))
    with pytest.raises(e.Banned) as caught:
        await client.get_number("tg")
    assert caught.value.until == datetime(2026, 5, 1, 10, 0)


async def test_non_200_with_text_token():
    client, _ = client_for((404, "NO_ACTIVATION"))
    with pytest.raises(e.NoActivation):
        await client.get_status(5)


async def test_non_200_html_page_is_http_error_and_reads_are_retried():
    client, seen = client_for((502, "<html><body>Bad gateway</body></html>"), read_retries=2)
    with pytest.raises(e.ProviderHTTPError) as caught:
        await client.get_balance()
    assert caught.value.status_code == 502
    assert len(seen) == 3


async def test_garbage_200_is_malformed():
    client, _ = client_for("<!doctype html><p>maintenance</p>", read_retries=0)
    with pytest.raises(e.MalformedResponse):
        await client.get_balance()


async def test_transient_read_failure_then_success():
    answers = iter(["ERROR_SQL", "ACCESS_BALANCE:5"])
    client, seen = client_for(lambda r: httpx.Response(200, text=next(answers)))
    assert await client.get_balance() == Decimal(5)
    assert len(seen) == 2


async def test_paid_call_not_retried_after_timeout():
    calls = 0

    def reply(request: httpx.Request) -> httpx.Response:
        nonlocal calls
        calls += 1
        raise httpx.ReadTimeout("timed out", request=request)

    client, _ = client_for(reply, read_retries=3)
    with pytest.raises(e.ProviderTimeout):
        await client.get_number("tg")
    assert calls == 1


async def test_paid_call_retried_when_it_never_left():
    calls = 0

    def reply(request: httpx.Request) -> httpx.Response:
        nonlocal calls
        calls += 1
        if calls == 1:
            raise httpx.ConnectError("refused", request=request)
        return httpx.Response(200, text="ACCESS_NUMBER:42:79990001122")

    client, _ = client_for(reply, read_retries=2)
    assert (await client.get_number("tg")).activation_id == 42
    assert calls == 2


async def test_set_status_not_retried_after_server_error():
    client, seen = client_for("ERROR_SQL", read_retries=3)
    with pytest.raises(e.ServerError):
        await client.set_status(1, ActivationAction.FINISH)
    assert len(seen) == 1


async def test_rate_limit_429_is_retried_then_raised():
    body = '{"title":"RATE_LIMIT","details":"Too many requests","info":{"retry_after":0}}'
    client, seen = client_for((429, body), read_retries=1)
    with pytest.raises(e.RateLimited):
        await client.get_balance()
    assert len(seen) == 2


async def test_numbers_status_legacy_suffixes_and_string_counts():
    client, _ = client_for('{"vk_0":76,"av_0":"244","av_1":211,"tg":"498"}')
    assert await client.get_numbers_status(0) == {"vk": 76, "av": 244, "tg": 498}


async def test_top_countries_by_service_rank_keys():
    body = (
        '{"1":{"country":0,"count":10,"price":0.3,"retail_price":0.5},'
        '"0":{"retail_price":0.2,"country":6,"price":0.105,"count":4393,'
        '"freePriceMap":{"0.12":100,"0.15":"5"}}}'
    )
    client, _ = client_for(body)
    top = await client.get_top_countries_by_service("tg", free_price=True)
    assert [c.country for c in top] == [6, 0]
    assert top[0].price == Decimal("0.105")
    assert top[0].free_price_map == {Decimal("0.12"): 100, Decimal("0.15"): 5}


async def test_operators_and_not_found():
    body = '{"status":"success","countryOperators":{"0":["beeline","megafon","mts"],"6":["any"]}}'
    client, _ = client_for(body, content_type="application/json")
    assert await client.get_operators() == {0: ["beeline", "megafon", "mts"], 6: ["any"]}
    client, _ = client_for('{"status":"error","error":"OPERATORS_NOT_FOUND"}')
    assert await client.get_operators(999) == {}


async def test_active_activations_strings_and_shapes():
    body = (
        '{"status":"success","activeActivations":[{"activationId":"635468021",'
        '"serviceCode":"vk","phoneNumber":"79000000001","activationCost":"12.50",'
        '"activationStatus":"2","smsCode":"8932","smsText":"Code 8932",'
        '"activationTime":"2022-06-01 16:59:16","discount":"0","repeated":"0",'
        '"countryCode":"0","countryName":"Russia","canGetAnotherSms":"1"},'
        '{"activationId":"4000000000","serviceCode":"tg","phoneNumber":"79000000002",'
        '"activationCost":"1","activationStatus":"4","smsCode":null,"smsText":null,'
        '"countryCode":"0","canGetAnotherSms":"0"},'
        '{"activationId":"4000000001","serviceCode":"tg","phoneNumber":"1",'
        '"activationStatus":"3","smsCode":["111","222"],"canGetAnotherSms":true}]}'
    )
    client, _ = client_for(body)
    active = await client.get_active_activations()
    assert [a.codes for a in active] == [["8932"], [], ["111", "222"]]
    assert active[0].status == 2
    assert active[0].cost == Decimal("12.50")
    assert active[1].activation_id == 4_000_000_000
    assert active[1].can_get_another_sms is False


async def test_active_activations_herosms_data_key_and_empty():
    client, _ = client_for('{"status":"success","data":[{"activationId":7,"phoneNumber":"1"}]}')
    assert [a.activation_id for a in await client.get_active_activations()] == [7]
    client, _ = client_for('{"status":"error","error":"NO_ACTIVATIONS"}')
    assert await client.get_active_activations() == []


async def test_multi_service_number_array():
    body = (
        '[{"phone":"79999999999","activation":"635468100","service":"vk"},'
        '{"phone":"79999999999","activation":"635468101","service":"ok"}]'
    )
    client, seen = client_for(body)
    result = await client.get_multi_service_number(["vk", "ok"], 0, forward_index=1)
    assert [(r.activation_id, r.service) for r in result] == [(635468100, "vk"), (635468101, "ok")]
    assert seen[0].url.params["multiService"] == "vk,ok"
    assert seen[0].url.params["multiForward"] == "0,1"


async def test_history_sms_field_variants():
    body = (
        '[{"id":635468024,"date":"2022-11-12 15:58:39","phone":"79918529716",'
        '"sms":"[\\"Your sms code\\"]","cost":100,"status":"4"},'
        '{"id":"5","date":"2022-11-12 15:58:39","phone":"1","sms":null,"cost":"0","status":"6"},'
        '{"id":6,"phone":"1","sms":["a","b"],"cost":"0.25"}]'
    )
    client, _ = client_for(body)
    history = await client.get_history(start=1, end=2)
    assert [h.codes for h in history] == [["Your sms code"], [], ["a", "b"]]
    assert history[2].cost == Decimal("0.25")


async def test_prices_and_verification_nesting():
    client, _ = client_for('{"0":{"fb":{"cost":9,"count":27934,"physicalCount":10}}}')
    prices = await client.get_prices()
    assert prices[0]["fb"].cost == Decimal(9)
    assert prices[0]["fb"].physical_count == 10
    client, _ = client_for('{"tg":{"0":{"count":5,"price":"15.00"}}}')
    verification = await client.get_prices_verification("tg")
    assert verification["tg"][0].cost == Decimal("15.00")
    client, _ = client_for("{}")
    assert await client.get_prices("zz", 0) == {}


async def test_countries_flags_as_ints_and_missing_id():
    body = (
        '{"0":{"id":0,"rus":"Россия","eng":"Russia","chn":"俄罗斯","visible":1,"retry":1,'
        '"rent":1,"multiService":1},"187":{"rus":"США","eng":"USA","visible":"0","retry":0}}'
    )
    client, _ = client_for(body)
    countries = await client.get_countries()
    assert countries[0].multi_service is True
    assert countries[187].visible is False
    assert countries[187].eng == "USA"


async def test_list_of_top_countries_and_services_list():
    client, _ = client_for('[{"country":0,"share":50,"rate":"49.5"}]')
    shares = await client.get_list_of_top_countries_by_service("tg")
    assert shares[0].rate == Decimal("49.5")
    client, _ = client_for('{"status":"success","services":[{"code":"aoo","name":"Pegasus"}]}')
    assert (await client.get_services_list())[0].name == "Pegasus"


async def test_incoming_call_status_uses_numeric_status():
    client, seen = client_for('{"status":"2","phone":false}')
    status = await client.get_incoming_call_status(9)
    assert status.status == 2
    assert status.phone is None
    assert seen[0].url.params["activationId"] == "9"
    client, _ = client_for('{"status":"3","phone":"79001234567"}')
    assert (await client.get_incoming_call_status(9)).phone == "79001234567"


async def test_additional_and_extra_activation():
    client, _ = client_for("ADDITIONAL:4200000000:79001112233")
    extra = await client.get_additional_service(1, "go")
    assert extra.activation_id == 4_200_000_000
    client, _ = client_for(
        '{"status":"success","cost":200,"service":"tw","phone":777777777,"country":14}'
    )
    info = await client.check_extra_activation(1)
    assert (info.cost, info.phone, info.country) == (Decimal(200), "777777777", 14)
    client, _ = client_for("RENEW_ACTIVATION_NOT_AVAILABLE")
    with pytest.raises(e.ReactivationUnavailable):
        await client.get_extra_activation(1)


async def test_outgoing_calls():
    client, _ = client_for('{"status":"success","msg":"Заявка на звонок успешно создана."}')
    assert "Заявка" in (await client.create_task_for_call(1, "79001234567")).message
    body = (
        '{"958874106":{"date":"2022-07-29 16:03:23","phoneFrom":"79912556393",'
        '"status":"IN_PROCESS"}}'
    )
    client, _ = client_for(body)
    calls = await client.get_outgoing_calls()
    assert calls[0].activation_id == 958874106
    assert calls[0].status == "IN_PROCESS"


async def test_rent_offer_index_keyed():
    body = (
        '{"countries":{"0":0},"operators":{"0":"aiva","1":"any"},'
        '"services":{"full":{"cost":42.93,"quant":20},"vk":{"cost":21.95,"quant":"20"}}}'
    )
    client, seen = client_for(body)
    offer = await client.get_rent_services_and_countries(4, country=0)
    assert offer.countries == [0]
    assert offer.operators == ["aiva", "any"]
    assert offer.services["full"].cost == Decimal("42.93")
    assert offer.services["vk"].count == 20
    assert seen[0].url.params["rent_time"] == "4"


async def test_rent_number_and_errors():
    body = (
        '{"status":"success","phone":{"id":1049,"endDate":"2020-01-31T12:01:52",'
        '"number":"79959707564"}}'
    )
    client, seen = client_for(body)
    rent = await client.get_rent_number("vk", 4, webhook_url="https://hook.test/r")
    assert (rent.id, rent.number) == (1049, "79959707564")
    assert rent.end_date == datetime(2020, 1, 31, 12, 1, 52)
    assert seen[0].url.params["url"] == "https://hook.test/r"
    client, _ = client_for('{"status":"error","message":"NO_NUMBERS"}')
    with pytest.raises(e.OutOfStock):
        await client.get_rent_number("vk")
    client, _ = client_for('{"status":"error","msg":"NO_BALANCE"}')
    with pytest.raises(e.InsufficientFunds):
        await client.get_rent_number("vk")


async def test_rent_status_values_newest_first_become_oldest_first():
    body = (
        '{"status":"success","quantity":"2","values":{'
        '"0":{"phoneFrom":"SPORTMASTER","text":"Code: 5","service":"ot",'
        '"date":"2020-01-30 14:31:58"},'
        '"1":{"phoneFrom":"79180230628","text":"first","service":"ot",'
        '"date":"2020-01-30 14:00:00"}}}'
    )
    client, _ = client_for(body)
    status = await client.get_rent_status(1)
    assert status.state is RentState.ACTIVE
    assert status.quantity == 2
    assert [m.text for m in status.messages] == ["first", "Code: 5"]
    assert status.messages[1].phone_from == "SPORTMASTER"


@pytest.mark.parametrize(
    "token",
    ["STATUS_WAIT_CODE", "STATUS_FINISH", "STATUS_CANCEL", "STATUS_REVOKE"],
)
async def test_rent_states_arrive_as_errors(token):
    client, _ = client_for(f'{{"status":"error","message":"{token}"}}')
    status = await client.get_rent_status(1)
    assert status.state.value == token
    assert status.messages == []


async def test_rent_status_real_errors():
    client, _ = client_for('{"status":"error","message":"NO_ID_RENT"}')
    with pytest.raises(e.NoRent):
        await client.get_rent_status(1)


@pytest.mark.parametrize(
    ("token", "error"),
    [
        ("CANT_CANCEL", e.CantCancel),
        ("ALREADY_FINISH", e.AlreadyClosed),
        ("ALREADY_CANCEL", e.AlreadyClosed),
        ("INCORECT_STATUS", e.BadStatus),
        ("INVALID_PHONE", e.NoRent),
        ("SQL_ERROR", e.ServerError),
    ],
)
async def test_set_rent_status_errors(token, error):
    client, _ = client_for(f'{{"status":"error","message":"{token}"}}')
    with pytest.raises(error):
        await client.set_rent_status(1, RentAction.CANCEL)


async def test_rent_list_strings_and_empty():
    client, _ = client_for(
        '{"status":"success","values":{"0":{"id":"123456","phone":"79181234567"}}}'
    )
    assert [(r.id, r.phone) for r in await client.get_rent_list()] == [(123456, "79181234567")]
    client, _ = client_for('{"status":"error","message":"NO_NUMBERS"}')
    assert await client.get_rent_list() == []


async def test_continue_rent_max_hours_info():
    body = '{"status":"error","message":"MAX_HOURS_EXCEED","info":{"max":"72"}}'
    client, _ = client_for(body)
    with pytest.raises(e.MaxHoursExceeded) as caught:
        await client.continue_rent_number(1, 1000)
    assert caught.value.max_hours == 72
    client, _ = client_for('{"status":"success","price":6.33}')
    assert (await client.get_continue_rent_price_number(1, 4)).price == Decimal("6.33")
    client, _ = client_for('{"status":"error","message":"RENT_DIE"}')
    with pytest.raises(e.RentEnded):
        await client.continue_rent_number(1, 4)


async def test_mail_flow_bodies():
    domains = (
        '{"status":"OK","response":{"zones":[{"name":"info","cost":2.5}],'
        '"popular":[{"name":"mail.ru","cost":6,"count":159008}]}}'
    )
    client, _ = client_for(domains)
    offer = await client.get_domains("apple.com")
    assert offer.zones[0].cost == Decimal("2.5")
    assert offer.popular[0].count == 159008
    client, seen = client_for('{"status":"OK","response":{"email":"user@mail.ru","id":241}}')
    mail = await client.buy_mail_activation("apple.com", MailType.POPULAR, "mail.ru")
    assert (mail.id, mail.email) == (241, "user@mail.ru")
    assert seen[0].url.params["mail_type"] == "2"
    client, _ = client_for('{"status":"ERROR","error":"WAIT_LINK"}')
    assert (await client.check_mail_activation(241)).received is False
    letter = '{"status":"OK","response":{"value":"123456","full_message":"Your code: 123456"}}'
    client, _ = client_for(letter)
    check = await client.check_mail_activation(241)
    assert (check.received, check.value, check.full_message) == (
        True,
        "123456",
        "Your code: 123456",
    )
    client, _ = client_for('{"status":"OK","response":true}')
    await client.cancel_mail_activation(241)


@pytest.mark.parametrize(
    ("token", "error"),
    [
        ("BAD_SITE", e.BadSite),
        ("BLOCKED_SITE", e.BlockedSite),
        ("MAIL_TYPE_ERROR", e.MailTypeError),
        ("BAD_BALANCE", e.InsufficientFunds),
        ("ACTIVATION_NOT_FOUND", e.NoActivation),
        ("CHANNELS_LIMIT", e.ChannelsLimit),
    ],
)
async def test_mail_errors(token, error):
    client, _ = client_for(f'{{"status":"ERROR","error":"{token}"}}')
    with pytest.raises(error):
        await client.reorder_mail_activation(1)


async def test_mail_history_strings():
    body = (
        '{"status":"OK","response":{"list":[{"id":"241","site":"apple.com","email":"a@b.c",'
        '"status":"3","value":null,"cost":"6.00","date":"2023-10-06 14:24:13",'
        '"full_message":""}],"pages":1,"count":1}}'
    )
    client, _ = client_for(body)
    history = await client.get_mail_history(page=1)
    assert history.entries[0].id == 241
    assert history.entries[0].value is None
    assert history.entries[0].full_message is None
    assert history.count == 1


async def test_partner_product():
    client, seen = client_for('{"status":"success","key":"F5qrz","manual":"link"}')
    assert (await client.buy_partner_product(3)).key == "F5qrz"
    assert seen[0].url.params["productId"] == "3"
    client, _ = client_for("BAD_DATA")
    with pytest.raises(e.BadData):
        await client.buy_partner_product(3)


async def test_herosms_free_text_error():
    client, _ = client_for('{"status":"false","msg":"service is incorrect"}')
    with pytest.raises(e.UnknownProviderError) as caught:
        await client.get_prices("zz")
    assert caught.value.info["details"] == "service is incorrect"


def test_every_catalogue_token_has_a_class():
    catalogue = (
        "BAD_KEY",
        "NO_KEY",
        "BAD_ACTION",
        "ERROR_SQL",
        "SQL_ERROR",
        "SERVER_ERROR",
        "BAD_SERVICE",
        "WRONG_SERVICE",
        "BAD_STATUS",
        "BAD_COUNTRY",
        "BAD_OPERATOR",
        "WRONG_OPERATOR",
        "WRONG_COUNTRY_ID",
        "NO_NUMBERS",
        "NO_BALANCE",
        "NO_BALANCE_FORWARD",
        "WRONG_MAX_PRICE",
        "BANNED",
        "CHANNELS_LIMIT",
        "WRONG_EXCEPTION_PHONE",
        "NOT_AVAILABLE",
        "ORDER_ALREADY_EXISTS",
        "ACCOUNT_INACTIVE",
        "NO_YULA_MAIL",
        "WHATSAPP_NOT_AVAILABLE",
        "NO_ACTIVATION",
        "WRONG_ACTIVATION_ID",
        "INVALID_ACTIVATION_ID",
        "NOT_INCOMING",
        "EARLY_CANCEL_DENIED",
        "NO_ACTIVATIONS",
        "OPERATORS_NOT_FOUND",
        "WRONG_DATE",
        "WRONG_ADDITIONAL_SERVICE",
        "WRONG_SECURITY",
        "REPEAT_ADDITIONAL_SERVICE",
        "RENEW_ACTIVATION_NOT_AVAILABLE",
        "NEW_ACTIVATION_IMPOSSIBLE",
        "SIM_OFFLINE",
        "CALL_TASK_ALREADY_EXIST",
        "NUMBER_NOT_EXIST",
        "OUT_OF_STOCK",
        "NO_ID_RENT",
        "INVALID_PHONE",
        "INCORECT_STATUS",
        "CANT_CANCEL",
        "ALREADY_FINISH",
        "ALREADY_CANCEL",
        "INVALID_TIME",
        "MAX_HOURS_EXCEED",
        "RENT_DIE",
        "STATUS_WAIT_CODE",
        "STATUS_FINISH",
        "STATUS_CANCEL",
        "STATUS_REVOKE",
        "BAD_SITE",
        "BLOCKED_SITE",
        "MAIL_TYPE_ERROR",
        "BAD_BALANCE",
        "ACTIVATION_NOT_FOUND",
        "WAIT_LINK",
        "BAD_DATA",
        "PARSE_COUNT_EXCEED",
        "NO_CALL",
        "RATE_LIMIT",
        "OTP_RECEIVED",
        "FREE_CANCELLATION_EXPIRED",
        "NEW_OTP_RECEIVED",
        "ACTIVATION_NOT_ACTIVE",
        "SERVICE_NOT_AVAILABLE",
        "NOT_FOUND",
    )
    for token in catalogue:
        error = error_for_token(token)
        assert not isinstance(error, e.UnknownProviderError), token
        assert error.token == token


async def test_truncated_token_is_malformed_and_retried():
    answers = iter(["ACCESS_NUM", "ACCESS_BALANCE:3"])
    client, seen = client_for(lambda r: httpx.Response(200, text=next(answers)))
    assert await client.get_balance() == Decimal(3)
    assert len(seen) == 2
    client, _ = client_for("ACCESS_NUM", read_retries=0)
    with pytest.raises(e.MalformedResponse):
        await client.get_number("tg")
