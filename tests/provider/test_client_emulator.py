"""ProviderClient against the emulator: injected faults, retries, the "never repeat a paid call
after an ambiguous outcome" rule, and the HeroSMS error dialect.

The other families are in ``test_client_emulator_{catalogue,activations,rent,mail}.py``.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import timedelta
from decimal import Decimal
from typing import Literal

import httpx
import pytest

from bot.provider import ProviderClient, RentAction
from bot.provider import errors as e
from bot.provider.models import ActivationAction, ActivationState, MailType, RentState
from bot.sandbox import Emulator, EmulatorTransport
from tests.provider.conftest import (
    BALANCE,
    ENDPOINT,
    KEY,
    T0,
    T0_NAIVE,
    ClientFactory,
    make_emulator,
)

READ_ATTEMPTS = 3  # the first try plus read_retries=2


def sent(emu: Emulator, action: str) -> int:
    return sum(1 for call in emu.calls if call.action == action)


# --- every fault kind on a read: retried, then the typed error ---


@pytest.mark.parametrize(
    ("kind", "error"),
    [
        ("timeout", e.ProviderTimeout),
        ("http_5xx", e.ProviderHTTPError),
        ("error_sql", e.ServerError),
        ("rate_limit", e.RateLimited),
    ],
)
async def test_read_fault_is_retried_then_raised(
    client: ProviderClient, emu: Emulator, kind: str, error: type[e.ProviderError]
) -> None:
    emu.faults.configure(rate=1.0, kinds=[kind])
    with pytest.raises(error) as caught:
        await client.get_balance()
    assert caught.value.transient
    assert caught.value.action == "getBalance"
    assert sent(emu, "getBalance") == READ_ATTEMPTS
    assert all(call.fault == kind for call in emu.calls)


async def test_http_5xx_keeps_the_status(client: ProviderClient, emu: Emulator) -> None:
    emu.faults.configure(rate=1.0, kinds=["http_5xx"])
    with pytest.raises(e.ProviderHTTPError) as caught:
        await client.get_prices("tg", 0)
    assert caught.value.status_code in (500, 502, 503, 504)
    assert "<html>" in caught.value.raw


async def test_garbage_is_malformed_response(client: ProviderClient, emu: Emulator) -> None:
    # The emulator's garbage: a Cloudflare page, truncated JSON, binary, an empty body and a
    # truncated token ("ACCESS_NUM"). Every one is an unusable answer, retried like the rest.
    emu.faults.configure(rate=1.0, kinds=["garbage"])
    for attempt in range(1, 5):
        with pytest.raises(e.MalformedResponse):
            await client.get_balance()
        assert sent(emu, "getBalance") == attempt * READ_ATTEMPTS


async def test_error_sql_in_every_family(client: ProviderClient, emu: Emulator) -> None:
    emu.faults.configure(rate=1.0, kinds=["error_sql"])
    with pytest.raises(e.ServerError) as text:
        await client.get_status(1)
    assert text.value.token == "ERROR_SQL"
    with pytest.raises(e.ServerError) as rent:
        await client.get_rent_list()  # {"status":"error","message":"SQL_ERROR"}
    assert rent.value.token == "SQL_ERROR"
    with pytest.raises(e.ServerError):
        await client.get_mail_history()  # {"status":"ERROR","error":"ERROR_SQL"}
    assert sent(emu, "getRentList") == READ_ATTEMPTS


async def test_fault_limited_to_one_action(client: ProviderClient, emu: Emulator) -> None:
    emu.faults.configure(rate=1.0, kinds=["http_5xx"], actions=["getPrices"])
    assert await client.get_balance() == Decimal(BALANCE)
    with pytest.raises(e.ProviderHTTPError):
        await client.get_prices()


async def test_reads_survive_a_flaky_provider(make_client: ClientFactory, emu: Emulator) -> None:
    # With enough retries a read fails only if every attempt does (0.3 ** 9 here).
    client = make_client(read_retries=8)
    emu.faults.configure(
        rate=0.3, kinds=["timeout", "http_5xx", "garbage", "error_sql", "rate_limit"]
    )
    for _ in range(25):
        assert await client.get_balance() == Decimal(BALANCE)
    assert len(await client.get_operators(0)) == 1
    assert 0 in await client.get_prices("tg")
    faulty = [call for call in emu.calls if call.fault is not None]
    assert faulty, "the 30% rate should have failed some requests"
    assert len(emu.calls) > 27


async def test_lifecycle_reads_survive_a_flaky_provider(
    make_client: ClientFactory, emu: Emulator
) -> None:
    client = make_client(read_retries=8)
    number = await client.get_number("tg", 0)
    emu.deliver_sms(number.activation_id, "Telegram code: 24680")
    emu.faults.configure(
        rate=0.3,
        kinds=["timeout", "http_5xx", "error_sql", "rate_limit"],
        actions=["getStatus", "getActiveActivations"],
    )
    for _ in range(10):
        status = await client.get_status(number.activation_id)
        assert (status.state, status.code) == (ActivationState.CODE_RECEIVED, "24680")
        [active] = await client.get_active_activations()
        assert active.codes == ["24680"]


# --- paid calls: never repeated after an ambiguous outcome ---


async def test_paid_call_timing_out_after_the_purchase_is_sent_once(
    client: ProviderClient, emu: Emulator
) -> None:
    emu.faults.configure(rate=1.0, kinds=["timeout"], when="after", actions=["getNumber"])
    with pytest.raises(e.ProviderTimeout) as caught:
        await client.get_number("tg", 0)
    assert caught.value.action == "getNumber"
    assert sent(emu, "getNumber") == 1
    # The number really was bought: the caller must look at the provider's state.
    emu.faults.clear()
    [active] = await client.get_active_activations()
    bought = emu.activations[active.activation_id]
    assert (active.service, active.phone, active.status) == ("tg", bought.phone, 4)
    assert await client.get_balance() == Decimal(BALANCE) - bought.cost
    assert sent(emu, "getNumber") == 1


@pytest.mark.parametrize(
    ("kind", "error"),
    [
        ("http_5xx", e.ProviderHTTPError),
        ("error_sql", e.ServerError),
        ("garbage", e.MalformedResponse),
    ],
)
async def test_paid_call_ambiguous_outcomes_are_not_retried(
    client: ProviderClient, emu: Emulator, kind: str, error: type[e.ProviderError]
) -> None:
    emu.faults.configure(rate=1.0, kinds=[kind], when="after", actions=["getNumberV2"])
    with pytest.raises(error):
        await client.get_number_v2("tg", 0)
    assert sent(emu, "getNumberV2") == 1
    assert len(emu.activations) == 1


async def test_paid_call_timing_out_before_is_sent_once_too(
    client: ProviderClient, emu: Emulator
) -> None:
    # The client cannot tell "before" from "after": a timeout is never repeated on a purchase.
    emu.faults.configure(rate=1.0, kinds=["timeout"], when="before")
    with pytest.raises(e.ProviderTimeout):
        await client.get_rent_number("tg", 4, country=0)
    assert sent(emu, "getRentNumber") == 1
    assert emu.rents == {}
    emu.faults.clear()
    assert await client.get_rent_list() == []


@pytest.mark.parametrize("when", ["before", "after"])
async def test_rate_limited_purchase_is_sent_once_and_left_unknown(
    client: ProviderClient, emu: Emulator, when: Literal["before", "after"]
) -> None:
    # A 429 may come after the purchase ran: the client cannot tell, so it never repeats it
    # and the caller looks (RateLimited is one of OUTCOME_UNKNOWN).
    emu.faults.configure(rate=1.0, kinds=["rate_limit"], when=when, actions=["getNumber"])
    with pytest.raises(e.RateLimited) as caught:
        await client.get_number("tg", 0)
    assert isinstance(caught.value, e.OUTCOME_UNKNOWN)
    assert sent(emu, "getNumber") == 1
    assert len(emu.activations) == (1 if when == "after" else 0)


async def test_rate_limited_read_is_still_retried(client: ProviderClient, emu: Emulator) -> None:
    emu.faults.configure(rate=1.0, kinds=["rate_limit"], actions=["getBalance"])
    with pytest.raises(e.RateLimited):
        await client.get_balance()
    assert sent(emu, "getBalance") == READ_ATTEMPTS


async def test_state_changes_are_not_retried_after_a_timeout(
    client: ProviderClient, emu: Emulator
) -> None:
    number = await client.get_number("tg", 0)
    emu.deliver_sms(number.activation_id, "Telegram code: 11111")
    emu.faults.configure(rate=1.0, kinds=["timeout"], when="after", actions=["setStatus"])
    with pytest.raises(e.ProviderTimeout):
        await client.set_status(number.activation_id, ActivationAction.FINISH)
    assert sent(emu, "setStatus") == 1
    emu.faults.clear()
    assert (await client.get_status(number.activation_id)).state is ActivationState.CANCELLED


async def test_mail_purchase_timeout_after(client: ProviderClient, emu: Emulator) -> None:
    emu.faults.configure(rate=1.0, kinds=["timeout"], when="after", actions=["buyMailActivation"])
    with pytest.raises(e.ProviderTimeout):
        await client.buy_mail_activation("apple.com", MailType.POPULAR, "gmail.com")
    assert sent(emu, "buyMailActivation") == 1
    emu.faults.clear()
    history = await client.get_mail_history()
    assert [row.status for row in history.entries] == [3]


# --- the HeroSMS dialect: HTTP codes and a {"title", "details", "info"} envelope ---


@pytest.fixture
def hero() -> Emulator:
    return make_emulator(dialect="herosms")


@pytest.fixture
async def hero_http(hero: Emulator) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(transport=EmulatorTransport(hero)) as http:
        yield http


@pytest.fixture
def hero_client(hero_http: httpx.AsyncClient) -> ProviderClient:
    return ProviderClient(hero_http, ENDPOINT, KEY, backoff=0)


async def test_hero_auth_errors(hero_http: httpx.AsyncClient) -> None:
    wrong = ProviderClient(hero_http, ENDPOINT, "no-such-key", backoff=0)
    with pytest.raises(e.AuthError) as bad_key:
        await wrong.get_balance()
    assert (bad_key.value.token, bad_key.value.status_code) == ("BAD_KEY", 401)
    with pytest.raises(e.AuthError):
        await wrong.get_rent_list()
    with pytest.raises(e.AuthError):
        await wrong.get_domains("apple.com")
    empty = ProviderClient(hero_http, ENDPOINT, "", backoff=0)
    with pytest.raises(e.AuthError) as no_key:
        await empty.get_balance()
    assert (no_key.value.token, no_key.value.status_code) == ("NO_KEY", 401)


async def test_hero_purchase_errors(hero_client: ProviderClient, hero: Emulator) -> None:
    hero.set_offer(0, "wa", cost="0.7")
    with pytest.raises(e.WrongMaxPrice) as max_price:
        await hero_client.get_number("wa", 0, max_price=Decimal("0.1"))
    assert max_price.value.status_code == 400
    assert max_price.value.min_price == Decimal("0.7")

    hero.account(KEY).banned_until = T0 + 3600
    with pytest.raises(e.Banned) as banned:
        await hero_client.get_number_v2("wa", 0)
    assert banned.value.status_code == 403
    assert banned.value.until == T0_NAIVE + timedelta(hours=1)
    hero.account(KEY).banned_until = None

    hero.add_account(KEY, "0.01")
    with pytest.raises(e.InsufficientFunds) as no_balance:
        await hero_client.get_number("wa", 0)
    assert (no_balance.value.token, no_balance.value.status_code) == ("NO_BALANCE", 402)
    hero.add_account(KEY, BALANCE)

    with pytest.raises(e.BadService):
        await hero_client.get_number("nope", 0)
    # NO_NUMBERS on a purchase stays a 200 text token in this dialect.
    hero.set_offer(0, "tg", count=0)
    with pytest.raises(e.OutOfStock) as no_numbers:
        await hero_client.get_number("tg", 0)
    assert (no_numbers.value.token, no_numbers.value.status_code) == ("NO_NUMBERS", 200)


async def test_hero_activation_lifecycle(hero_client: ProviderClient, hero: Emulator) -> None:
    assert await hero_client.get_active_activations() == []
    number = await hero_client.get_number("tg", 0)
    with pytest.raises(e.EarlyCancelDenied) as early:
        await hero_client.set_status(number.activation_id, ActivationAction.CANCEL)
    assert early.value.status_code == 409
    assert early.value.info == {"minActivationTime": 120}
    with pytest.raises(e.BadStatus):
        await hero_client.set_status(number.activation_id, ActivationAction.FINISH)
    with pytest.raises(e.NoActivation) as missing:
        await hero_client.get_status(123)
    assert missing.value.status_code == 404
    hero.deliver_sms(number.activation_id, "Telegram code: 12345")
    status = await hero_client.get_status(number.activation_id)
    assert (status.state, status.code) == (ActivationState.CODE_RECEIVED, "12345")
    await hero_client.set_status(number.activation_id, ActivationAction.FINISH)
    assert await hero_client.get_active_activations() == []
    assert await hero_client.get_operators(190) == {}


async def test_hero_rent_and_mail(hero_client: ProviderClient, hero: Emulator) -> None:
    with pytest.raises(e.OutOfStock) as no_numbers:
        await hero_client.get_rent_number("tg", 4, country=3)
    assert (no_numbers.value.token, no_numbers.value.status_code) == ("NO_NUMBERS", 404)
    assert await hero_client.get_rent_list() == []
    rented = await hero_client.get_rent_number("tg", 4, country=0)
    assert (await hero_client.get_rent_status(rented.id)).state is RentState.WAIT_CODE
    with pytest.raises(e.MaxHoursExceeded) as too_long:
        await hero_client.continue_rent_number(rented.id, 1344)
    assert too_long.value.max_hours == 1340
    hero.advance(20 * 60)
    with pytest.raises(e.CantCancel) as late:
        await hero_client.set_rent_status(rented.id, RentAction.CANCEL)
    assert late.value.status_code == 409

    with pytest.raises(e.BadSite):
        await hero_client.get_domains("not a site")
    with pytest.raises(e.BlockedSite):
        await hero_client.buy_mail_activation("gosuslugi.ru", MailType.POPULAR, "gmail.com")
    bought = await hero_client.buy_mail_activation("apple.com", MailType.POPULAR, "gmail.com")
    assert (await hero_client.check_mail_activation(bought.id)).received is False
    with pytest.raises(e.NoActivation):
        await hero_client.check_mail_activation(1)


async def test_hero_faults(hero_http: httpx.AsyncClient, hero: Emulator) -> None:
    client = ProviderClient(hero_http, ENDPOINT, KEY, backoff=0, read_retries=0)
    hero.faults.configure(rate=1.0, kinds=["rate_limit"])
    with pytest.raises(e.RateLimited) as limited:
        await client.get_balance()
    assert limited.value.status_code == 429
    assert limited.value.retry_after == 10.0
    hero.faults.configure(rate=1.0, kinds=["error_sql"])
    with pytest.raises(e.ServerError) as server:
        await client.get_balance()
    assert server.value.status_code == 500
