"""bot.botapi against FakeTelegram: what lands in the chat, and how refusals are classified."""

from __future__ import annotations

import subprocess
import sys
import traceback
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager

import httpx
import pytest
import pytest_asyncio

from bot.botapi import (
    BotApi,
    BotUser,
    TelegramBadRequest,
    TelegramError,
    TelegramForbidden,
    TelegramMigrateToChat,
    TelegramNetworkError,
    TelegramNotFound,
    TelegramRetryAfter,
    TelegramServerError,
    TelegramUnauthorized,
    is_harmless,
)
from bot.keyboards.markup import Button, Keyboard
from tests.faketg import FakeTelegram, UserSide
from tests.faketg import errors as tg_errors
from tests.faketg.transport import FakeTelegramTransport

TOKEN = "123456:TEST-TOKEN"
KEYBOARD = Keyboard(
    [
        [Button("Cancel", callback_data="act:cancel:7"), Button("Again", callback_data="act:r:7")],
        [Button("Help", url="https://example.com/help")],
    ]
)


@pytest_asyncio.fixture
async def server() -> AsyncIterator[FakeTelegram]:
    # Not started: the transport serves it without sockets.
    yield FakeTelegram(TOKEN)


@pytest_asyncio.fixture
async def api(server: FakeTelegram) -> AsyncIterator[BotApi]:
    client = BotApi(TOKEN, transport=FakeTelegramTransport(server))
    try:
        yield client
    finally:
        await client.aclose()


async def started_user(server: FakeTelegram) -> UserSide:
    """A user who wrote to the bot first, so the bot may write to them."""
    user = server.user(first_name="Bob")
    await user.send("/start")
    return user


@asynccontextmanager
async def mock_api(answer: Callable[[httpx.Request], httpx.Response]) -> AsyncIterator[BotApi]:
    """A client whose every call ``answer`` serves (or fails), closed after the test."""
    api = BotApi(TOKEN, transport=httpx.MockTransport(answer))
    try:
        yield api
    finally:
        await api.aclose()


async def test_send_message_with_keyboard_and_reply(server: FakeTelegram, api: BotApi) -> None:
    user = await started_user(server)
    asked = await user.send("code please")

    message_id = await api.send_message(
        user.chat_id,
        "Code: <b>1234</b> <a href='https://x.org'>x</a>",
        reply_markup=KEYBOARD,
        reply_to=asked.message_id,
    )

    sent = user.message(message_id)
    assert sent.from_bot
    assert sent.text == "Code: 1234 x"
    assert [e["type"] for e in sent.entities] == ["bold", "text_link"]
    assert sent.reply_to_message_id == asked.message_id
    assert sent.buttons == [
        [("Cancel", "act:cancel:7"), ("Again", "act:r:7")],
        [("Help", "https://example.com/help")],
    ]
    params = server.calls_to("sendMessage")[-1].params
    assert params["parse_mode"] == "HTML"
    assert params["link_preview_options"] == {"is_disabled": True}
    assert params["reply_parameters"] == {
        "message_id": asked.message_id,
        "allow_sending_without_reply": True,
    }


async def test_send_message_without_extras_omits_them(server: FakeTelegram, api: BotApi) -> None:
    user = await started_user(server)

    message_id = await api.send_message(user.chat_id, "plain")

    assert user.message(message_id).reply_markup is None
    params = server.calls_to("sendMessage")[-1].params
    assert "reply_markup" not in params
    assert "reply_parameters" not in params


async def test_a_reply_to_a_deleted_message_is_still_sent(
    server: FakeTelegram, api: BotApi
) -> None:
    user = await started_user(server)

    message_id = await api.send_message(user.chat_id, "late", reply_to=999)

    assert user.message(message_id).reply_to_message_id is None


async def test_edit_message_text(server: FakeTelegram, api: BotApi) -> None:
    user = await started_user(server)
    message_id = await api.send_message(user.chat_id, "waiting", reply_markup=KEYBOARD)

    await api.edit_message_text(user.chat_id, message_id, "<i>done</i>")

    edited = user.message(message_id)
    assert edited.text == "done"
    assert [e["type"] for e in edited.entities] == ["italic"]
    assert edited.edits == 1
    assert edited.buttons == []  # an edit without reply_markup drops the buttons

    await api.edit_message_text(user.chat_id, message_id, "again", reply_markup=KEYBOARD)
    assert user.message(message_id).buttons[0][0] == ("Cancel", "act:cancel:7")


async def test_an_unchanged_edit_is_a_harmless_bad_request(
    server: FakeTelegram, api: BotApi
) -> None:
    user = await started_user(server)
    message_id = await api.send_message(user.chat_id, "same", reply_markup=KEYBOARD)

    with pytest.raises(TelegramBadRequest) as caught:
        await api.edit_message_text(user.chat_id, message_id, "same", reply_markup=KEYBOARD)

    assert caught.value.message == tg_errors.MESSAGE_NOT_MODIFIED
    assert is_harmless(caught.value.message)


async def test_editing_a_missing_message_is_harmless_but_a_bad_chat_is_not(
    server: FakeTelegram, api: BotApi
) -> None:
    user = await started_user(server)

    with pytest.raises(TelegramBadRequest) as missing:
        await api.edit_message_text(user.chat_id, 4242, "x")
    with pytest.raises(TelegramBadRequest) as bad_chat:
        await api.send_message(77, "x")

    assert is_harmless(missing.value.message)
    assert bad_chat.value.message == tg_errors.CHAT_NOT_FOUND
    assert not is_harmless(bad_chat.value.message)


async def test_a_user_who_blocked_the_bot_is_forbidden(server: FakeTelegram, api: BotApi) -> None:
    user = await started_user(server)
    user.block_bot()

    with pytest.raises(TelegramForbidden) as caught:
        await api.send_message(user.chat_id, "hello")

    assert caught.value.message == tg_errors.BOT_BLOCKED
    assert user.bot_messages == []


async def test_flood_control_gives_retry_after(server: FakeTelegram, api: BotApi) -> None:
    user = await started_user(server)
    server.set_flood(1.0, retry_after=7, methods=["sendMessage"])

    with pytest.raises(TelegramRetryAfter) as caught:
        await api.send_message(user.chat_id, "hello")

    assert caught.value.retry_after == 7.0
    assert "retry after 7" in caught.value.message


async def test_retry_after_wins_over_the_status(server: FakeTelegram, api: BotApi) -> None:
    # aiogram looks at parameters before the status: a 400 carrying retry_after still waits.
    user = await started_user(server)
    server.fail_next("sendMessage", 400, "Bad Request: slow down", parameters={"retry_after": 2})
    server.fail_next(
        "sendMessage", 400, "Bad Request: group upgraded", parameters={"migrate_to_chat_id": -100}
    )

    with pytest.raises(TelegramRetryAfter):
        await api.send_message(user.chat_id, "hello")
    with pytest.raises(TelegramMigrateToChat) as migrated:
        await api.send_message(user.chat_id, "hello")

    assert migrated.value.migrate_to_chat_id == -100


@pytest.mark.parametrize(
    ("status", "expected"),
    [(404, TelegramNotFound), (500, TelegramServerError), (502, TelegramServerError)],
)
async def test_statuses_map_to_classes(
    server: FakeTelegram, api: BotApi, status: int, expected: type[TelegramError]
) -> None:
    user = await started_user(server)
    server.fail_next("sendMessage", status, "Gateway trouble")

    with pytest.raises(expected) as caught:
        await api.send_message(user.chat_id, "hello")

    assert caught.value.message == "Gateway trouble"


async def test_other_refusals_are_plain_telegram_errors(server: FakeTelegram, api: BotApi) -> None:
    user = await started_user(server)
    server.fail_next("sendMessage", 413, "Request Entity Too Large")

    with pytest.raises(TelegramError) as caught:
        await api.send_message(user.chat_id, "hello")

    assert type(caught.value) is TelegramError


async def test_a_wrong_token_is_unauthorized(server: FakeTelegram) -> None:
    wrong = BotApi("999:WRONG", transport=FakeTelegramTransport(server))
    try:
        with pytest.raises(TelegramUnauthorized) as caught:
            await wrong.get_me()
    finally:
        await wrong.aclose()

    assert caught.value.message == tg_errors.UNAUTHORIZED


async def test_get_me(api: BotApi) -> None:
    assert await api.get_me() == BotUser(
        id=123456, username="fake_test_bot", first_name="Test Bot"
    )


async def test_a_connection_error_is_a_network_error_without_the_token() -> None:
    def refuse(request: httpx.Request) -> httpx.Response:
        # httpx messages may quote the URL; make this one do so on purpose.
        raise httpx.ConnectError(f"cannot connect to {request.url}", request=request)

    async with mock_api(refuse) as api:
        with pytest.raises(TelegramNetworkError) as caught:
            await api.send_message(1, "hello")

    error = caught.value
    printed = "".join(traceback.format_exception(error))
    assert "ConnectError" in error.message
    assert "sendMessage" in error.message
    for shown in (str(error), repr(error), error.message, printed, repr(api)):
        assert TOKEN not in shown
    assert "<token>" in str(error)


async def test_a_timeout_is_a_network_error() -> None:
    def hang(request: httpx.Request) -> httpx.Response:
        raise httpx.ReadTimeout("", request=request)

    async with mock_api(hang) as api:
        with pytest.raises(TelegramNetworkError, match="ReadTimeout"):
            await api.get_me()


@pytest.mark.parametrize(
    ("status", "expected"),
    [(502, TelegramServerError), (200, TelegramNetworkError), (403, TelegramNetworkError)],
)
async def test_a_body_that_is_not_the_bot_api(status: int, expected: type[TelegramError]) -> None:
    # A proxy's HTML page: aiogram raises ClientDecodeError, which nothing in the worker
    # catches. A 5xx is Telegram (or its front) being down, as for any 5xx; otherwise the
    # link answered garbage. Both are transient for the worker.
    def gateway(request: httpx.Request) -> httpx.Response:
        return httpx.Response(status, text="<html><h1>502 Bad Gateway</h1></html>")

    async with mock_api(gateway) as api:
        with pytest.raises(expected) as caught:
            await api.send_message(1, "hello")

    assert type(caught.value) is expected
    assert f"HTTP {status}" in caught.value.message


def test_is_harmless_phrases() -> None:
    assert is_harmless("Bad Request: message can't be deleted")
    assert is_harmless(tg_errors.MESSAGE_CANT_BE_EDITED)
    assert not is_harmless(tg_errors.MESSAGE_TOO_LONG)
    assert not is_harmless("")


def test_importing_botapi_does_not_load_aiogram() -> None:
    code = (
        "import sys, bot.botapi; "
        "print(sorted(m for m in sys.modules if m.split('.')[0] == 'aiogram'))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    ).stdout
    assert out.strip() == "[]"


async def test_over_loopback_http() -> None:
    """JSON bodies as they cross the wire, read by FakeTelegram's aiohttp server."""
    async with FakeTelegram(TOKEN) as served:
        user = await started_user(served)
        api = BotApi(TOKEN, served.base_url + "/")
        wrong = BotApi("1:NOPE", served.base_url)
        try:
            message_id = await api.send_message(
                user.chat_id, "<b>over</b> HTTP", reply_markup=KEYBOARD, reply_to=1
            )
            await api.edit_message_text(user.chat_id, message_id, "edited", reply_markup=KEYBOARD)
            with pytest.raises(TelegramBadRequest) as same:
                await api.edit_message_text(
                    user.chat_id, message_id, "edited", reply_markup=KEYBOARD
                )
            with pytest.raises(TelegramUnauthorized):
                await wrong.get_me()
            me = await api.get_me()
        finally:
            await api.aclose()
            await wrong.aclose()

    sent = user.message(message_id)
    assert sent.text == "edited"
    assert sent.reply_to_message_id == 1
    assert sent.buttons[1] == [("Help", "https://example.com/help")]
    assert is_harmless(same.value.message)
    assert me.username == "fake_test_bot"
