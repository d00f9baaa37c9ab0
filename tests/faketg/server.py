"""A fake Telegram Bot API server on loopback, faithful enough for the real aiogram client.

It serves ``/bot<token>/<method>`` like api.telegram.org (tdlib/telegram-bot-api is the model for
parameter parsing, error texts and long polling), keeps chats with their messages, and lets
tests act as users through ``UserSide`` (see ``sides.py``).
"""

from __future__ import annotations

import asyncio
import copy
import json
import logging
import random
import re
import time
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass, field
from functools import partial
from types import TracebackType
from typing import Any, Final
from urllib.parse import parse_qsl

import aiohttp
from aiohttp import web

from . import errors
from .errors import ApiError, bad_request
from .keyboards import parse_reply_markup
from .markup import (
    EntityParseError,
    FormattedText,
    bot_commands,
    finish,
    parse_html,
    plain_with_entities,
    strip_for_user,
)
from .models import (
    ApiCall,
    CallbackAnswer,
    CallbackQuery,
    ChatMessage,
    ChatState,
    TgUser,
)
from .params import Query, read_multipart, read_query, to_integer
from .sides import ChatSide, UserSide

MAX_MESSAGE_LENGTH: Final = 4096
MAX_LONG_POLL_TIMEOUT: Final = 50
FLOOD_METHODS: Final = frozenset({"sendMessage", "editMessageText", "editMessageReplyMarkup"})
ALL_UPDATE_TYPES: Final = (
    "message",
    "edited_message",
    "channel_post",
    "edited_channel_post",
    "business_connection",
    "business_message",
    "edited_business_message",
    "deleted_business_messages",
    "message_reaction",
    "message_reaction_count",
    "inline_query",
    "chosen_inline_result",
    "callback_query",
    "shipping_query",
    "pre_checkout_query",
    "purchased_paid_media",
    "poll",
    "poll_answer",
    "my_chat_member",
    "chat_member",
    "chat_join_request",
    "chat_boost",
    "removed_chat_boost",
)
# Telegram leaves these out unless a bot asks for them by name.
DEFAULT_UPDATE_TYPES: Final = frozenset(ALL_UPDATE_TYPES) - {
    "chat_member",
    "message_reaction",
    "message_reaction_count",
}
CHAT_ACTIONS: Final = frozenset(
    {
        "typing",
        "upload_photo",
        "record_video",
        "upload_video",
        "record_voice",
        "upload_voice",
        "record_audio",
        "upload_audio",
        "upload_document",
        "choose_sticker",
        "find_location",
        "record_video_note",
        "upload_video_note",
    }
)
_COMMAND = re.compile(r"^[a-z0-9_]{1,32}$")
_LANGUAGE = re.compile(r"^[a-z]{2}$")
_SECRET = re.compile(r"^[A-Za-z0-9_-]{1,256}$")
_SCOPES_WITHOUT_CHAT: Final = frozenset(
    {"default", "all_private_chats", "all_group_chats", "all_chat_administrators"}
)
_dumps = partial(json.dumps, ensure_ascii=False)
logger = logging.getLogger(__name__)

Handler = Callable[[Query], Awaitable[Any]]


@dataclass
class Described:
    """A successful result that Telegram sends with a human-readable ``description``."""

    result: Any
    description: str


@dataclass
class WebhookDelivery:
    """One POST the fake made to the bot's webhook."""

    url: str
    headers: dict[str, str]
    update: dict[str, Any]
    status: int | None
    error: str | None = None


@dataclass
class _Webhook:
    url: str
    secret_token: str | None
    max_connections: int
    last_error_date: int | None = None
    last_error_message: str | None = None
    task: asyncio.Task[None] | None = None


@dataclass
class _LongPoll:
    conflict: str | None = None


@dataclass
class _Flood:
    fraction: float = 0.0
    retry_after: int = 1
    methods: frozenset[str] = FLOOD_METHODS


@dataclass
class _Injected:
    error: ApiError
    times: int
    after: bool = False  # carried out first, then answered with the error (ambiguous)


@dataclass
class _Method:
    name: str
    handler: Handler
    # Long polls wait by design, so they do not count as work in flight for wait_idle.
    waits: bool = False


@dataclass
class _State:
    chats: dict[int, ChatState] = field(default_factory=dict)
    users: dict[int, TgUser] = field(default_factory=dict)
    updates: list[dict[str, Any]] = field(default_factory=list)
    callback_queries: dict[str, CallbackQuery] = field(default_factory=dict)
    commands: dict[tuple[str, str], list[dict[str, str]]] = field(default_factory=dict)
    default_menu_button: dict[str, Any] = field(default_factory=lambda: {"type": "default"})


class FakeTelegram:
    """The fake Bot API server plus the controls tests use to play users and inject faults."""

    def __init__(
        self,
        token: str = "123456:TEST-TOKEN",
        *,
        seed: int = 0,
        bot_username: str = "fake_test_bot",
        bot_name: str = "Test Bot",
        group_privacy: bool = True,
    ) -> None:
        self.token = token
        self.seed = seed
        bot_id = token.partition(":")[0]
        self.bot = TgUser(
            id=int(bot_id) if bot_id.isdigit() else 1,
            first_name=bot_name,
            username=bot_username,
            is_bot=True,
        )
        self.group_privacy = group_privacy
        self.calls: list[ApiCall] = []
        self.webhook_deliveries: list[WebhookDelivery] = []
        # Seconds after which an unanswered callback query expires; None keeps them forever.
        self.callback_query_ttl: float | None = None
        self.webhook_retry_delay = 0.1

        self._state = _State()
        self._sides: dict[tuple[int, int], ChatSide] = {}
        self._next_update_id = 700_000_001
        self._next_user_id = 10_000_001
        self._next_group_id = -1_001_000_000_001
        self._allowed_updates: frozenset[str] = DEFAULT_UPDATE_TYPES
        self._long_poll: _LongPoll | None = None
        self._webhook: _Webhook | None = None
        self._flood = _Flood()
        self._flood_rng = random.Random(seed)
        self._id_rng = random.Random(f"faketg-ids-{seed}")
        self._injected: dict[str, list[_Injected]] = {}
        self._revision = 0
        self._changed = asyncio.Event()
        self._in_flight = 0
        self._last_activity = time.monotonic()
        self._closing = False
        self._runner: web.AppRunner | None = None
        self._http: aiohttp.ClientSession | None = None
        self._base_url: str | None = None
        self._methods = self._method_table()
        self.app = web.Application()
        self.app.router.add_route("*", "/bot{token}/{method}", self._handle)
        self.app.router.add_route("*", "/{tail:.*}", self._not_found)

    # Lifecycle

    async def start(self, host: str = "127.0.0.1", port: int = 0) -> None:
        self._closing = False
        self._http = aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=10))
        # Cancel handlers whose client hung up, so an abandoned long poll frees its slot.
        self._runner = web.AppRunner(
            self.app, handler_cancellation=True, access_log=None, shutdown_timeout=1.0
        )
        await self._runner.setup()
        site = web.TCPSite(self._runner, host, port)
        await site.start()
        bound_host, bound_port = self._runner.addresses[0][:2]
        self._base_url = f"http://{bound_host}:{bound_port}"

    async def stop(self) -> None:
        self._closing = True
        self._touch()
        if self._webhook is not None:
            await self._stop_webhook_worker(self._webhook)
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None
        if self._http is not None:
            await self._http.close()
            self._http = None

    async def __aenter__(self) -> FakeTelegram:
        await self.start()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        await self.stop()

    @property
    def base_url(self) -> str:
        if self._base_url is None:
            raise RuntimeError("FakeTelegram is not started")
        return self._base_url

    # The user's side

    def user(
        self,
        user_id: int | None = None,
        *,
        first_name: str = "Alice",
        last_name: str | None = None,
        language_code: str | None = "en",
        username: str | None = None,
    ) -> UserSide:
        """A person with a private chat with the bot; the same id gives the same UserSide."""
        if user_id is None:
            while self._next_user_id in self._state.users:
                self._next_user_id += 1
            user_id = self._next_user_id
            self._next_user_id += 1
        existing = self._sides.get((user_id, user_id))
        if isinstance(existing, UserSide):
            return existing
        person = TgUser(
            id=user_id,
            first_name=first_name,
            last_name=last_name,
            username=username,
            language_code=language_code,
        )
        self._state.users[user_id] = person
        chat = ChatState(id=user_id, type="private", user=person)
        self._state.chats[user_id] = chat
        side = UserSide(self, chat, person)
        self._sides[(user_id, user_id)] = side
        return side

    def group_chat(
        self,
        chat_id: int | None = None,
        *,
        title: str = "Test group",
        member: UserSide | None = None,
        chat_type: str = "supergroup",
        username: str | None = None,
    ) -> ChatSide:
        """A group the bot is in, seen by ``member`` (a new user when omitted)."""
        if member is None:
            member = self.user()
        if chat_id is None:
            while self._next_group_id in self._state.chats:
                self._next_group_id -= 1
            chat_id = self._next_group_id
        chat = self._state.chats.get(chat_id)
        if chat is None:
            chat = ChatState(
                id=chat_id, type=chat_type, title=title, username=username, started=True
            )
            self._state.chats[chat_id] = chat
        key = (chat_id, member.user.id)
        side = self._sides.get(key)
        if side is None:
            side = ChatSide(self, chat, member.user)
            self._sides[key] = side
        return side

    def block(self, user_id: int) -> None:
        """The user blocks the bot: sends to them fail with 403, as on Telegram."""
        chat = self._private_chat(user_id)
        if not chat.blocked:
            chat.blocked = True
            self._push_member_status(chat, old="member", new="kicked")

    def unblock(self, user_id: int) -> None:
        chat = self._private_chat(user_id)
        if chat.blocked:
            chat.blocked = False
            self._push_member_status(chat, old="kicked", new="member")

    # Fault injection

    def set_flood(
        self,
        fraction: float,
        *,
        retry_after: int = 1,
        methods: Iterable[str] = FLOOD_METHODS,
    ) -> None:
        """Answer this fraction of ``methods`` calls with 429; seeded, so runs repeat."""
        if not 0.0 <= fraction <= 1.0:
            raise ValueError("fraction must be within [0, 1]")
        self._flood = _Flood(fraction, retry_after, frozenset(methods))

    def fail_next(
        self,
        method: str,
        error_code: int,
        description: str,
        *,
        times: int = 1,
        parameters: dict[str, Any] | None = None,
        after: bool = False,
    ) -> None:
        """Answer the next ``times`` calls of ``method`` with this error; ``after``: carry
        each out first (the message is sent), as a proxy failing on the way back does."""
        canonical = self._methods[method.lower()].name
        injected = _Injected(ApiError(error_code, description, parameters), times, after)
        self._injected.setdefault(canonical, []).append(injected)

    # Inspection

    def calls_to(self, method: str) -> list[ApiCall]:
        return [call for call in self.calls if call.method.lower() == method.lower()]

    def commands(
        self, scope: dict[str, Any] | None = None, language_code: str = ""
    ) -> list[dict[str, str]] | None:
        """The command list stored for a scope and language, None if none was set."""
        key = (self._scope_key(scope or {"type": "default"}), language_code)
        stored = self._state.commands.get(key)
        return copy.deepcopy(stored) if stored is not None else None

    @property
    def pending_updates(self) -> list[dict[str, Any]]:
        """Updates not yet confirmed by getUpdates or delivered to the webhook."""
        return copy.deepcopy(self._state.updates)

    @property
    def webhook_url(self) -> str | None:
        return self._webhook.url if self._webhook else None

    async def call_direct(self, method: str, args: dict[str, str]) -> tuple[int, str]:
        """Serve one Bot API call without HTTP: handler tests reach it through a session."""
        entry = self._methods.get(method.lower())
        try:
            response = await self._serve(entry, method, Query(dict(args)))
        finally:
            self._last_activity = time.monotonic()
            self._touch()
        return response.status, response.text or ""

    def take_updates(self) -> list[dict[str, Any]]:
        """Hand the queued updates to the caller (instead of getUpdates) and forget them."""
        updates, self._state.updates = self._state.updates, []
        return updates

    def push_update(self, kind: str, payload: dict[str, Any]) -> dict[str, Any] | None:
        """Queue a raw update of any kind; None when allowed_updates filters it out."""
        return self._push(kind, copy.deepcopy(payload))

    async def wait_for_call(
        self,
        method: str,
        predicate: Callable[[ApiCall], bool] | None = None,
        *,
        timeout: float = 5.0,
    ) -> ApiCall:
        """The first served call of ``method`` (matching ``predicate``), waiting if needed."""
        deadline = time.monotonic() + timeout
        while True:
            for call in self.calls:
                if (
                    call.status
                    and call.method.lower() == method.lower()
                    and (predicate is None or predicate(call))
                ):
                    return call
            if not await self.wait_change(deadline):
                raise AssertionError(f"no {method} call within {timeout}s")

    async def wait_until(self, condition: Callable[[], bool], *, timeout: float = 5.0) -> None:
        """Wait until ``condition()`` holds; it is re-checked whenever the fake's state changes."""
        deadline = time.monotonic() + timeout
        while not condition():
            if not await self.wait_change(deadline):
                raise AssertionError(f"condition not met within {timeout}s")

    async def wait_idle(self, *, quiet: float = 0.05, timeout: float = 5.0) -> None:
        """Wait until updates are consumed and no request has been served for ``quiet`` s.

        A heuristic: a handler busy elsewhere (a provider call, a sleep) looks idle.
        Prefer ``UserSide.wait_for`` when the expected outcome is known.
        """
        deadline = time.monotonic() + timeout
        while True:
            now = time.monotonic()
            busy = bool(self._state.updates) or self._in_flight > 0
            if not busy and now - self._last_activity >= quiet:
                return
            if now >= deadline:
                raise AssertionError(
                    f"fake Telegram not idle after {timeout}s: "
                    f"{len(self._state.updates)} updates pending, {self._in_flight} in flight"
                )
            await self.wait_change(deadline if busy else self._last_activity + quiet)

    # Internal API shared with sides.py

    async def wait_change(self, deadline: float | None) -> bool:
        """Sleep until any state changes; False when ``deadline`` (monotonic) passes first."""
        event = self._changed
        if deadline is None:
            await event.wait()
            return True
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            return False
        try:
            await asyncio.wait_for(event.wait(), remaining)
        except TimeoutError:
            return False
        return True

    @property
    def revision(self) -> int:
        return self._revision

    def user_message(
        self, side: ChatSide, text: str, reply_to: ChatMessage | int | None
    ) -> ChatMessage:
        chat = side.chat_state
        text = strip_for_user(text)
        if not text:
            raise ValueError("Telegram clients do not send empty messages")
        reply_id = reply_to.message_id if isinstance(reply_to, ChatMessage) else reply_to
        if reply_id is not None and reply_id not in chat.messages:
            raise AssertionError(f"no message #{reply_id} to reply to in chat {chat.id}")
        if chat.type == "private":
            # Writing to a bot starts the chat and lifts a block, as the client's Start does.
            if chat.blocked:
                self.unblock(chat.id)
            chat.started = True
        message = ChatMessage(
            message_id=chat.next_message_id(),
            chat_id=chat.id,
            from_bot=False,
            sender=side.user,
            text=text,
            html=text,
            entities=bot_commands(text),
            date=int(time.time()),
            reply_to_message_id=reply_id,
        )
        chat.messages[message.message_id] = message
        self._bump(message)
        if self._bot_sees(chat, message):
            self._push("message", self._message_api(message))
        return message

    def callback_query(self, side: ChatSide, message_id: int, data: str) -> str:
        chat = side.chat_state
        query_id = str(self._id_rng.getrandbits(63))
        payload: dict[str, Any] = {
            "id": query_id,
            "from": side.user.to_api(),
            "chat_instance": str((chat.id * 2_654_435_761 + self.seed) % (1 << 63)),
            "data": data,
        }
        message = chat.messages.get(message_id)
        if message is not None and not message.deleted:
            payload["message"] = self._message_api(message)
        else:
            payload["message"] = {"chat": chat.to_api(), "message_id": message_id, "date": 0}
        self._state.callback_queries[query_id] = CallbackQuery(
            id=query_id,
            chat_id=chat.id,
            message_id=message_id,
            user_id=side.user.id,
            data=data,
            created_at=time.monotonic(),
        )
        self._push("callback_query", payload)
        return query_id

    def callback_queries_of(self, side: ChatSide) -> list[CallbackQuery]:
        return [
            query
            for query in self._state.callback_queries.values()
            if query.chat_id == side.chat_state.id and query.user_id == side.user.id
        ]

    # HTTP

    async def _not_found(self, request: web.Request) -> web.Response:
        return self._error_response(ApiError(404, errors.NOT_FOUND))

    @staticmethod
    def _error_response(error: ApiError) -> web.Response:
        return web.json_response(error.payload(), status=error.error_code, dumps=_dumps)

    async def _handle(self, request: web.Request) -> web.Response:
        if request.match_info["token"] != self.token:
            return self._error_response(ApiError(401, errors.UNAUTHORIZED))
        entry = self._methods.get(request.match_info["method"].lower())
        if entry is None or not entry.waits:
            self._in_flight += 1
        try:
            try:
                query = await read_query(request)
            except ApiError as error:
                return self._error_response(error)
            return await self._serve(entry, request.match_info["method"], query)
        finally:
            if entry is None or not entry.waits:
                self._in_flight -= 1
            self._last_activity = time.monotonic()
            self._touch()

    async def _serve(
        self,
        entry: _Method | None,
        raw_method: str,
        query: Query,
        *,
        via_webhook_reply: bool = False,
    ) -> web.Response:
        call = ApiCall(
            method=entry.name if entry else raw_method,
            params=query.decoded(),
            at=time.monotonic(),
            via_webhook_reply=via_webhook_reply,
        )
        self.calls.append(call)
        try:
            if entry is None:
                raise ApiError(404, errors.METHOD_NOT_FOUND)
            self._raise_injected(entry.name, after=False)
            result = await entry.handler(query)
            self._raise_injected(entry.name, after=True)
        except ApiError as error:
            call.status = error.error_code
            call.description = error.description
            return self._error_response(error)
        except Exception as exc:
            # A bug in the fake: answer in the API's shape so the client reports it clearly.
            logger.exception("fake Telegram failed on %s", call.method)
            failure = ApiError(500, f"Internal Server Error: fake Telegram failed: {exc!r}")
            call.status = failure.error_code
            call.description = failure.description
            return self._error_response(failure)
        call.status = 200
        body: dict[str, Any] = {"ok": True}
        if isinstance(result, Described):
            body["result"] = result.result
            body["description"] = result.description
        else:
            body["result"] = result
        return web.json_response(body, dumps=_dumps)

    def _raise_injected(self, method: str, *, after: bool) -> None:
        queue = self._injected.get(method)
        if not queue or queue[0].after is not after:
            return
        injected = queue[0]
        injected.times -= 1
        if injected.times <= 0:
            queue.pop(0)
        raise injected.error

    def _method_table(self) -> dict[str, _Method]:
        handlers: dict[str, Handler] = {
            "getMe": self._get_me,
            "getUpdates": self._get_updates,
            "sendMessage": self._send_message,
            "editMessageText": self._edit_message_text,
            "editMessageReplyMarkup": self._edit_message_reply_markup,
            "deleteMessage": self._delete_message,
            "deleteMessages": self._delete_messages,
            "answerCallbackQuery": self._answer_callback_query,
            "setMyCommands": self._set_my_commands,
            "getMyCommands": self._get_my_commands,
            "deleteMyCommands": self._delete_my_commands,
            "sendChatAction": self._send_chat_action,
            "setWebhook": self._set_webhook,
            "deleteWebhook": self._delete_webhook,
            "getWebhookInfo": self._get_webhook_info,
            "getChat": self._get_chat,
            "close": self._ok,
            "logOut": self._ok,
            "setChatMenuButton": self._set_chat_menu_button,
            "getChatMenuButton": self._get_chat_menu_button,
        }
        return {
            name.lower(): _Method(name, handler, waits=name == "getUpdates")
            for name, handler in handlers.items()
        }

    # State changes

    def _touch(self) -> None:
        self._changed.set()
        self._changed = asyncio.Event()

    def _bump(self, message: ChatMessage) -> None:
        self._revision += 1
        message.revision = self._revision
        self._touch()

    def _push(self, kind: str, payload: dict[str, Any]) -> dict[str, Any] | None:
        if kind not in self._allowed_updates:
            return None
        update = {"update_id": self._next_update_id, kind: payload}
        self._next_update_id += 1
        self._state.updates.append(update)
        self._touch()
        return update

    def _bot_sees(self, chat: ChatState, message: ChatMessage) -> bool:
        """Privacy mode: in groups a bot gets commands, replies to it and mentions only."""
        if chat.type == "private" or not self.group_privacy:
            return True
        for entity in message.entities:
            command = message.text[entity["offset"] : entity["offset"] + entity["length"]]
            target = command.partition("@")[2]
            if not target or target.lower() == (self.bot.username or "").lower():
                return True
        replied = chat.messages.get(message.reply_to_message_id or 0)
        if replied is not None and replied.from_bot:
            return True
        return f"@{self.bot.username}".lower() in message.text.lower()

    def _push_member_status(self, chat: ChatState, *, old: str, new: str) -> None:
        if chat.user is None:
            return

        def member(status: str) -> dict[str, Any]:
            # A banned member carries until_date (0: forever), as in Telegram's ChatMemberBanned.
            found: dict[str, Any] = {"status": status, "user": self.bot.to_api()}
            if status == "kicked":
                found["until_date"] = 0
            return found

        self._push(
            "my_chat_member",
            {
                "chat": chat.to_api(),
                "from": chat.user.to_api(),
                "date": int(time.time()),
                "old_chat_member": member(old),
                "new_chat_member": member(new),
            },
        )

    def _private_chat(self, user_id: int) -> ChatState:
        chat = self._state.chats.get(user_id)
        if chat is None or chat.type != "private":
            raise KeyError(f"no user {user_id}; create one with server.user({user_id})")
        return chat

    def _message_api(self, message: ChatMessage, *, with_reply: bool = True) -> dict[str, Any]:
        chat = self._state.chats[message.chat_id]
        data: dict[str, Any] = {
            "message_id": message.message_id,
            "from": message.sender.to_api(),
            "chat": chat.to_api(),
            "date": message.date,
        }
        if message.edit_date is not None:
            data["edit_date"] = message.edit_date
        if with_reply and message.reply_to_message_id is not None:
            replied = chat.messages.get(message.reply_to_message_id)
            if replied is not None and not replied.deleted:
                data["reply_to_message"] = self._message_api(replied, with_reply=False)
        data["text"] = message.text
        if message.entities:
            data["entities"] = copy.deepcopy(message.entities)
        if message.link_preview_options:
            data["link_preview_options"] = copy.deepcopy(message.link_preview_options)
        if message.reply_markup:
            data["reply_markup"] = copy.deepcopy(message.reply_markup)
        return data

    # Checks shared by methods, in the order the real server runs them

    def _message_text(self, query: Query) -> tuple[FormattedText, str | None]:
        text = query.arg("text")
        if not text:
            raise ApiError(400, errors.MESSAGE_TEXT_EMPTY)
        parse_mode = query.arg("parse_mode").lower()
        try:
            if parse_mode in {"", "none"}:
                try:
                    raw_entities = json.loads(query.arg("entities") or "null")
                except ValueError:
                    raw_entities = None
                formatted = plain_with_entities(text, raw_entities)
            elif parse_mode == "html":
                formatted = parse_html(text)
            elif parse_mode in {"markdown", "markdownv2"}:
                raise bad_request(f"the fake Telegram server does not implement {parse_mode}")
            else:
                raise ApiError(400, errors.UNSUPPORTED_PARSE_MODE)
        except EntityParseError as error:
            if parse_mode in {"", "none"}:
                raise bad_request(f"Can't parse MessageEntity: {error}") from None
            raise ApiError(400, errors.CANT_PARSE_ENTITIES + str(error)) from None
        formatted = finish(formatted)
        if not formatted.text:
            raise ApiError(400, errors.MESSAGE_TEXT_EMPTY)
        return formatted, query.arg("parse_mode") or None

    @staticmethod
    def _check_length(formatted: FormattedText) -> None:
        if len(formatted.text) > MAX_MESSAGE_LENGTH:
            raise ApiError(400, errors.MESSAGE_TOO_LONG)

    def _check_chat(self, raw: str) -> ChatState:
        if not raw:
            raise ApiError(400, errors.CHAT_ID_EMPTY)
        if raw.startswith("@"):
            for chat in self._state.chats.values():
                if chat.type != "private" and chat.username == raw[1:]:
                    return chat
            raise ApiError(400, errors.CHAT_NOT_FOUND)
        found = self._state.chats.get(to_integer(raw))
        if found is None:
            raise ApiError(400, errors.CHAT_NOT_FOUND)
        return found

    @staticmethod
    def _check_write(chat: ChatState) -> None:
        if chat.type != "private":
            return
        if chat.blocked:
            raise ApiError(403, errors.BOT_BLOCKED)
        if not chat.started:
            raise ApiError(403, errors.CANT_INITIATE)

    def _check_flood(self, method: str) -> None:
        flood = self._flood
        if flood.fraction <= 0 or method not in flood.methods:
            return
        if self._flood_rng.random() < flood.fraction:
            raise errors.retry_after(flood.retry_after)

    @staticmethod
    def _message_id(query: Query) -> int:
        return max(query.integer("message_id"), 0)

    def _reply_target(self, chat: ChatState, query: Query) -> int | None:
        parameters = query.json("reply_parameters", "Can't parse reply parameters JSON object")
        if isinstance(parameters, dict) and "message_id" in parameters:
            message_id = parameters["message_id"]
            allow_missing = bool(parameters.get("allow_sending_without_reply"))
        else:
            message_id = to_integer(query.arg("reply_to_message_id"))
            allow_missing = query.flag("allow_sending_without_reply")
        if not isinstance(message_id, int) or message_id <= 0:
            return None
        replied = chat.messages.get(message_id)
        if replied is None or replied.deleted:
            if allow_missing:
                return None
            raise ApiError(400, errors.REPLY_NOT_FOUND)
        return message_id

    def _message_to_edit(self, query: Query) -> tuple[ChatState, ChatMessage]:
        chat = self._check_chat(query.arg("chat_id"))
        message = chat.messages.get(self._message_id(query))
        if message is None or message.deleted:
            raise ApiError(400, errors.MESSAGE_TO_EDIT_NOT_FOUND)
        if not message.from_bot:
            raise ApiError(400, errors.MESSAGE_CANT_BE_EDITED)
        return chat, message

    @staticmethod
    def _require_message_address(query: Query) -> None:
        """Edits name a message by chat_id + message_id, else by inline_message_id."""
        if query.arg("chat_id") or FakeTelegram._message_id(query):
            return
        if not query.arg("inline_message_id"):
            raise ApiError(400, errors.MESSAGE_ID_NOT_SPECIFIED)
        raise ApiError(400, errors.MESSAGE_ID_INVALID)

    # Methods

    async def _ok(self, query: Query) -> bool:
        return True

    async def _get_me(self, query: Query) -> dict[str, Any]:
        return {
            **self.bot.to_api(),
            "can_join_groups": True,
            "can_read_all_group_messages": not self.group_privacy,
            "supports_inline_queries": False,
            "can_connect_to_business": False,
            "has_main_web_app": False,
        }

    async def _get_updates(self, query: Query) -> list[dict[str, Any]]:
        if self._webhook is not None:
            raise ApiError(409, errors.WEBHOOK_ACTIVE)
        offset = query.integer("offset")
        limit = query.integer("limit", 100, 1, 100)
        timeout = query.integer("timeout", 0, 0, MAX_LONG_POLL_TIMEOUT)
        self._set_allowed_updates(query)
        self._confirm(offset)
        if not self._state.updates and timeout > 0 and not self._closing:
            await self._long_wait(timeout)
        return copy.deepcopy(self._state.updates[:limit])

    def _confirm(self, offset: int) -> None:
        updates = self._state.updates
        if offset < 0:
            self._state.updates = updates[offset:]
        elif offset > 0:
            self._state.updates = [update for update in updates if update["update_id"] >= offset]

    async def _long_wait(self, timeout: int) -> None:
        if self._long_poll is not None:
            self._long_poll.conflict = errors.TERMINATED_BY_GET_UPDATES
            self._touch()
        ticket = _LongPoll()
        self._long_poll = ticket
        deadline = time.monotonic() + timeout
        try:
            while not self._state.updates and ticket.conflict is None and not self._closing:
                if not await self.wait_change(deadline):
                    break
        finally:
            if self._long_poll is ticket:
                self._long_poll = None
        if ticket.conflict is not None:
            raise ApiError(409, ticket.conflict)

    def _set_allowed_updates(self, query: Query) -> None:
        raw = query.arg("allowed_updates")
        if not raw:
            return
        try:
            names = json.loads(raw)
        except ValueError:
            return
        if not isinstance(names, list) or not all(isinstance(name, str) for name in names):
            return
        chosen = frozenset(name.lower() for name in names) & frozenset(ALL_UPDATE_TYPES)
        self._allowed_updates = chosen or DEFAULT_UPDATE_TYPES

    async def _send_message(self, query: Query) -> dict[str, Any]:
        formatted, parse_mode = self._message_text(query)
        markup = parse_reply_markup(query.arg("reply_markup"))
        chat = self._check_chat(query.arg("chat_id"))
        reply_to = self._reply_target(chat, query)
        self._check_length(formatted)
        self._check_write(chat)
        self._check_flood("sendMessage")
        preview = query.json("link_preview_options", "Can't parse link preview options JSON")
        message = ChatMessage(
            message_id=chat.next_message_id(),
            chat_id=chat.id,
            from_bot=True,
            sender=self.bot,
            text=formatted.text,
            html=query.arg("text"),
            entities=formatted.entities,
            date=int(time.time()),
            reply_markup=markup.message_markup(),
            parse_mode=parse_mode,
            reply_to_message_id=reply_to,
            link_preview_options=preview if isinstance(preview, dict) else None,
        )
        chat.messages[message.message_id] = message
        if markup.reply_keyboard is not None:
            chat.reply_keyboard = markup.reply_keyboard
        elif markup.remove_keyboard:
            chat.reply_keyboard = None
        self._bump(message)
        return self._message_api(message)

    async def _edit_message_text(self, query: Query) -> dict[str, Any]:
        formatted, parse_mode = self._message_text(query)
        self._require_message_address(query)
        markup = parse_reply_markup(query.arg("reply_markup"))
        if markup.reply_keyboard is not None:
            raise bad_request("inline keyboard expected")
        chat, message = self._message_to_edit(query)
        self._check_length(formatted)
        new_markup = markup.message_markup()
        if (
            message.text == formatted.text
            and message.entities == formatted.entities
            and message.reply_markup == new_markup
        ):
            raise ApiError(400, errors.MESSAGE_NOT_MODIFIED)
        self._check_write(chat)
        self._check_flood("editMessageText")
        message.text = formatted.text
        message.html = query.arg("text")
        message.entities = formatted.entities
        message.parse_mode = parse_mode
        # Like Telegram, an edit without reply_markup removes the inline keyboard.
        message.reply_markup = new_markup
        self._mark_edited(message)
        return self._message_api(message)

    async def _edit_message_reply_markup(self, query: Query) -> dict[str, Any]:
        self._require_message_address(query)
        markup = parse_reply_markup(query.arg("reply_markup"))
        if markup.reply_keyboard is not None:
            raise bad_request("inline keyboard expected")
        chat, message = self._message_to_edit(query)
        new_markup = markup.message_markup()
        if message.reply_markup == new_markup:
            raise ApiError(400, errors.MESSAGE_NOT_MODIFIED)
        self._check_write(chat)
        self._check_flood("editMessageReplyMarkup")
        message.reply_markup = new_markup
        self._mark_edited(message)
        return self._message_api(message)

    def _mark_edited(self, message: ChatMessage) -> None:
        message.edits += 1
        message.edit_date = int(time.time())
        self._bump(message)

    async def _delete_message(self, query: Query) -> bool:
        if not query.arg("chat_id"):
            raise ApiError(400, errors.CHAT_ID_NOT_SPECIFIED)
        message_id = self._message_id(query)
        if not message_id:
            raise ApiError(400, errors.MESSAGE_ID_NOT_SPECIFIED)
        chat = self._check_chat(query.arg("chat_id"))
        message = chat.messages.get(message_id)
        if message is None or message.deleted:
            raise ApiError(400, errors.MESSAGE_TO_DELETE_NOT_FOUND)
        if chat.type != "private" and not message.from_bot:
            raise ApiError(400, errors.MESSAGE_CANT_BE_DELETED)
        message.deleted = True
        self._bump(message)
        return True

    async def _delete_messages(self, query: Query) -> bool:
        chat = self._check_chat(query.arg("chat_id"))
        ids = query.json("message_ids", "Can't parse message identifiers JSON object")
        if not isinstance(ids, list):
            raise bad_request("Expected an Array of message identifiers")
        if not ids:
            raise bad_request("Message identifiers are not specified")
        if len(ids) > 100:
            raise bad_request("Too many message identifiers specified")
        if not all(isinstance(item, int) and not isinstance(item, bool) for item in ids):
            raise bad_request("Invalid message identifier specified")
        # Documented behaviour: messages that can't be found or deleted are skipped.
        for message_id in ids:
            message = chat.messages.get(message_id)
            if message is None or message.deleted:
                continue
            if chat.type != "private" and not message.from_bot:
                continue
            message.deleted = True
            self._bump(message)
        return True

    async def _answer_callback_query(self, query: Query) -> bool:
        callback = self._state.callback_queries.get(query.arg("callback_query_id"))
        ttl = self.callback_query_ttl
        if (
            callback is None
            or callback.answer is not None
            or (ttl is not None and time.monotonic() - callback.created_at > ttl)
        ):
            raise ApiError(400, errors.QUERY_ID_INVALID)
        callback.answer = CallbackAnswer(
            text=query.arg("text") or None,
            show_alert=query.flag("show_alert"),
            url=query.arg("url") or None,
            cache_time=query.integer("cache_time", 0, 0),
        )
        return True

    def _scope_key(self, scope: Any) -> str:
        if not isinstance(scope, dict):
            raise bad_request("Object expected as BotCommandScope")
        kind = scope.get("type")
        if kind in _SCOPES_WITHOUT_CHAT:
            return _dumps({"type": kind}, sort_keys=True)
        if kind not in {"chat", "chat_administrators", "chat_member"}:
            raise bad_request("Unsupported type specified")
        chat = self._check_chat(str(scope.get("chat_id", "")))
        normalized: dict[str, Any] = {"type": kind, "chat_id": chat.id}
        if kind == "chat_member":
            user_id = scope.get("user_id")
            if not isinstance(user_id, int) or user_id not in self._state.users:
                raise bad_request("Invalid user_id specified")
            normalized["user_id"] = user_id
        return _dumps(normalized, sort_keys=True)

    def _commands_key(self, query: Query) -> tuple[str, str]:
        scope = query.json("scope", "Can't parse BotCommandScope JSON object")
        language = query.arg("language_code")
        if language and not _LANGUAGE.match(language):
            raise bad_request("Invalid language code specified")
        return self._scope_key(scope if scope is not None else {"type": "default"}), language

    async def _set_my_commands(self, query: Query) -> bool:
        commands = self._parse_commands(query)
        key = self._commands_key(query)
        if commands:
            self._state.commands[key] = commands
        else:
            self._state.commands.pop(key, None)
        return True

    @staticmethod
    def _parse_commands(query: Query) -> list[dict[str, str]]:
        value = query.json("commands", "Can't parse commands JSON object")
        if value is None:
            return []
        if not isinstance(value, list):
            raise bad_request("Expected an Array of BotCommand")
        commands: list[dict[str, str]] = []
        for item in value:
            if not isinstance(item, dict):
                raise bad_request("Can't parse BotCommand: expected an Object")
            for name in ("command", "description"):
                if name not in item:
                    raise bad_request(f"Can't parse BotCommand: Can't find field \"{name}\"")
                if not isinstance(item[name], str):
                    raise bad_request(
                        f'Can\'t parse BotCommand: Field "{name}" must be of type String'
                    )
            command, description = item["command"], item["description"].strip()
            if not _COMMAND.match(command):
                raise bad_request("BOT_COMMAND_INVALID")
            if not 1 <= len(description) <= 256:
                raise bad_request("BOT_COMMAND_DESCRIPTION_INVALID")
            commands.append({"command": command, "description": description})
        if len(commands) > 100:
            raise bad_request("BOT_COMMANDS_TOO_MUCH")
        return commands

    async def _get_my_commands(self, query: Query) -> list[dict[str, str]]:
        return copy.deepcopy(self._state.commands.get(self._commands_key(query), []))

    async def _delete_my_commands(self, query: Query) -> bool:
        self._state.commands.pop(self._commands_key(query), None)
        return True

    async def _send_chat_action(self, query: Query) -> bool:
        action = query.arg("action").lower()
        if action not in CHAT_ACTIONS:
            raise ApiError(400, errors.WRONG_CHAT_ACTION)
        chat = self._check_chat(query.arg("chat_id"))
        self._check_write(chat)
        chat.actions.append(action)
        return True

    async def _get_chat(self, query: Query) -> dict[str, Any]:
        chat = self._check_chat(query.arg("chat_id"))
        return {
            **chat.to_api(),
            "accent_color_id": 0,
            "max_reaction_count": 11,
            "accepted_gift_types": {
                "unlimited_gifts": False,
                "limited_gifts": False,
                "unique_gifts": False,
                "premium_subscription": False,
                "gifts_from_channels": False,
            },
        }

    async def _set_chat_menu_button(self, query: Query) -> bool:
        button = query.json("menu_button", "Can't parse menu button JSON object")
        if button is None:
            button = {"type": "default"}
        if not isinstance(button, dict) or button.get("type") not in {
            "default",
            "commands",
            "web_app",
        }:
            raise bad_request("Unsupported menu button type specified")
        if query.arg("chat_id"):
            self._check_chat(query.arg("chat_id")).menu_button = button
        else:
            self._state.default_menu_button = button
        return True

    async def _get_chat_menu_button(self, query: Query) -> dict[str, Any]:
        if query.arg("chat_id"):
            chat = self._check_chat(query.arg("chat_id"))
            if chat.menu_button is not None:
                return copy.deepcopy(chat.menu_button)
        return copy.deepcopy(self._state.default_menu_button)

    # Webhooks

    async def _set_webhook(self, query: Query) -> Described:
        url = query.arg("url")
        if not url:
            return await self._delete_webhook(query)
        if not url.startswith(("https://", "http://")):
            # Telegram wants HTTPS; plain HTTP is allowed here because tests run on loopback.
            raise bad_request("invalid webhook URL specified")
        secret = query.arg("secret_token") or None
        if secret is not None and not _SECRET.match(secret):
            raise bad_request("secret token contains unallowed characters")
        max_connections = query.integer("max_connections", 40, 1, 100)
        drop = query.flag("drop_pending_updates")
        current = self._webhook
        self._set_allowed_updates(query)
        if (
            current is not None
            and current.url == url
            and current.secret_token == secret
            and current.max_connections == max_connections
            and not drop
        ):
            return Described(True, "Webhook is already set")
        if self._long_poll is not None:
            self._long_poll.conflict = errors.TERMINATED_BY_SET_WEBHOOK
        if current is not None:
            await self._stop_webhook_worker(current)
        if drop:
            self._state.updates.clear()
        hook = _Webhook(url=url, secret_token=secret, max_connections=max_connections)
        self._webhook = hook
        hook.task = asyncio.create_task(self._deliver_webhook(hook))
        self._touch()
        return Described(True, "Webhook was set")

    async def _delete_webhook(self, query: Query) -> Described:
        if query.flag("drop_pending_updates"):
            self._state.updates.clear()
        hook = self._webhook
        if hook is None:
            return Described(True, "Webhook is already deleted")
        self._webhook = None
        await self._stop_webhook_worker(hook)
        return Described(True, "Webhook was deleted")

    async def _get_webhook_info(self, query: Query) -> dict[str, Any]:
        hook = self._webhook
        info: dict[str, Any] = {
            "url": hook.url if hook else "",
            "has_custom_certificate": False,
            "pending_update_count": len(self._state.updates),
        }
        if hook is not None:
            info["max_connections"] = hook.max_connections
            if hook.last_error_date is not None:
                info["last_error_date"] = hook.last_error_date
                info["last_error_message"] = hook.last_error_message
        if self._allowed_updates != DEFAULT_UPDATE_TYPES:
            info["allowed_updates"] = sorted(self._allowed_updates)
        return info

    async def _stop_webhook_worker(self, hook: _Webhook) -> None:
        task = hook.task
        hook.task = None
        if task is not None and not task.done():
            task.cancel()
            # wait() neither raises the worker's CancelledError nor swallows our own.
            await asyncio.wait([task])

    async def _deliver_webhook(self, hook: _Webhook) -> None:
        """POST updates one by one, in order, retrying a failed one like Telegram does."""
        while self._webhook is hook and not self._closing:
            if not self._state.updates:
                await self.wait_change(None)
                continue
            update = self._state.updates[0]
            headers = {"Content-Type": "application/json"}
            if hook.secret_token:
                headers["X-Telegram-Bot-Api-Secret-Token"] = hook.secret_token
            delivery = WebhookDelivery(hook.url, headers, copy.deepcopy(update), None)
            self.webhook_deliveries.append(delivery)
            try:
                await self._post_update(hook, delivery)
            except (aiohttp.ClientError, TimeoutError, _WebhookFailed) as error:
                delivery.error = str(error) or type(error).__name__
                hook.last_error_date = int(time.time())
                hook.last_error_message = delivery.error
                self._touch()
                await asyncio.sleep(self.webhook_retry_delay)
                continue
            if self._state.updates and self._state.updates[0] is update:
                self._state.updates.pop(0)
            self._touch()

    async def _post_update(self, hook: _Webhook, delivery: WebhookDelivery) -> None:
        assert self._http is not None
        async with self._http.post(
            hook.url, data=_dumps(delivery.update).encode(), headers=delivery.headers
        ) as response:
            delivery.status = response.status
            if not 200 <= response.status < 300:
                raise _WebhookFailed(
                    f"Wrong response from the webhook: {response.status} {response.reason}"
                )
            reply = await self._read_webhook_reply(response)
        if reply is not None:
            await self._run_webhook_reply(reply)

    @staticmethod
    async def _read_webhook_reply(response: aiohttp.ClientResponse) -> Query | None:
        """A method call the bot answered the webhook with, executed as Telegram would."""
        content_type = response.content_type
        args: dict[str, str] = {}
        if content_type == "application/json":
            try:
                body = await response.json()
            except ValueError:
                return None
            if not isinstance(body, dict):
                return None
            for name, value in body.items():
                if value is not None:
                    args[name] = value if isinstance(value, str) else _dumps(value)
        elif content_type == "multipart/form-data":
            reader = aiohttp.MultipartReader(response.headers, response.content)
            args = await read_multipart(reader)
        elif content_type == "application/x-www-form-urlencoded":
            args = dict(parse_qsl(await response.text()))
        if "method" not in args:
            return None
        return Query(args)

    async def _run_webhook_reply(self, query: Query) -> None:
        method = query.args.pop("method")
        entry = self._methods.get(method.lower())
        # Telegram gives no feedback for these calls, so the result is only recorded.
        await self._serve(entry, method, query, via_webhook_reply=True)


class _WebhookFailed(Exception):
    pass
