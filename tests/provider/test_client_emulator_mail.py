"""ProviderClient against the emulator: e-mail activations and their lifecycle."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from decimal import Decimal

import pytest

from bot.provider import ProviderClient
from bot.provider import errors as e
from bot.provider.models import MailType
from bot.sandbox import Emulator, MailStatus
from tests.provider.conftest import BALANCE, KEY, T0_NAIVE


async def test_get_domains(client: ProviderClient, emu: Emulator) -> None:
    domains = await client.get_domains("apple.com")
    market = emu.world.market
    assert {zone.name: zone.cost for zone in domains.zones} == market.mail_zones
    assert {d.name: (d.cost, d.count) for d in domains.popular} == {
        name: (offer.cost, offer.count) for name, offer in market.mail_popular.items()
    }
    assert "gmail.com" in {d.name for d in domains.popular}


async def test_get_domains_bad_site(client: ProviderClient) -> None:
    with pytest.raises(e.BadSite):
        await client.get_domains("not a site")
    with pytest.raises(e.BadSite):
        await client.get_domains("apple..com")


async def test_buy_mail_activation_popular_domain(client: ProviderClient, emu: Emulator) -> None:
    offer = emu.world.market.mail_popular["gmail.com"]
    stock = offer.count
    bought = await client.buy_mail_activation("apple.com", MailType.POPULAR, "gmail.com")
    assert bought.id > 2**32
    assert bought.email.endswith("@gmail.com")
    assert await client.get_balance() == Decimal(BALANCE) - offer.cost
    assert offer.count == stock - 1
    mail = emu.mails[bought.id]
    assert (mail.email, mail.key, mail.site) == (bought.email, KEY, "apple.com")


async def test_buy_mail_activation_zone(client: ProviderClient, emu: Emulator) -> None:
    bought = await client.buy_mail_activation("discord.com", MailType.ZONE, "info")
    assert bought.email.endswith(".info")
    assert await client.get_balance() == Decimal(BALANCE) - emu.world.market.mail_zones["info"]
    assert emu.mails[bought.id].mail_type == 1


async def test_buy_mail_activation_errors(client: ProviderClient, emu: Emulator) -> None:
    with pytest.raises(e.MailTypeError):
        await client.buy_mail_activation("apple.com", MailType.ZONE, "gmail.com")
    with pytest.raises(e.MailTypeError):
        await client.buy_mail_activation("apple.com", MailType.POPULAR, "info")
    with pytest.raises(e.BadSite):
        await client.buy_mail_activation("apple..com", MailType.POPULAR, "gmail.com")
    with pytest.raises(e.BlockedSite):
        await client.buy_mail_activation("gosuslugi.ru", MailType.POPULAR, "gmail.com")
    emu.add_account(KEY, 0)
    with pytest.raises(e.InsufficientFunds) as caught:
        await client.buy_mail_activation("apple.com", MailType.ZONE, "info")
    assert caught.value.token == "BAD_BALANCE"
    emu.add_account(KEY, BALANCE)
    emu.account(KEY).max_channels = 0
    with pytest.raises(e.ChannelsLimit):
        await client.buy_mail_activation("apple.com", MailType.ZONE, "info")
    assert emu.mails == {}


async def test_letter_arrives(client: ProviderClient, emu: Emulator) -> None:
    bought = await client.buy_mail_activation("apple.com", MailType.POPULAR, "gmail.com")
    waiting = await client.check_mail_activation(bought.id)
    assert waiting.received is False
    assert (waiting.value, waiting.full_message) == (None, None)
    emu.advance(60)
    text = "Confirm: https://apple.com/verify?t=a:b. Code 482913"
    emu.deliver_mail(bought.id, text)
    check = await client.check_mail_activation(bought.id)
    assert check.received is True
    assert check.value == "https://apple.com/verify?t=a:b"
    assert check.full_message == text


async def test_reorder_mail_activation(client: ProviderClient, emu: Emulator) -> None:
    bought = await client.buy_mail_activation("apple.com", MailType.POPULAR, "gmail.com")
    emu.deliver_mail(bought.id, "Your code is 111222")
    balance = await client.get_balance()
    again = await client.reorder_mail_activation(bought.id)
    assert again.id != bought.id
    assert again.id > 2**32
    assert again.email == bought.email
    assert await client.get_balance() == balance - emu.mails[bought.id].cost
    assert (await client.check_mail_activation(again.id)).received is False
    # The first letter stays on the first id.
    assert (await client.check_mail_activation(bought.id)).value == "111222"
    emu.deliver_mail(again.id, "Your code is 777111")
    second = await client.check_mail_activation(again.id)
    assert (second.received, second.value) == (True, "777111")
    assert second.full_message == "Your code is 777111"


async def test_reorder_refused_before_a_letter(client: ProviderClient, emu: Emulator) -> None:
    bought = await client.buy_mail_activation("apple.com", MailType.ZONE, "info")
    with pytest.raises(e.BadStatus):
        await client.reorder_mail_activation(bought.id)
    emu.deliver_mail(bought.id, "Your code is 123456")
    emu.add_account(KEY, 0)
    with pytest.raises(e.InsufficientFunds):
        await client.reorder_mail_activation(bought.id)


async def test_cancel_mail_activation_refunds(client: ProviderClient, emu: Emulator) -> None:
    bought = await client.buy_mail_activation("apple.com", MailType.POPULAR, "gmail.com")
    assert await client.get_balance() < Decimal(BALANCE)
    await client.cancel_mail_activation(bought.id)
    assert await client.get_balance() == Decimal(BALANCE)
    assert emu.mails[bought.id].status is MailStatus.CANCELLED
    with pytest.raises(e.BadStatus):
        await client.cancel_mail_activation(bought.id)
    with pytest.raises(e.BadStatus):
        await client.reorder_mail_activation(bought.id)


async def test_cancel_after_the_letter_refunds_nothing(
    client: ProviderClient, emu: Emulator
) -> None:
    """The provider takes it (status 6): the reason the bot looks before it cancels."""
    bought = await client.buy_mail_activation("apple.com", MailType.POPULAR, "gmail.com")
    emu.deliver_mail(bought.id, "Your code is 123456")
    paid = await client.get_balance()
    await client.cancel_mail_activation(bought.id)
    assert emu.mails[bought.id].status is MailStatus.FINISHED
    assert await client.get_balance() == paid
    with pytest.raises(e.BadStatus):
        await client.cancel_mail_activation(bought.id)


async def test_mail_expires_with_a_refund(client: ProviderClient, emu: Emulator) -> None:
    bought = await client.buy_mail_activation("apple.com", MailType.POPULAR, "gmail.com")
    emu.advance(20 * 60)
    assert emu.mails[bought.id].status is MailStatus.CANCELLED
    assert await client.get_balance() == Decimal(BALANCE)


async def test_get_mail_history(client: ProviderClient, emu: Emulator) -> None:
    empty = await client.get_mail_history()
    assert (empty.entries, empty.count) == ([], 0)
    done = await client.buy_mail_activation("apple.com", MailType.POPULAR, "gmail.com")
    emu.deliver_mail(done.id, "Your code is 123456")
    cancelled = await client.buy_mail_activation("discord.com", MailType.ZONE, "info")
    await client.cancel_mail_activation(cancelled.id)
    waiting = await client.buy_mail_activation("apple.com", MailType.ZONE, "site")
    history = await client.get_mail_history()
    assert (history.count, history.pages) == (3, 1)
    rows = {row.id: row for row in history.entries}
    assert [row.id for row in history.entries] == [waiting.id, cancelled.id, done.id]
    assert (rows[done.id].status, rows[done.id].value) == (5, "123456")
    assert rows[done.id].full_message == "Your code is 123456"
    assert rows[done.id].email == done.email
    assert rows[done.id].site == "apple.com"
    assert rows[done.id].cost == emu.world.market.mail_popular["gmail.com"].cost
    assert rows[done.id].date == T0_NAIVE
    assert rows[cancelled.id].status == 4
    assert (rows[waiting.id].status, rows[waiting.id].value) == (3, None)
    assert rows[waiting.id].full_message is None
    ascending = await client.get_mail_history(sort="asc", per_page=2)
    assert [row.id for row in ascending.entries] == [done.id, cancelled.id]
    assert (ascending.pages, ascending.count) == (2, 3)
    found = await client.get_mail_history(search="discord")
    assert [row.id for row in found.entries] == [cancelled.id]


async def test_activation_not_found(
    client: ProviderClient, other: ProviderClient, emu: Emulator
) -> None:
    bought = await client.buy_mail_activation("apple.com", MailType.POPULAR, "gmail.com")
    calls: list[Callable[[], Awaitable[object]]] = [
        lambda: other.check_mail_activation(bought.id),
        lambda: other.cancel_mail_activation(bought.id),
        lambda: other.reorder_mail_activation(bought.id),
        lambda: client.check_mail_activation(123),
    ]
    for call in calls:
        with pytest.raises(e.NoActivation) as caught:
            await call()
        assert caught.value.token == "ACTIVATION_NOT_FOUND"
    assert emu.mails[bought.id].status is MailStatus.WAITING
    assert (await other.get_mail_history()).count == 0
