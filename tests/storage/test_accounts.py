"""Several provider accounts per user: ids, the default, dedup, and the old single-key hash."""

from __future__ import annotations

import pytest
from fakeredis import FakeAsyncRedis

from bot.storage.accounts import legacy_id
from bot.storage.secrets import KeyCipher
from bot.storage.users import UserRepo

KEY_A = "first-key-0123456789"
KEY_B = "second-key-0123456789"


@pytest.fixture
async def users():
    redis = FakeAsyncRedis()
    yield UserRepo(redis, KeyCipher("a-test-secret-of-enough-length"))
    await redis.aclose()


async def test_accounts_get_short_unique_ids_and_the_newest_is_default(users):
    first = await users.add_account(1, "herosms", KEY_A, "Main")
    second = await users.add_account(1, "smshub", KEY_B, make_default=False)
    assert len(first.id) == 8
    assert first.id != second.id
    book = await users.account_book(1)
    assert [a.id for a in book.active] == [first.id, second.id]
    assert book.default == first.id
    assert book.find(first.id).title == "Main"
    assert await users.set_default(1, second.id)
    assert (await users.account_book(1)).active[0].id == second.id
    credentials = await users.get_credentials(1)
    assert credentials.provider == "smshub"
    assert credentials.api_key.get_secret_value() == KEY_B


async def test_the_same_provider_and_key_again_updates_rather_than_duplicates(users):
    first = await users.add_account(1, "herosms", KEY_A)
    again = await users.add_account(1, "herosms", KEY_A, "Renamed")
    other_key = await users.add_account(1, "herosms", KEY_B)
    book = await users.account_book(1)
    assert again.id == first.id
    assert other_key.id != first.id
    assert len(book.accounts) == 2
    assert book.find(first.id).title == "Renamed"


async def test_rename_clean_and_bounded_and_unknown_ids_change_nothing(users):
    account = await users.add_account(2, "herosms", KEY_A)
    assert await users.rename_account(2, account.id, "  My   <b>card</b>  " + "x" * 50)
    title = (await users.account_book(2)).find(account.id).title
    assert title.startswith("My <b>card</b>")
    assert len(title) == 32
    assert not await users.rename_account(2, "deadbeef", "x")
    assert not await users.set_default(2, "deadbeef")
    assert (await users.account_book(2)).default == account.id


async def test_retired_account_is_kept_apart_until_forgotten(users):
    main = await users.add_account(3, "herosms", KEY_A)
    spare = await users.add_account(3, "smshub", KEY_B)
    await users.retire_account(3, spare.id)
    book = await users.account_book(3)
    assert [a.id for a in book.active] == [main.id]
    assert book.default == main.id
    assert book.find(spare.id).retired
    assert not await users.set_default(3, spare.id)
    # Connecting the same key again brings it back.
    back = await users.add_account(3, "smshub", KEY_B, make_default=False)
    assert back.id == spare.id
    assert not (await users.account_book(3)).find(spare.id).retired
    await users.forget_accounts(3, [main.id])
    book = await users.account_book(3)
    assert [a.id for a in book.accounts] == [spare.id]
    assert book.default == spare.id


async def test_an_old_single_key_hash_reads_as_one_default_account(users):
    redis = users._redis
    sealed = users._cipher.encrypt(4, KEY_A)
    await redis.hset("sab:user:4", mapping={"provider": "herosms", "key": sealed})
    book = await users.account_book(4)
    (account,) = book.active
    assert book.legacy
    assert account.id == legacy_id("herosms", sealed)
    assert book.default == account.id
    assert (await users.account_book(4)).default == account.id  # stable across reads
    glance = await users.glance(4)
    assert glance.book.default == account.id
    credentials = await users.get_credentials(4, glance)
    assert credentials.api_key.get_secret_value() == KEY_A


async def test_the_first_change_migrates_the_old_hash_keeping_its_id(users):
    redis = users._redis
    sealed = users._cipher.encrypt(5, KEY_A)
    await redis.hset("sab:user:5", mapping={"provider": "herosms", "key": sealed, "created": 1})
    old_id = legacy_id("herosms", sealed)
    added = await users.add_account(5, "smshub", KEY_B, make_default=False)
    assert await redis.hget("sab:user:5", "key") is None
    assert await redis.hget("sab:user:5", "provider") is None
    assert await redis.hget("sab:user:5", "created") == b"1"
    book = await users.account_book(5)
    assert not book.legacy
    assert [a.id for a in book.active] == [old_id, added.id]
    assert book.default == old_id


async def test_items_from_before_several_accounts_go_by_provider(users):
    hero = await users.add_account(6, "herosms", KEY_A)
    hub = await users.add_account(6, "smshub", KEY_B)  # the default now
    book = await users.account_book(6)
    assert book.owner_of(None, "herosms").id == hero.id
    assert book.owner_of(None, "smshub").id == hub.id
    assert book.owner_of(None, "grizzly") is None
    assert book.owner_of(hero.id, "smshub") is None  # an id must match its provider
    # Removed with items open: still their account, until it is forgotten.
    await users.retire_account(6, hero.id)
    book = await users.account_book(6)
    assert book.owner_of(None, "herosms").id == hero.id
    assert book.owner_of(hero.id, "herosms").retired
    await users.forget_accounts(6, [hero.id])
    assert (await users.account_book(6)).owner_of(None, "herosms") is None
