"""The fake Telegram server, driven by the real aiogram client and a tiny dispatcher."""

from __future__ import annotations

import asyncio
import html
import os
import sys
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import aiohttp
import pytest
from aiogram import Bot, Dispatcher, F, Router
from aiogram.client.session.aiohttp import AiohttpSession
from aiogram.client.telegram import TelegramAPIServer
from aiogram.exceptions import (
    TelegramBadRequest,
    TelegramConflictError,
    TelegramForbiddenError,
    TelegramRetryAfter,
    TelegramUnauthorizedError,
)
from aiogram.filters import Command, CommandStart
from aiogram.methods import SendMessage
from aiogram.types import (
    BotCommand,
    BotCommandScopeAllPrivateChats,
    CallbackQuery,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    KeyboardButton,
    Message,
    ReplyKeyboardMarkup,
)
from aiogram.webhook.aiohttp_server import SimpleRequestHandler
from aiohttp import web

from tests.faketg import FakeTelegram, UserSide
from tests.faketg import errors as tg_errors
from tests.faketg.fixtures import fake_bot, fake_telegram, polling
from tests.faketg.markup import EntityParseError, parse_html

__all__ = ["fake_bot", "fake_telegram"]

COUNT = "count"
CLOSE = "close"


def menu_keyboard() -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup(
        inline_keyboard=[
            [
                InlineKeyboardButton(text="Count", callback_data=COUNT),
                InlineKeyboardButton(text="Close", callback_data=CLOSE),
            ],
            [InlineKeyboardButton(text="Site", url="https://example.com")],
        ]
    )


def build_dispatcher() -> Dispatcher:
    """Echo, a menu with an inline keyboard, and callbacks that edit it."""
    router = Router(name="faketg-test")
    counts: dict[int, int] = {}

    @router.message(CommandStart())
    async def start(message: Message) -> None:
        name = html.escape(message.from_user.first_name if message.from_user else "")
        await message.answer(f"Welcome, <b>{name}</b>!", reply_markup=menu_keyboard())

    @router.callback_query(F.data == COUNT)
    async def count(query: CallbackQuery) -> None:
        counts[query.from_user.id] = counts.get(query.from_user.id, 0) + 1
        if isinstance(query.message, Message):
            await query.message.edit_text(
                f"Count: {counts[query.from_user.id]}", reply_markup=menu_keyboard()
            )
        await query.answer("counted")

    @router.callback_query(F.data == CLOSE)
    async def close(query: CallbackQuery) -> None:
        if isinstance(query.message, Message):
            await query.message.edit_reply_markup(reply_markup=None)
        await query.answer()

    @router.callback_query()
    async def unknown(query: CallbackQuery) -> None:
        # Callback data is never trusted: anything unexpected gets a refusal.
        await query.answer("Unknown action", show_alert=True)

    @router.message(Command("reply"))
    async def reply_in_webhook_response(message: Message) -> SendMessage:
        return message.answer("answered in the webhook response")

    @router.message()
    async def echo(message: Message) -> None:
        await message.answer(html.escape(message.text or ""))

    dispatcher = Dispatcher()
    dispatcher.include_router(router)
    return dispatcher


async def api(
    server: FakeTelegram,
    method: str,
    *,
    token: str | None = None,
    http_method: str = "POST",
    **kwargs: Any,
) -> tuple[int, dict[str, Any]]:
    """A raw Bot API request, for what aiogram would hide or never send."""
    url = f"{server.base_url}/bot{token or server.token}/{method}"
    async with (
        aiohttp.ClientSession() as session,
        session.request(http_method, url, **kwargs) as response,
    ):
        body: dict[str, Any] = await response.json()
        return response.status, body


async def started_user(server: FakeTelegram, user_id: int = 111) -> UserSide:
    """A user who has opened the chat, so the bot may write to them."""
    user = server.user(user_id)
    await user.send("hi")
    return user


# Routing and authorization


async def test_get_me_describes_the_bot(fake_bot: Bot) -> None:
    me = await fake_bot.get_me()
    assert (me.id, me.is_bot, me.username) == (123456, True, "fake_test_bot")


async def test_wrong_token_is_unauthorized(fake_telegram: FakeTelegram) -> None:
    status, body = await api(fake_telegram, "getMe", token="654321:WRONG")
    assert (status, body) == (401, {"ok": False, "error_code": 401, "description": "Unauthorized"})
    session = AiohttpSession(api=TelegramAPIServer.from_base(fake_telegram.base_url))
    bot = Bot("654321:WRONG", session=session)
    try:
        with pytest.raises(TelegramUnauthorizedError):
            await bot.get_me()
    finally:
        await bot.session.close()


async def test_unknown_method_and_path_are_not_found(fake_telegram: FakeTelegram) -> None:
    status, body = await api(fake_telegram, "sendTelepathy")
    assert status == 404
    assert body == {"ok": False, "error_code": 404, "description": "Not Found: method not found"}
    async with aiohttp.ClientSession() as session, session.get(fake_telegram.base_url) as response:
        assert response.status == 404
        assert (await response.json())["description"] == "Not Found"


async def test_method_names_are_case_insensitive(fake_telegram: FakeTelegram) -> None:
    status, body = await api(fake_telegram, "GETME", http_method="GET")
    assert status == 200
    assert body["result"]["username"] == "fake_test_bot"
    assert fake_telegram.calls_to("getMe")[0].method == "getMe"


# Parameter encodings


async def test_every_parameter_encoding_reaches_the_method(fake_telegram: FakeTelegram) -> None:
    user = await started_user(fake_telegram)
    markup = '{"inline_keyboard": [[{"text": "Go", "callback_data": "go"}]]}'
    base = {"chat_id": str(user.id), "reply_markup": markup}
    multipart = aiohttp.FormData({**base, "text": "multipart"}, default_to_multipart=True)
    assert multipart.is_multipart
    requests: list[dict[str, Any]] = [
        {
            "json": {
                "chat_id": user.id,
                "text": "json",
                "reply_markup": {"inline_keyboard": [[{"text": "Go", "callback_data": "go"}]]},
            }
        },
        {"data": multipart},
        {"data": {**base, "text": "urlencoded"}},
        {"params": {**base, "text": "query"}, "http_method": "GET"},
    ]
    for request in requests:
        status, body = await api(fake_telegram, "sendMessage", **request)
        assert status == 200, body
        assert body["result"]["reply_markup"] == {
            "inline_keyboard": [[{"text": "Go", "callback_data": "go"}]]
        }
    assert [message.text for message in user.bot_messages] == [
        "json",
        "multipart",
        "urlencoded",
        "query",
    ]
    for call in fake_telegram.calls_to("sendMessage"):
        assert call.params["chat_id"] == user.id
        assert call.params["reply_markup"]["inline_keyboard"][0][0]["text"] == "Go"


# Long polling


async def test_updates_stay_until_confirmed_by_offset(
    fake_telegram: FakeTelegram, fake_bot: Bot
) -> None:
    user = fake_telegram.user(111)
    for text in ("/start", "two", "three"):
        await user.send(text)
    first = await fake_bot.get_updates()
    assert [update.message.text for update in first if update.message] == [
        "/start",
        "two",
        "three",
    ]
    ids = [update.update_id for update in first]
    assert ids == sorted(ids)
    assert len(set(ids)) == 3
    start = first[0].message
    assert start is not None
    assert start.entities is not None
    assert start.entities[0].type == "bot_command"
    assert start.from_user is not None
    assert start.chat.id == user.id == start.from_user.id

    assert [update.update_id for update in await fake_bot.get_updates()] == ids
    assert [u.update_id for u in await fake_bot.get_updates(offset=ids[1])] == ids[1:]
    # The earlier call confirmed the first update: it is gone even without an offset.
    assert [update.update_id for update in await fake_bot.get_updates()] == ids[1:]
    assert await fake_bot.get_updates(offset=ids[-1] + 1) == []


async def test_negative_offset_and_limit(fake_telegram: FakeTelegram, fake_bot: Bot) -> None:
    user = fake_telegram.user(111)
    for number in range(5):
        await user.send(f"m{number}")
    assert len(await fake_bot.get_updates(limit=2)) == 2
    last_two = await fake_bot.get_updates(offset=-2)
    assert [update.message.text for update in last_two if update.message] == ["m3", "m4"]
    # A negative offset forgets everything before it.
    assert len(await fake_bot.get_updates()) == 2


async def test_allowed_updates_filter_new_updates(
    fake_telegram: FakeTelegram, fake_bot: Bot
) -> None:
    user = await started_user(fake_telegram)
    await fake_bot.send_message(user.id, "Pick", reply_markup=menu_keyboard())
    await fake_bot.get_updates(offset=-1, allowed_updates=["callback_query"])
    await fake_bot.get_updates(offset=fake_telegram.pending_updates[-1]["update_id"] + 1)
    await user.send("ignored: not an allowed update type")
    await user.press("Count")
    updates = await fake_bot.get_updates()
    assert [update.event_type for update in updates] == ["callback_query"]
    # The setting sticks until a later call changes it; an empty list restores the default.
    await fake_bot.get_updates(offset=updates[-1].update_id + 1, allowed_updates=[])
    await user.send("seen again")
    assert len(await fake_bot.get_updates()) == 1


async def test_long_poll_holds_until_an_update_arrives(
    fake_telegram: FakeTelegram, fake_bot: Bot
) -> None:
    user = fake_telegram.user(111)
    started = time.monotonic()
    poll = asyncio.create_task(fake_bot.get_updates(timeout=10))
    await asyncio.sleep(0.2)
    assert not poll.done()
    await user.send("wake up")
    updates = await asyncio.wait_for(poll, 2)
    assert [update.message.text for update in updates if update.message] == ["wake up"]
    assert time.monotonic() - started < 2


async def test_long_poll_returns_empty_after_timeout(fake_bot: Bot) -> None:
    started = time.monotonic()
    assert await fake_bot.get_updates(timeout=1) == []
    assert 0.9 <= time.monotonic() - started < 3


async def test_a_second_poller_terminates_the_first(
    fake_telegram: FakeTelegram, fake_bot: Bot
) -> None:
    first = asyncio.create_task(fake_bot.get_updates(timeout=10))
    await asyncio.sleep(0.1)
    second = asyncio.create_task(fake_bot.get_updates(timeout=10))
    with pytest.raises(TelegramConflictError) as conflict:
        await asyncio.wait_for(first, 2)
    assert conflict.value.message == tg_errors.TERMINATED_BY_GET_UPDATES
    await fake_telegram.user(111).send("hello")
    assert len(await asyncio.wait_for(second, 2)) == 1


async def test_polling_dispatcher_sees_each_update_once(
    fake_telegram: FakeTelegram, fake_bot: Bot
) -> None:
    user = fake_telegram.user(111)
    sent = [f"message {number}" for number in range(30)]
    async with polling(build_dispatcher(), fake_bot):
        for text in sent:
            await user.send(text)
        await user.wait_for(lambda _: len(user.bot_messages) >= len(sent))
        await fake_telegram.wait_idle()
    echoes = [message.text for message in user.bot_messages]
    assert sorted(echoes) == sorted(sent)
    offsets = [call.params.get("offset", 0) for call in fake_telegram.calls_to("getUpdates")]
    assert offsets == sorted(offsets)
    assert fake_telegram.pending_updates == []


# Buttons and callback queries


async def test_user_presses_only_buttons_the_bot_shows(
    fake_telegram: FakeTelegram, fake_bot: Bot
) -> None:
    user = fake_telegram.user(111, first_name="Alice")
    async with polling(build_dispatcher(), fake_bot):
        await user.send("/start")
        menu = await user.wait_for("Welcome")
        assert menu.text == "Welcome, Alice!"
        assert menu.html == "Welcome, <b>Alice</b>!"
        assert menu.buttons == [
            [("Count", COUNT), ("Close", CLOSE)],
            [("Site", "https://example.com")],
        ]

        query_id = await user.press("Count")
        assert (await user.wait_for("Count: 1")) is menu
        assert (await user.wait_for_answer(query_id)).text == "counted"
        await user.press(COUNT, menu)
        assert (await user.wait_for("Count: 2")).edits == 2

        with pytest.raises(AssertionError, match="no visible bot message shows"):
            await user.press("Delete everything")
        with pytest.raises(AssertionError, match="not a callback button"):
            await user.press("Site")

        await user.press("Close")
        await user.wait_for(lambda message: not message.buttons)
        with pytest.raises(AssertionError, match="has no button"):
            await user.press("Count", menu)
        await fake_telegram.wait_idle()
    assert user.callback_answers[query_id].text == "counted"


async def test_forged_callback_data_reaches_the_bot(
    fake_telegram: FakeTelegram, fake_bot: Bot
) -> None:
    user = fake_telegram.user(111)
    async with polling(build_dispatcher(), fake_bot):
        await user.send("/start")
        menu = await user.wait_for("Welcome")
        forged = await user.press_data(menu.message_id, "admin:wipe")
        answer = await user.wait_for_answer(forged)
        assert (answer.text, answer.show_alert) == ("Unknown action", True)
        stale = await user.press_data(9999, COUNT)
        # The message is inaccessible, so the handler cannot edit; it still answers.
        assert (await user.wait_for_answer(stale)).text == "counted"


async def test_a_callback_query_is_answered_once(
    fake_telegram: FakeTelegram, fake_bot: Bot
) -> None:
    user = await started_user(fake_telegram)
    await fake_bot.send_message(user.id, "Pick", reply_markup=menu_keyboard())
    query_id = await user.press("Count")
    assert await fake_bot.answer_callback_query(query_id, text="done", show_alert=True)
    assert user.callback_answers[query_id].show_alert is True
    for bad_id in (query_id, "12345"):
        with pytest.raises(TelegramBadRequest) as error:
            await fake_bot.answer_callback_query(bad_id)
        assert error.value.message == tg_errors.QUERY_ID_INVALID


async def test_callback_data_is_limited_to_64_bytes(
    fake_telegram: FakeTelegram, fake_bot: Bot
) -> None:
    user = await started_user(fake_telegram)

    def keyboard(data: str) -> InlineKeyboardMarkup:
        return InlineKeyboardMarkup(
            inline_keyboard=[[InlineKeyboardButton(text="x", callback_data=data)]]
        )

    await fake_bot.send_message(user.id, "fits", reply_markup=keyboard("é" * 32))
    with pytest.raises(TelegramBadRequest) as error:
        await fake_bot.send_message(user.id, "too long", reply_markup=keyboard("é" * 32 + "x"))
    assert error.value.message == "Bad Request: BUTTON_DATA_INVALID"


@pytest.mark.parametrize(
    ("markup", "description"),
    [
        (
            '{"inline_keyboard": [{"text": "a", "callback_data": "b"}]}',
            'field "inline_keyboard" of the InlineKeyboardMarkup must be an Array of Arrays',
        ),
        (
            '{"inline_keyboard": [["a"]]}',
            "can't parse inline keyboard button: InlineKeyboardButton must be an Object",
        ),
        (
            '{"inline_keyboard": [[{"text": "a"}]]}',
            "can't parse inline keyboard button: Text buttons are unallowed in the inline "
            "keyboard",
        ),
        (
            '{"inline_keyboard": [[{"callback_data": "a"}]]}',
            "can't parse inline keyboard button: Can't find field \"text\"",
        ),
        ('{"inline_keyboard": ', "can't parse reply keyboard markup JSON object"),
        ("[]", "object expected as reply markup"),
    ],
)
async def test_malformed_inline_keyboards_are_rejected(
    fake_telegram: FakeTelegram, markup: str, description: str
) -> None:
    user = await started_user(fake_telegram)
    status, body = await api(
        fake_telegram,
        "sendMessage",
        data={"chat_id": str(user.id), "text": "x", "reply_markup": markup},
    )
    assert (status, body["description"]) == (400, f"Bad Request: {description}")


async def test_reply_keyboard_sits_under_the_input_field(
    fake_telegram: FakeTelegram, fake_bot: Bot
) -> None:
    user = await started_user(fake_telegram)
    keyboard = ReplyKeyboardMarkup(keyboard=[[KeyboardButton(text="Balance")]])
    message = await fake_bot.send_message(user.id, "Menu", reply_markup=keyboard)
    assert message.reply_markup is None
    assert user.reply_keyboard == [["Balance"]]


# Messages: text, HTML, edits, deletions


async def test_text_rules(fake_telegram: FakeTelegram, fake_bot: Bot) -> None:
    user = await started_user(fake_telegram)
    for empty in ("", "<b> </b>", "   "):
        with pytest.raises(TelegramBadRequest) as error:
            await fake_bot.send_message(user.id, empty)
        assert error.value.message == "Bad Request: message text is empty"
    # The limit applies after entity parsing: "&lt;" is one character.
    await fake_bot.send_message(user.id, "&lt;" * 4096)
    for too_long in ("x" * 4097, "&lt;" * 4097):
        with pytest.raises(TelegramBadRequest) as error:
            await fake_bot.send_message(user.id, too_long)
        assert error.value.message == "Bad Request: message is too long"
    trimmed = await fake_bot.send_message(user.id, "  <b>hi</b>  \n")
    assert trimmed.text == "hi"
    assert trimmed.entities is not None
    assert trimmed.entities[0].length == 2


@pytest.mark.parametrize(
    ("source", "reason"),
    [
        ("<b>bold", 'Can\'t find end tag corresponding to start tag "b"'),
        ("a < b", 'Unsupported start tag "" at byte offset 2'),
        ("line<br>break", 'Unsupported start tag "br" at byte offset 4'),
        ("<b>x</i>", 'Unmatched end tag at byte offset 4, expected "</b>", found "</i>"'),
        ("x</b>", "Unexpected end tag at byte offset 1"),
        ("<span>x</span>", 'Tag "span" must have class "tg-spoiler" at byte offset 0'),
        ("é<b", "Unclosed start tag at byte offset 2"),
        ('<a href="x>t</a>', "Unclosed start tag at byte offset 9"),
        ("<b =x>y</b>", 'Empty attribute name in the tag "b" at byte offset 0'),
        ('<tg-emoji emoji-id="no">🙂</tg-emoji>', "Invalid custom emoji identifier specified"),
    ],
)
async def test_bad_html_is_rejected_like_telegram(
    fake_telegram: FakeTelegram, fake_bot: Bot, source: str, reason: str
) -> None:
    user = await started_user(fake_telegram)
    with pytest.raises(TelegramBadRequest) as error:
        await fake_bot.send_message(user.id, source)
    assert error.value.message == f"Bad Request: can't parse entities: {reason}"


def test_html_becomes_plain_text_and_entities() -> None:
    parsed = parse_html(
        '<b>b</b> <strong>s</strong> <i>i</i> <u>u</u> <s>x</s> <a href="https://e.com">link</a> '
        '<code>c</code> <pre><code class="language-python">p</code></pre> '
        '<tg-spoiler>h</tg-spoiler> <span class="tg-spoiler">h</span> '
        '<blockquote expandable>q</blockquote> <tg-emoji emoji-id="5368324170671202286">👍'
        "</tg-emoji> &lt;&gt;&amp;&quot;&#128512;"
    )
    assert parsed.text == 'b s i u x link c p h h q 👍 <>&"😀'
    kinds = [(entity["type"], entity["offset"], entity["length"]) for entity in parsed.entities]
    assert kinds == [
        ("bold", 0, 1),
        ("bold", 2, 1),
        ("italic", 4, 1),
        ("underline", 6, 1),
        ("strikethrough", 8, 1),
        ("text_link", 10, 4),
        ("code", 15, 1),
        ("pre", 17, 1),
        ("spoiler", 19, 1),
        ("spoiler", 21, 1),
        ("expandable_blockquote", 23, 1),
        ("custom_emoji", 25, 2),
    ]
    assert parsed.entities[5]["url"] == "https://e.com"
    assert parsed.entities[7]["language"] == "python"
    with pytest.raises(EntityParseError):
        parse_html("<unknown>")


async def test_edits_follow_telegram_rules(fake_telegram: FakeTelegram, fake_bot: Bot) -> None:
    user = await started_user(fake_telegram)
    sent = await fake_bot.send_message(user.id, "<b>Menu</b>", reply_markup=menu_keyboard())

    with pytest.raises(TelegramBadRequest) as error:
        await fake_bot.edit_message_text(
            "<b>Menu</b>",
            chat_id=user.id,
            message_id=sent.message_id,
            reply_markup=menu_keyboard(),
        )
    assert error.value.message == tg_errors.MESSAGE_NOT_MODIFIED
    # Same text without the bold entity is a change.
    await fake_bot.edit_message_text(
        "Menu", chat_id=user.id, message_id=sent.message_id, reply_markup=menu_keyboard()
    )
    # An edit without reply_markup drops the keyboard, as on Telegram.
    await fake_bot.edit_message_text("Menu", chat_id=user.id, message_id=sent.message_id)
    shown = user.last_bot_message()
    assert (shown.text, shown.buttons, shown.edits) == ("Menu", [], 2)
    with pytest.raises(TelegramBadRequest) as error:
        await fake_bot.edit_message_reply_markup(chat_id=user.id, message_id=sent.message_id)
    assert error.value.message == tg_errors.MESSAGE_NOT_MODIFIED

    with pytest.raises(TelegramBadRequest) as error:
        await fake_bot.edit_message_text("x", chat_id=user.id, message_id=9999)
    assert error.value.message == "Bad Request: message to edit not found"
    with pytest.raises(TelegramBadRequest) as error:
        await fake_bot.edit_message_text(
            "x", chat_id=user.id, message_id=user.messages[0].message_id
        )
    assert error.value.message == "Bad Request: message can't be edited"


async def test_deleted_messages_leave_the_chat(fake_telegram: FakeTelegram, fake_bot: Bot) -> None:
    user = await started_user(fake_telegram)
    secret = await fake_bot.send_message(user.id, "key: <code>sk-123</code>")
    assert await fake_bot.delete_message(user.id, secret.message_id)
    assert user.messages[-1].deleted
    assert user.messages[-1].text == "key: sk-123"
    assert all(message.message_id != secret.message_id for message in user.chat)
    delete = fake_telegram.calls_to("deleteMessage")[0]
    assert delete.params == {"chat_id": user.id, "message_id": secret.message_id}
    with pytest.raises(TelegramBadRequest) as error:
        await fake_bot.delete_message(user.id, secret.message_id)
    assert error.value.message == "Bad Request: message to delete not found"
    # deleteMessages skips what it cannot find; the user's own message can go too.
    assert await fake_bot.delete_messages(user.id, [user.messages[0].message_id, 9999])
    assert user.chat == []


async def test_message_ids_grow_per_chat(fake_telegram: FakeTelegram, fake_bot: Bot) -> None:
    alice = await started_user(fake_telegram, 111)
    bob = await started_user(fake_telegram, 222)
    first = await fake_bot.send_message(alice.id, "a")
    second = await fake_bot.send_message(alice.id, "b")
    other = await fake_bot.send_message(bob.id, "c")
    assert (first.message_id, second.message_id, other.message_id) == (2, 3, 2)
    assert first.chat.id == alice.id
    assert first.from_user is not None
    assert first.from_user.id == fake_telegram.bot.id


# Faults


async def test_flood_control_answers_429(fake_telegram: FakeTelegram, fake_bot: Bot) -> None:
    user = await started_user(fake_telegram)
    fake_telegram.set_flood(1.0, retry_after=2)
    with pytest.raises(TelegramRetryAfter) as error:
        await fake_bot.send_message(user.id, "hello")
    assert error.value.retry_after == 2
    assert error.value.message.endswith("Original description: Too Many Requests: retry after 2")
    assert user.bot_messages == []
    fake_telegram.set_flood(0.0)
    await fake_bot.send_message(user.id, "hello")
    status, _body = await api(fake_telegram, "getMe")
    assert status == 200


async def test_flood_is_deterministic_for_a_seed() -> None:
    async def pattern(seed: int) -> list[bool]:
        async with FakeTelegram(seed=seed) as server:
            user = await started_user(server)
            server.set_flood(0.5, retry_after=1)
            outcomes = []
            for number in range(20):
                status, body = await api(
                    server, "sendMessage", json={"chat_id": user.id, "text": f"{number}"}
                )
                outcomes.append(status == 429)
                if status == 429:
                    assert body["parameters"] == {"retry_after": 1}
            return outcomes

    first = await pattern(7)
    assert first == await pattern(7)
    assert any(first)
    assert not all(first)


async def test_injected_errors_hit_the_next_calls(
    fake_telegram: FakeTelegram, fake_bot: Bot
) -> None:
    fake_telegram.fail_next("getMe", 502, "Bad Gateway", times=1)
    status, body = await api(fake_telegram, "getMe")
    assert (status, body["description"]) == (502, "Bad Gateway")
    assert (await fake_bot.get_me()).id == 123456


async def test_blocked_user_gets_nothing(fake_telegram: FakeTelegram, fake_bot: Bot) -> None:
    user = await started_user(fake_telegram)
    fake_telegram.block(user.id)
    for call in (
        fake_bot.send_message(user.id, "hello?"),
        fake_bot.send_chat_action(user.id, "typing"),
    ):
        with pytest.raises(TelegramForbiddenError) as error:
            await call
        assert error.value.message == "Forbidden: bot was blocked by the user"
    kicked = fake_telegram.pending_updates[-1]["my_chat_member"]
    assert kicked["new_chat_member"]["status"] == "kicked"
    await user.send("/start")
    await fake_bot.send_message(user.id, "welcome back")


async def test_a_bot_cannot_write_first(fake_telegram: FakeTelegram, fake_bot: Bot) -> None:
    stranger = fake_telegram.user(333)
    with pytest.raises(TelegramForbiddenError) as error:
        await fake_bot.send_message(stranger.id, "hi")
    assert error.value.message == "Forbidden: bot can't initiate conversation with a user"
    with pytest.raises(TelegramBadRequest) as missing:
        await fake_bot.send_message(424242, "hi")
    assert missing.value.message == "Bad Request: chat not found"


# Commands, chat info, menu button


async def test_commands_are_stored_per_scope_and_language(
    fake_telegram: FakeTelegram, fake_bot: Bot
) -> None:
    english = [BotCommand(command="start", description="Start")]
    russian = [BotCommand(command="start", description="Начать")]
    private = BotCommandScopeAllPrivateChats()
    assert await fake_bot.set_my_commands(english)
    assert await fake_bot.set_my_commands(russian, language_code="ru")
    help_command = [BotCommand(command="help", description="Help")]
    assert await fake_bot.set_my_commands(english + help_command, scope=private)

    assert [c.description for c in await fake_bot.get_my_commands(language_code="ru")] == [
        "Начать"
    ]
    assert fake_telegram.commands() == [{"command": "start", "description": "Start"}]
    private_commands = fake_telegram.commands({"type": "all_private_chats"}) or []
    assert [command["command"] for command in private_commands] == ["start", "help"]
    assert fake_telegram.commands(language_code="de") is None
    languages = [
        call.params.get("language_code") for call in fake_telegram.calls_to("setMyCommands")
    ]
    assert languages == [None, "ru", None]

    assert await fake_bot.delete_my_commands(language_code="ru")
    assert await fake_bot.get_my_commands(language_code="ru") == []
    with pytest.raises(TelegramBadRequest) as error:
        await fake_bot.set_my_commands([BotCommand(command="Start!", description="x")])
    assert error.value.message == "Bad Request: BOT_COMMAND_INVALID"


async def test_chat_info_actions_and_menu_button(
    fake_telegram: FakeTelegram, fake_bot: Bot
) -> None:
    user = await started_user(fake_telegram)
    chat = await fake_bot.get_chat(user.id)
    assert (chat.id, chat.type, chat.first_name) == (user.id, "private", "Alice")
    assert await fake_bot.send_chat_action(user.id, "typing")
    assert user.chat_actions == ["typing"]
    with pytest.raises(TelegramBadRequest) as error:
        await fake_bot.send_chat_action(user.id, "dancing")
    assert error.value.message == "Bad Request: wrong parameter action in request"
    assert await fake_bot.set_chat_menu_button()
    assert (await fake_bot.get_chat_menu_button()).type == "default"
    assert await fake_bot.close()
    assert await fake_bot.log_out()


# Groups


async def test_group_messages_respect_privacy_mode(
    fake_telegram: FakeTelegram, fake_bot: Bot
) -> None:
    alice = fake_telegram.user(111)
    group = fake_telegram.group_chat(title="Team", member=alice)
    await group.send("just chatting")
    await group.send("/start")
    await group.send("/start@other_bot")
    updates = await fake_bot.get_updates()
    assert len(updates) == 1
    message = updates[0].message
    assert message is not None
    assert message.text == "/start"
    assert (message.chat.type, message.chat.title) == ("supergroup", "Team")
    assert message.from_user is not None
    assert message.from_user.id == alice.id
    assert group.chat_id < 0
    sent = await fake_bot.send_message(group.chat_id, "This bot works in private chats.")
    assert sent.chat.id == group.chat_id
    assert group.last_bot_message().text == "This bot works in private chats."


# Waiting helpers


async def test_wait_for_fails_with_the_chat_transcript(fake_telegram: FakeTelegram) -> None:
    user = await started_user(fake_telegram)
    with pytest.raises(AssertionError, match="#1 user: 'hi'"):
        await user.wait_for("never", timeout=0.05)


# Webhooks


@asynccontextmanager
async def webhook_app(
    dispatcher: Dispatcher, bot: Bot, *, secret: str, in_background: bool = True
) -> AsyncIterator[str]:
    app = web.Application()
    SimpleRequestHandler(
        dispatcher=dispatcher, bot=bot, secret_token=secret, handle_in_background=in_background
    ).register(app, path="/hook")
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", 0).start()
    host, port = runner.addresses[0][:2]
    try:
        yield f"http://{host}:{port}/hook"
    finally:
        await runner.cleanup()


async def test_webhook_mode_posts_updates_with_the_secret(
    fake_telegram: FakeTelegram, fake_bot: Bot
) -> None:
    user = fake_telegram.user(111)
    async with webhook_app(build_dispatcher(), fake_bot, secret="s3cr3t") as url:
        assert await fake_bot.set_webhook(url, secret_token="s3cr3t")
        await user.send("via webhook")
        assert (await user.wait_for("via webhook")).from_bot
        delivery = fake_telegram.webhook_deliveries[0]
        assert delivery.headers["X-Telegram-Bot-Api-Secret-Token"] == "s3cr3t"
        assert delivery.update["message"]["text"] == "via webhook"
        assert delivery.status == 200

        with pytest.raises(TelegramConflictError) as error:
            await fake_bot.get_updates()
        assert error.value.message == tg_errors.WEBHOOK_ACTIVE
        info = await fake_bot.get_webhook_info()
        assert (info.url, info.pending_update_count) == (url, 0)

        assert await fake_bot.delete_webhook()
        await user.send("back to polling")
        assert len(await fake_bot.get_updates()) == 1


async def test_webhook_reply_in_response_is_executed(
    fake_telegram: FakeTelegram, fake_bot: Bot
) -> None:
    user = fake_telegram.user(111)
    dispatcher = build_dispatcher()
    async with webhook_app(dispatcher, fake_bot, secret="s3cr3t", in_background=False) as url:
        await fake_bot.set_webhook(url, secret_token="s3cr3t")
        await user.send("/reply")
        await user.wait_for("answered in the webhook response")
    [send] = fake_telegram.calls_to("sendMessage")
    assert send.via_webhook_reply
    assert send.params["chat_id"] == user.id


async def test_webhook_with_a_wrong_secret_keeps_retrying(
    fake_telegram: FakeTelegram, fake_bot: Bot
) -> None:
    user = fake_telegram.user(111)
    fake_telegram.webhook_retry_delay = 0.01
    async with webhook_app(build_dispatcher(), fake_bot, secret="right") as url:
        await fake_bot.set_webhook(url, secret_token="wrong")
        await user.send("lost?")
        await fake_telegram.wait_until(lambda: len(fake_telegram.webhook_deliveries) >= 2)
        info = await fake_bot.get_webhook_info()
        assert info.pending_update_count == 1
        assert info.last_error_message == "Wrong response from the webhook: 401 Unauthorized"
        assert all(delivery.status == 401 for delivery in fake_telegram.webhook_deliveries)
        await fake_bot.delete_webhook(drop_pending_updates=True)
    assert fake_telegram.pending_updates == []


# A bot in another process

ECHO_BOT = """
import asyncio, os
from aiogram import Bot, Dispatcher
from aiogram.client.session.aiohttp import AiohttpSession
from aiogram.client.telegram import TelegramAPIServer
from aiogram.types import Message

async def main() -> None:
    api = TelegramAPIServer.from_base(os.environ["TELEGRAM_API_BASE"])
    bot = Bot(os.environ["BOT_TOKEN"], session=AiohttpSession(api=api))
    dispatcher = Dispatcher()

    @dispatcher.message()
    async def echo(message: Message) -> None:
        await message.answer(f"{os.getpid()} echoes {message.text}")

    await dispatcher.start_polling(bot)

asyncio.run(main())
"""


@pytest.mark.e2e
async def test_a_bot_process_polls_the_fake(fake_telegram: FakeTelegram) -> None:
    env = {
        **os.environ,
        "TELEGRAM_API_BASE": fake_telegram.base_url,
        "BOT_TOKEN": fake_telegram.token,
    }
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-c", ECHO_BOT, env=env, stderr=asyncio.subprocess.PIPE
    )
    try:
        user = fake_telegram.user(111)
        await user.send("ping")
        reply = await user.wait_for("echoes ping", timeout=20)
        assert reply.text == f"{process.pid} echoes ping"
    finally:
        process.terminate()
        await asyncio.wait_for(process.wait(), 10)
