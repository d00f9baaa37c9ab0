"""SANDBOX=1 offers two demo providers, each its own emulator with its own prices and stock, so
comparing offers across accounts can be tried without money."""

from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import SecretStr

from bot.provider.presets import (
    SANDBOX2_NAME,
    SANDBOX_NAME,
    SANDBOX_NAMES,
    is_sandbox,
    parse_providers,
)
from bot.resources import DEMO_PROVIDERS, SANDBOX_BALANCE, Resources
from bot.services.offers import OfferService
from tests.accounts_stub import LabelledAccount
from tests.harness import Harness, make_settings, running_harness


def demo_account(resources: Resources, provider: str, key: str) -> LabelledAccount:
    """A demo key connected the way ``Accounts.connect_sandbox`` is to do it for each one."""
    resources.sandboxes[provider].ensure_account(key, SANDBOX_BALANCE)
    preset = resources.hub.preset(provider)
    assert preset is not None
    client = resources.hub.client(provider, SecretStr(key))
    return LabelledAccount(f"id-{provider}", preset.title, provider, client, preset.features)


def test_the_sandbox_offers_both_demo_providers_last(tmp_path: Path) -> None:
    names = [p.name for p in make_settings(tmp_path, SANDBOX="1").providers]
    assert names[-2:] == [SANDBOX_NAME, SANDBOX2_NAME]
    titles = [p.title for p in make_settings(tmp_path, SANDBOX="1").providers][-2:]
    assert titles == ["Sandbox", "Sandbox B"]
    assert not set(SANDBOX_NAMES) & {
        p.name for p in make_settings(tmp_path, SANDBOX=False).providers
    }
    assert [d.preset.name for d in DEMO_PROVIDERS] == [SANDBOX_NAME, SANDBOX2_NAME]
    assert is_sandbox(SANDBOX2_NAME)
    assert not is_sandbox("herosms")


@pytest.mark.parametrize("name", [SANDBOX_NAME, SANDBOX2_NAME])
def test_a_demo_name_cannot_be_configured_as_a_real_provider(name: str) -> None:
    with pytest.raises(ValueError, match="reserved"):
        parse_providers(f"{name}=https://example.test/stubs/handler_api.php")


async def test_each_demo_provider_has_its_own_emulator_and_accounts(harness: Harness) -> None:
    resources = harness.resources
    assert set(resources.sandboxes) == {SANDBOX_NAME, SANDBOX2_NAME}
    assert resources.sandbox is resources.sandboxes[SANDBOX_NAME]
    first = demo_account(resources, SANDBOX_NAME, "demo-key")
    second = demo_account(resources, SANDBOX2_NAME, "demo-key")  # one key, two account books
    assert await first.client.get_balance() == SANDBOX_BALANCE
    assert await second.client.get_balance() == SANDBOX_BALANCE
    await first.client.get_number("tg", 6)
    assert await first.client.get_balance() < SANDBOX_BALANCE
    assert await second.client.get_balance() == SANDBOX_BALANCE  # B's money is B's own
    a, b = (resources.sandboxes[name].emulator for name in (SANDBOX_NAME, SANDBOX2_NAME))
    assert a is not b
    assert a.config.seed != b.config.seed


async def test_cheapest_picks_either_demo_provider_by_service_and_country(
    harness: Harness,
) -> None:
    resources = harness.resources
    accounts = [
        demo_account(resources, SANDBOX_NAME, "demo-key"),
        demo_account(resources, SANDBOX2_NAME, "demo-key"),
    ]
    offers = OfferService(resources.catalogue)
    winners = set()
    for service, country in [("tg", 6), ("tg", 22), ("wa", 0), ("go", 0)]:
        board = await offers.board(accounts, service, country)
        assert len(board.offers) == 2  # both answer, at different prices
        assert board.offers[0].price < board.offers[1].price
        best = board.cheapest()
        assert best is not None
        winners.add(best.account_id)
    assert winners == {"id-sandbox", "id-sandbox2"}


async def test_each_demo_provider_keeps_its_own_state_across_restarts(tmp_path: Path) -> None:
    async with running_harness(tmp_path) as first:
        account = demo_account(first.resources, SANDBOX2_NAME, "kept-key")
        await account.client.get_number("tg", 6)
        spent = await account.client.get_balance()
        assert spent < SANDBOX_BALANCE
    assert (tmp_path / "sandbox2.json").exists()
    async with running_harness(tmp_path) as second:
        emulator = second.resources.sandboxes[SANDBOX2_NAME].emulator
        assert emulator.accounts["kept-key"].balance == spent
        assert "kept-key" not in second.resources.sandboxes[SANDBOX_NAME].emulator.accounts
