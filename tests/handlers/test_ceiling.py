"""A number is bought with the quote as the provider's ceiling (maxPrice): a price that rises
between the bot's check and the paid call is refused by the provider, and the user gets the
new quote, never a purchase."""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal

import pytest

from bot.sandbox.emulator import Outcome
from bot.texts import money
from tests.harness import GOOD_KEY, Harness

SERVICE = "tg"
COUNTRY = 6
ROSE = {"en": "The price rose to", "ru": "Цена выросла до"}
PAID_CALLS = {"getNumber", "getNumberV2"}


def raise_price_at_purchase(harness: Harness, monkeypatch: pytest.MonkeyPatch) -> Decimal:
    """The price rises just before the first paid call reaches the provider, after the bot
    read it: the race a check alone cannot close. Returns the new price."""
    emulator = harness.emulator
    offer = emulator.offer(COUNTRY, SERVICE)
    assert offer is not None
    dearer = offer.cost + Decimal("0.5")
    serve = emulator.serve
    raised = False

    def hooked(params: Mapping[str, str]) -> Outcome:
        nonlocal raised
        if params.get("action") in PAID_CALLS and not raised:
            raised = True
            emulator.set_offer(COUNTRY, SERVICE, cost=dearer)
        return serve(params)

    monkeypatch.setattr(emulator, "serve", hooked)
    return dearer


@pytest.mark.parametrize("language", ["en", "ru"])
async def test_a_rise_at_the_purchase_is_refused_and_requoted(
    harness: Harness, monkeypatch: pytest.MonkeyPatch, language: str
) -> None:
    user = await harness.connected(language)
    await user.send(f"/buy {SERVICE} {COUNTRY}")
    confirm = user.last()
    button = confirm.button_starting("✅")
    quoted = button.rsplit(" ", 1)[1]
    balance = harness.emulator.account(GOOD_KEY).balance
    dearer = raise_price_at_purchase(harness, monkeypatch)

    query = await user.press(button, confirm)

    assert f"{ROSE[language]} {money(dearer)}" in (user.answer(query) or "")
    [paid] = [call for call in harness.emulator.calls if call.action in PAID_CALLS]
    assert Decimal(paid.params["maxPrice"]) == Decimal(quoted)
    assert paid.token == "WRONG_MAX_PRICE"
    assert harness.emulator.activations == {}
    assert harness.emulator.account(GOOD_KEY).balance == balance
    # In the old confirmation's place: the new quote, which buys at the price it shows.
    fresh = user.message(confirm.message_id)
    label = fresh.button_starting("✅")
    assert label.endswith(money(dearer))
    await user.press(label, fresh)
    [bought] = harness.emulator.activations.values()
    assert bought.cost == dearer


async def test_the_quote_is_sent_as_the_ceiling(harness: Harness) -> None:
    user = await harness.connected("en")
    await user.send(f"/buy {SERVICE} {COUNTRY}")
    button = user.last().button_starting("✅")
    await user.press(button)
    [paid] = [call for call in harness.emulator.calls if call.action in PAID_CALLS]
    assert Decimal(paid.params["maxPrice"]) == Decimal(button.rsplit(" ", 1)[1])
    assert len(harness.emulator.activations) == 1
