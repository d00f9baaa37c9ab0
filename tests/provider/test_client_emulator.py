"""ProviderClient against the emulator: injected faults, retries and the "never repeat a paid
call after an ambiguous outcome" rule.

The other families are in ``test_client_emulator_{catalogue,activations,rent,mail}.py``, the
HeroSMS error dialect in ``test_client_emulator_hero.py``.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Literal

import pytest

from bot.provider import ProviderClient
from bot.provider import errors as e
from bot.provider.models import ActivationAction, ActivationState, MailType
from bot.sandbox import Emulator
from tests.provider.conftest import (
    BALANCE,
    ClientFactory,
)

READ_ATTEMPTS = 3  # the first try plus read_retries=2
#: The typed error the client raises for each kind of fault the emulator injects.
FAULT_ERRORS: dict[str, type[e.ProviderError]] = {
    "timeout": e.ProviderTimeout,
    "http_5xx": e.ProviderHTTPError,
    "error_sql": e.ServerError,
    "rate_limit": e.RateLimited,
    "garbage": e.MalformedResponse,
}


def sent(emu: Emulator, action: str) -> int:
    return sum(1 for call in emu.calls if call.action == action)


# --- every fault kind on a read: retried, then the typed error ---


@pytest.mark.parametrize("kind", ["timeout", "http_5xx", "error_sql", "rate_limit"])
async def test_read_fault_is_retried_then_raised(
    client: ProviderClient, emu: Emulator, kind: str
) -> None:
    emu.faults.configure(rate=1.0, kinds=[kind])
    with pytest.raises(FAULT_ERRORS[kind]) as caught:
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


@pytest.mark.parametrize("kind", ["http_5xx", "error_sql", "garbage"])
async def test_paid_call_ambiguous_outcomes_are_not_retried(
    client: ProviderClient, emu: Emulator, kind: str
) -> None:
    emu.faults.configure(rate=1.0, kinds=[kind], when="after", actions=["getNumberV2"])
    with pytest.raises(FAULT_ERRORS[kind]):
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
