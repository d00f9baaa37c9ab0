"""No key lingers: a message with an API key is deleted at any step, in groups too, even when
throttled; and when Telegram will not delete it, the bot says so instead of claiming it did."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.handlers.keys import KeyForm
from bot.middlewares.key_guard import KEY_STATE, carries_key, looks_like_key
from tests.faketg import errors as tg_errors
from tests.harness import GOOD_KEY, Harness, running_harness

PASTED_KEY = "9f3c2a7b41d84e6c0a5b7d9e1f2c3a4b"  # the shape of a real provider key

NOT_DELETED = {"en": "I could not delete your message with the key", "ru": "Не удалось удалить"}


@pytest.mark.parametrize("language", ["en", "ru"])
async def test_a_key_message_telegram_will_not_delete_is_not_called_deleted(
    harness: Harness, language: str
) -> None:
    user = await harness.chose_provider(language=language)
    harness.server.fail_next("deleteMessage", 400, tg_errors.MESSAGE_CANT_BE_DELETED)
    sent = await user.send(GOOD_KEY)
    assert not user.deleted(sent)
    reply = user.last().text
    assert NOT_DELETED[language] in reply
    assert "I deleted" not in reply
    assert await harness.resources.users.get_credentials(user.id) is not None


async def test_a_key_in_a_group_is_deleted_or_flagged_for_replacement(harness: Harness) -> None:
    group = harness.group()
    await group.send(f"/key {PASTED_KEY}")
    await harness.feed()
    reply = group.last_bot_message().text
    assert "seen by everyone" in reply
    assert "create a new key" in reply


async def test_a_key_pasted_at_another_step_is_deleted_not_searched(harness: Harness) -> None:
    user = await harness.connected()
    await user.send("/buy")
    services = user.last()
    sent = await user.send(PASTED_KEY)
    assert user.deleted(sent)
    assert "I deleted your message with the key" in user.last().text
    assert "/key" in user.last().text
    assert user.message(services.message_id).text == services.text  # the step did not move


async def test_a_throttled_key_is_still_deleted(tmp_path: Path) -> None:
    async with running_harness(tmp_path, THROTTLE_RATE=2, THROTTLE_WINDOW=60) as harness:
        user = harness.user()
        for _ in range(3):
            await user.send("/help")
        sent = await user.send(PASTED_KEY)
        assert user.deleted(sent)


@pytest.mark.parametrize(
    ("text", "key"),
    [
        (PASTED_KEY, True),
        (f"/key {PASTED_KEY}", True),
        ("/key@sms_bot abc", True),
        ("/key", False),
        ("telegram", False),
        ("indonesia", False),
        ("62812, 62813", False),
        ("apple.com", False),
        ("0.25", False),
        ("WhatsApp2024", False),
    ],
)
def test_what_counts_as_a_key(text: str, key: bool) -> None:
    assert carries_key(text) is key


def test_a_key_has_letters_and_digits_mixed() -> None:
    assert not looks_like_key("a" * 32)
    assert not looks_like_key("1" * 32)
    assert looks_like_key(GOOD_KEY)


def test_the_guard_knows_the_key_dialog_by_its_real_state_name() -> None:
    # The middleware cannot import the handlers (they sit above it): the name is pinned here.
    assert KeyForm.waiting_key.state == KEY_STATE
