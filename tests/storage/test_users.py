"""Users and their keys in Redis: encrypted at rest, bound to the user, language kept apart."""

from __future__ import annotations

import os
import stat

import pytest
from fakeredis import FakeAsyncRedis
from pydantic import SecretStr

from bot.config import Settings
from bot.resources import close_resources, open_resources
from bot.storage.secrets import (
    SECRET_FILE,
    KeyCipher,
    KeyDecryptionError,
    SecretKeyMismatch,
    load_or_create_secret,
)
from bot.storage.users import UserRepo

API_KEY = "A1b2C3d4E5f6G7h8I9j0-very-secret"


@pytest.fixture
def cipher() -> KeyCipher:
    return KeyCipher("a-test-secret-of-enough-length")


@pytest.fixture
async def redis():
    client = FakeAsyncRedis()
    yield client
    await client.aclose()


async def dump(redis: FakeAsyncRedis) -> bytes:
    blob = b""
    for key in await redis.keys("*"):
        kind = await redis.type(key)
        if kind == b"hash":
            blob += repr(await redis.hgetall(key)).encode()
        elif kind == b"string":
            value = await redis.get(key)
            blob += value if isinstance(value, bytes) else b""
        elif kind == b"list":
            blob += repr(await redis.lrange(key, 0, -1)).encode()
        elif kind == b"set":
            blob += repr(await redis.smembers(key)).encode()
    return blob


async def test_key_round_trip_and_never_plaintext(redis, cipher):
    users = UserRepo(redis, cipher)
    await users.set_credentials(7, "herosms", API_KEY)
    credentials = await users.get_credentials(7)
    assert credentials is not None
    assert credentials.provider == "herosms"
    assert credentials.api_key.get_secret_value() == API_KEY
    assert API_KEY not in repr(credentials)
    assert API_KEY.encode() not in await dump(redis)


async def test_ciphertext_is_bound_to_its_user(redis, cipher):
    users = UserRepo(redis, cipher)
    await users.set_credentials(1, "herosms", API_KEY)
    (account,) = (await users.account_book(1)).accounts
    await redis.hset("sab:user:2", mapping={"provider": "herosms", "key": account.sealed_key})
    assert await users.get_credentials(2) is None
    with pytest.raises(KeyDecryptionError):
        cipher.decrypt(2, account.sealed_key)


async def test_other_secret_cannot_read(redis, cipher):
    await UserRepo(redis, cipher).set_credentials(1, "smshub", API_KEY)
    other = UserRepo(redis, KeyCipher("another-secret-of-enough-length"))
    assert await other.get_credentials(1) is None


async def test_forget_account_and_has_key(redis, cipher):
    users = UserRepo(redis, cipher)
    assert not await users.has_key(3)
    await users.set_credentials(3, "smshub", API_KEY)
    assert await users.has_key(3)
    (account,) = (await users.account_book(3)).accounts
    await users.forget_accounts(3, [account.id])
    assert await users.get_credentials(3) is None
    assert not await users.has_key(3)
    assert API_KEY.encode() not in await dump(redis)


async def test_locale_apart_from_everything_else(redis, cipher):
    users = UserRepo(redis, cipher)
    assert await users.get_locale(5) is None
    await users.set_locale(5, "ru")
    assert await users.get_locale(5) == "ru"
    assert await redis.get("sab:user:5:locale") == b"ru"


async def test_recent_services_newest_first_unique_bounded(redis, cipher):
    users = UserRepo(redis, cipher)
    for code in ["tg", "wa", "go", "tg", "vk", "ok", "ig", "fb", "tw"]:
        await users.add_recent_service(9, code)
    recent = await users.recent_services(9)
    assert recent[:3] == ["tw", "fb", "ig"]
    assert len(recent) == len(set(recent)) == 6


async def test_pause_reports_first_time_only(redis, cipher):
    users = UserRepo(redis, cipher)
    assert await users.pause(4, "BAD_KEY")
    assert not await users.pause(4, "BAD_KEY")
    assert await users.is_paused(4)
    await users.set_credentials(4, "smshub", API_KEY)
    assert not await users.is_paused(4)


def test_generated_secret_is_private_and_stable(tmp_path, caplog):
    first = load_or_create_secret(None, tmp_path)
    path = tmp_path / SECRET_FILE
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    assert "SECRET_KEY is not set" in caplog.text
    assert load_or_create_secret(None, tmp_path).get_secret_value() == first.get_secret_value()
    assert first.get_secret_value() not in caplog.text
    configured = SecretStr("configured-secret-value")
    assert load_or_create_secret(configured, tmp_path) is configured


def test_short_secret_is_refused():
    with pytest.raises(ValueError, match="at least 16"):
        KeyCipher("short")


# --- a changed SECRET_KEY is caught at start, not discovered user by user ---


async def test_first_start_stores_a_check_that_only_the_same_key_passes(redis, cipher):
    await UserRepo(redis, cipher).check_secret()
    await UserRepo(redis, KeyCipher(SecretStr("a-test-secret-of-enough-length"))).check_secret()
    with pytest.raises(SecretKeyMismatch, match="SECRET_KEY"):
        await UserRepo(redis, KeyCipher(SecretStr("another-secret-key-0123"))).check_secret()


async def test_a_deployment_from_before_the_check_is_tried_against_its_keys(redis, cipher):
    users = UserRepo(redis, cipher)
    for uid in (5, 6):
        await users.register(uid)
        await users.set_credentials(uid, "herosms", f"key-{uid}")
    # No check value yet (stored keys from an older version): the keys themselves tell.
    with pytest.raises(SecretKeyMismatch, match="2 stored API keys"):
        await UserRepo(redis, KeyCipher(SecretStr("another-secret-key-0123"))).check_secret()
    await users.check_secret()
    assert await users.get_credentials(5) is not None


async def test_a_wrong_secret_key_stops_the_start_and_its_embedded_redis(tmp_path):
    settings = Settings(_env_file=None, DATA_DIR=tmp_path, SECRET_KEY="the-first-secret-key")
    resources = await open_resources(settings, redis=FakeAsyncRedis())
    await close_resources(resources)
    redis = FakeAsyncRedis()
    await UserRepo(redis, KeyCipher(SecretStr("the-first-secret-key"))).check_secret()
    changed = Settings(_env_file=None, DATA_DIR=tmp_path, SECRET_KEY="a-changed-secret-key")
    with pytest.raises(SecretKeyMismatch):
        await open_resources(changed, redis=redis)
