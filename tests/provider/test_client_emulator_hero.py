"""ProviderClient against the emulator in the HeroSMS dialect: HTTP status codes and a
{"title", "details", "info"} envelope. The same fixtures as the other families (conftest.py),
over an emulator that speaks HeroSMS."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest

from bot.provider import ProviderClient, RentAction
from bot.provider import errors as e
from bot.provider.models import ActivationAction, ActivationState, MailType, RentState
from bot.sandbox import Emulator
from tests.provider.conftest import BALANCE, KEY, T0, T0_NAIVE, ClientFactory, make_emulator


@pytest.fixture
def emu() -> Emulator:
    """Overrides conftest's: the same seeded, funded emulator, in the HeroSMS dialect."""
    return make_emulator(dialect="herosms")


async def test_hero_auth_errors(make_client: ClientFactory) -> None:
    wrong = make_client("no-such-key")
    with pytest.raises(e.AuthError) as bad_key:
        await wrong.get_balance()
    assert (bad_key.value.token, bad_key.value.status_code) == ("BAD_KEY", 401)
    with pytest.raises(e.AuthError):
        await wrong.get_rent_list()
    with pytest.raises(e.AuthError):
        await wrong.get_domains("apple.com")
    empty = make_client("")
    with pytest.raises(e.AuthError) as no_key:
        await empty.get_balance()
    assert (no_key.value.token, no_key.value.status_code) == ("NO_KEY", 401)


async def test_hero_purchase_errors(client: ProviderClient, emu: Emulator) -> None:
    emu.set_offer(0, "wa", cost="0.7")
    with pytest.raises(e.WrongMaxPrice) as max_price:
        await client.get_number("wa", 0, max_price=Decimal("0.1"))
    assert max_price.value.status_code == 400
    assert max_price.value.min_price == Decimal("0.7")

    emu.account(KEY).banned_until = T0 + 3600
    with pytest.raises(e.Banned) as banned:
        await client.get_number_v2("wa", 0)
    assert banned.value.status_code == 403
    assert banned.value.until == T0_NAIVE + timedelta(hours=1)
    emu.account(KEY).banned_until = None

    emu.add_account(KEY, "0.01")
    with pytest.raises(e.InsufficientFunds) as no_balance:
        await client.get_number("wa", 0)
    assert (no_balance.value.token, no_balance.value.status_code) == ("NO_BALANCE", 402)
    emu.add_account(KEY, BALANCE)

    with pytest.raises(e.BadService):
        await client.get_number("nope", 0)
    # NO_NUMBERS on a purchase stays a 200 text token in this dialect.
    emu.set_offer(0, "tg", count=0)
    with pytest.raises(e.OutOfStock) as no_numbers:
        await client.get_number("tg", 0)
    assert (no_numbers.value.token, no_numbers.value.status_code) == ("NO_NUMBERS", 200)


async def test_hero_activation_lifecycle(client: ProviderClient, emu: Emulator) -> None:
    assert await client.get_active_activations() == []
    number = await client.get_number("tg", 0)
    with pytest.raises(e.EarlyCancelDenied) as early:
        await client.set_status(number.activation_id, ActivationAction.CANCEL)
    assert early.value.status_code == 409
    assert early.value.info == {"minActivationTime": 120}
    with pytest.raises(e.BadStatus):
        await client.set_status(number.activation_id, ActivationAction.FINISH)
    with pytest.raises(e.NoActivation) as missing:
        await client.get_status(123)
    assert missing.value.status_code == 404
    emu.deliver_sms(number.activation_id, "Telegram code: 12345")
    status = await client.get_status(number.activation_id)
    assert (status.state, status.code) == (ActivationState.CODE_RECEIVED, "12345")
    await client.set_status(number.activation_id, ActivationAction.FINISH)
    assert await client.get_active_activations() == []
    assert await client.get_operators(190) == {}


async def test_hero_rent_and_mail(client: ProviderClient, emu: Emulator) -> None:
    with pytest.raises(e.OutOfStock) as no_numbers:
        await client.get_rent_number("tg", 4, country=3)
    assert (no_numbers.value.token, no_numbers.value.status_code) == ("NO_NUMBERS", 404)
    assert await client.get_rent_list() == []
    rented = await client.get_rent_number("tg", 4, country=0)
    assert (await client.get_rent_status(rented.id)).state is RentState.WAIT_CODE
    with pytest.raises(e.MaxHoursExceeded) as too_long:
        await client.continue_rent_number(rented.id, 1344)
    assert too_long.value.max_hours == 1340
    emu.advance(20 * 60)
    with pytest.raises(e.CantCancel) as late:
        await client.set_rent_status(rented.id, RentAction.CANCEL)
    assert late.value.status_code == 409

    with pytest.raises(e.BadSite):
        await client.get_domains("not a site")
    with pytest.raises(e.BlockedSite):
        await client.buy_mail_activation("gosuslugi.ru", MailType.POPULAR, "gmail.com")
    bought = await client.buy_mail_activation("apple.com", MailType.POPULAR, "gmail.com")
    assert (await client.check_mail_activation(bought.id)).received is False
    with pytest.raises(e.NoActivation):
        await client.check_mail_activation(1)


async def test_hero_faults(make_client: ClientFactory, emu: Emulator) -> None:
    client = make_client(KEY, read_retries=0)
    emu.faults.configure(rate=1.0, kinds=["rate_limit"])
    with pytest.raises(e.RateLimited) as limited:
        await client.get_balance()
    assert limited.value.status_code == 429
    assert limited.value.retry_after == 10.0
    emu.faults.configure(rate=1.0, kinds=["error_sql"])
    with pytest.raises(e.ServerError) as server:
        await client.get_balance()
    assert server.value.status_code == 500
