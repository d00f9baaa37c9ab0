"""Confirmations in Redis: they run out after a day, begun and settled or not, and a bought one
keeps only what a later tap of the same button needs."""

from __future__ import annotations

from decimal import Decimal

from fakeredis import FakeAsyncRedis

from bot.storage import keys
from bot.storage.activations import BuyOptions
from bot.storage.orders import ORDER_TTL, OrderRepo

PARAMS = BuyOptions(service="tg", country=6, operator="any").model_dump(mode="json")


async def test_an_order_runs_out_after_a_day_once_begun_and_settled() -> None:
    redis = FakeAsyncRedis()
    orders = OrderRepo(redis)
    token = await orders.draft(
        1, "activation", PARAMS, price=Decimal("0.45"), account="sandbox:k", account_id="a1"
    )
    key = keys.order(1, token)
    order, mine = await orders.begin(1, token, 100.0)
    assert order is not None
    assert mine
    assert 0 < await redis.ttl(key) <= ORDER_TTL
    await orders.settle(1, token, "unknown")
    assert 0 < await redis.ttl(key) <= ORDER_TTL  # a write keeps the order's deadline
    await orders.settle(1, token, "done", "sandbox:7")
    assert 0 < await redis.ttl(key) <= ORDER_TTL


async def test_a_bought_order_keeps_what_a_second_tap_reads_and_drops_the_quote() -> None:
    redis = FakeAsyncRedis()
    orders = OrderRepo(redis)
    token = await orders.draft(
        1, "activation", PARAMS, price=Decimal("0.45"), account="sandbox:k", account_id="a1"
    )
    await orders.begin(1, token, 100.0)
    await orders.settle(1, token, "done", "sandbox:7")
    done = await orders.get(1, token)
    assert done is not None
    assert (done.kind, done.status, done.result) == ("activation", "done", "sandbox:7")
    assert (done.account, done.account_id) == ("sandbox:k", "a1")  # the payer, for the tap
    assert (done.params, done.price, done.quoted_at, done.started_at) == ({}, None, None, None)
    stored = await redis.get(keys.order(1, token))
    assert stored is not None
    assert b"service" not in stored
    assert b'"draft"' not in stored
