"""The catalogue's two caches: shared in Redis (per provider), and a few seconds in-process."""

from __future__ import annotations

from bot.services.catalogue import LOCAL_TTL, CatalogueService
from tests.harness import Harness


async def test_menus_reuse_what_the_process_read_for_a_few_seconds(harness: Harness):
    user = await harness.connected()
    account = await harness.resources.accounts.get(user.id)
    redis = harness.resources.redis
    now = [1000.0]
    catalogue = CatalogueService(redis, clock=lambda: now[0])
    calls = len(harness.emulator.calls)

    first = await catalogue.offers(account, "tg")
    assert first
    assert len(harness.emulator.calls) > calls  # the provider was asked once
    asked = len(harness.emulator.calls)
    shared = await redis.keys("*:cache:*offers:tg")
    assert shared  # and the answer shared with the other processes

    await redis.delete(*shared)
    now[0] += LOCAL_TTL - 1
    # Within LOCAL_TTL: from memory, neither Redis nor the provider.
    assert await catalogue.offers(account, "tg") == first
    assert not await redis.keys("*:cache:*offers:tg")
    assert len(harness.emulator.calls) == asked

    now[0] += 2
    # Past it: the shared cache (gone here) and then the provider are asked again.
    assert await catalogue.offers(account, "tg") == first
    assert await redis.keys("*:cache:*offers:tg")
    assert len(harness.emulator.calls) > asked


async def test_a_caller_cannot_change_the_cached_operators(harness: Harness):
    user = await harness.connected()
    account = await harness.resources.accounts.get(user.id)
    catalogue = CatalogueService(harness.resources.redis)
    operators = await catalogue.operators(account, 0)
    assert operators
    operators.append("forged")
    assert "forged" not in await catalogue.operators(account, 0)
