"""Handler tests: the real dispatcher and router tree, fed real updates, with fakes at the edges.

Telegram is the FakeTelegram state machine served in-process (no sockets): a session hands
each Bot API call straight to it, so edits, deletes and "message is not modified" behave as
on Telegram. Providers are the emulator behind an in-process httpx transport; Redis is
fakeredis.

One emulator per harness: the bot's own "Sandbox" provider (SANDBOX=1, so that it is offered
as in production) builds its emulator only when a test first uses it (see LazySandbox).
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import AbstractContextManager, asynccontextmanager
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any
from unittest import mock

import httpx
from aiogram import Bot, Dispatcher
from aiogram.client.default import DefaultBotProperties
from aiogram.types import Update
from fakeredis import FakeAsyncRedis

from bot import resources as resources_module
from bot.botapi import BotApi
from bot.config import Settings
from bot.factory import build_dispatcher
from bot.provider.client import build_http_client
from bot.provider.transport import Transport
from bot.resources import DemoProvider, Resources, SandboxRuntime, close_resources, open_resources
from bot.sandbox import Clock, Emulator, EmulatorConfig, EmulatorTransport
from bot.worker import Worker, build_worker
from tests.faketg import ChatMessage, FakeTelegram, UserSide
from tests.faketg.session import InProcessSession
from tests.faketg.transport import FakeTelegramTransport

TOKEN = "123456:TEST-TOKEN"
PROVIDER_URL = "https://provider.test/stubs/handler_api.php"
OTHER_URL = "https://other.test/stubs/handler_api.php"
GOOD_KEY = "GoodKey0123456789abcdef"
#: A provider with every feature, rent included (HeroSMS has no rent).
RENT_PROVIDERS = f"sms-activate={PROVIDER_URL}"
#: SMS-Activate's preset sells mail; HeroSMS's does not (both are the emulator here).
MAIL_PROVIDERS = f"sms-activate={PROVIDER_URL},herosms={OTHER_URL}"
START = 1_790_000_000.0


class LazySandbox(SandboxRuntime):
    """The bot's SandboxRuntime, built on first use instead of with every harness.

    Building it builds an emulator (a whole market) and saves its state on shutdown: most
    handler tests never touch the sandbox, so that was a second emulator per test for nothing.
    The real runtime does all the work once built; until then nothing exists to save.
    """

    def __init__(
        self, data_dir: Path, demo: DemoProvider = resources_module.DEMO_PROVIDERS[0]
    ) -> None:
        self.data_dir = data_dir
        self.demo = demo
        self.path = data_dir / demo.state_file
        self._runtime: SandboxRuntime | None = None
        self._started = False
        self.http = build_http_client(transport=_DeferredTransport(self))

    def runtime(self) -> SandboxRuntime:
        if self._runtime is None:
            self._runtime = SandboxRuntime(self.data_dir, self.demo)
            if self._started:
                self._runtime.start()
        return self._runtime

    @property
    def emulator(self) -> Emulator:
        return self.runtime().emulator

    @emulator.setter
    def emulator(self, emulator: Emulator) -> None:
        self.runtime().emulator = emulator

    def ensure_account(self, key: str, balance: Decimal) -> None:
        self.runtime().ensure_account(key, balance)

    def start(self) -> None:
        self._started = True
        if self._runtime is not None:
            self._runtime.start()

    async def stop(self) -> None:
        if self._runtime is not None:
            await self._runtime.stop()
            await self._runtime.http.aclose()


class _DeferredTransport(httpx.AsyncBaseTransport):
    """The sandbox client's transport, handing each request to the runtime once built."""

    def __init__(self, sandbox: LazySandbox) -> None:
        self.sandbox = sandbox

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        return await EmulatorTransport(self.sandbox.emulator).handle_async_request(request)


class ChatUser:
    """A Telegram user whose actions go through the dispatcher before returning."""

    def __init__(self, harness: Harness, side: UserSide) -> None:
        self.harness = harness
        self.side = side

    @property
    def id(self) -> int:
        return self.side.user_id

    @property
    def chat(self) -> list[ChatMessage]:
        return self.side.chat

    @property
    def messages(self) -> list[ChatMessage]:
        return self.side.messages

    def deleted(self, message: ChatMessage) -> bool:
        """The message is gone from the chat (the bot deleted it)."""
        return message.message_id not in [m.message_id for m in self.chat]

    def last(self) -> ChatMessage:
        return self.side.last_bot_message()

    def message(self, message_id: int) -> ChatMessage:
        return self.side.message(message_id)

    def texts(self) -> list[str]:
        return [message.text for message in self.side.bot_messages]

    async def send(self, text: str) -> ChatMessage:
        message = await self.side.send(text)
        await self.harness.feed()
        return message

    async def send_expecting(self, text: str, *expected: str) -> ChatMessage:
        """Send ``text``; the bot's last message afterwards must contain each of ``expected``."""
        await self.send(text)
        reply = self.last()
        for part in expected:
            assert part in reply.text, (part, reply.text)
        return reply

    async def press(self, button: str, message: ChatMessage | int | None = None) -> str:
        query_id = await self.side.press(button, message)
        await self.harness.feed()
        return query_id

    async def press_data(self, message_id: int, data: str) -> str:
        query_id = await self.side.press_data(message_id, data)
        await self.harness.feed()
        return query_id

    async def tap_twice(self, message: ChatMessage, prefix: str) -> str:
        """Press the button starting with ``prefix`` on ``message``, then send its callback once
        more (a second device, a repeated callback); returns the second query's id."""
        button = message.button_starting(prefix)
        data = message.callback_of(button)
        await self.press(button, message)
        return await self.press_data(message.message_id, data)

    def answer(self, query_id: str) -> str | None:
        answer = self.side.callback_answers.get(query_id)
        return None if answer is None else answer.text


@dataclass(eq=False)
class Harness:
    server: FakeTelegram
    bot: Bot
    dispatcher: Dispatcher
    resources: Resources
    emulator: Emulator
    worker: Worker

    def user(self, *, language_code: str = "en", first_name: str = "Alice") -> ChatUser:
        side = self.server.user(language_code=language_code, first_name=first_name)
        return ChatUser(self, side)

    def wrap(self, side: UserSide) -> ChatUser:
        """A user of an earlier harness (same fake Telegram), acting through this one."""
        return ChatUser(self, side)

    def group(self) -> Any:
        return self.server.group_chat()

    async def feed(self) -> None:
        for raw in self.server.take_updates():
            update = Update.model_validate(raw, context={"bot": self.bot})
            await self.dispatcher.feed_update(self.bot, update)

    async def poll(self) -> int:
        """One pass of the worker over everything due now (as the running bot would)."""
        return await self.worker.run_once()

    async def sent(self) -> None:
        """Wait for what the worker handed to its outbox (pushes go out beside the polls)."""
        await self.worker.ctx.outbox.drain()

    async def advance(self, seconds: float) -> None:
        """Move the provider's (and the bot's) clock, then let the worker catch up."""
        self.emulator.advance(seconds)
        await self.poll()

    async def chose_provider(self, provider: str = "HeroSMS", language: str = "en") -> ChatUser:
        """A new user who sent /start and chose ``provider`` (the bot then asks for its key,
        unless the provider needs none)."""
        user = self.user(language_code=language)
        await user.send("/start")
        await user.press(provider)
        return user

    async def connect(
        self, user: ChatUser, key: str = GOOD_KEY, provider: str = "HeroSMS"
    ) -> None:
        """Onboard a user with a working key (through the real /key flow)."""
        await user.send("/start")
        await user.press(provider)
        await user.send(key)
        assert "Connected" in user.last().text or "Подключено" in user.last().text

    async def connected(
        self, language: str = "en", name: str = "Alice", provider: str = "HeroSMS"
    ) -> ChatUser:
        """A new user, onboarded with a working key for ``provider``."""
        user = self.user(language_code=language, first_name=name)
        await self.connect(user, provider=provider)
        assert provider in user.last().text
        return user


def make_settings(data_dir: Path, **overrides: Any) -> Settings:
    values: dict[str, Any] = {
        "BOT_TOKEN": TOKEN,
        "DATA_DIR": data_dir,
        "SMS_PROVIDERS": f"herosms={PROVIDER_URL},smshub={OTHER_URL}",
        "SECRET_KEY": "handler-tests-secret-key",
        "SANDBOX": True,
        "THROTTLE_RATE": 1000,
        # Handler tests drive the worker themselves (harness.worker.run_once()).
        "RUN_WORKER": False,
        "TELEGRAM_CHAT_INTERVAL": 0,
        "HTTP_PORT": 0,
        # Tests read each tap's own answer; on a busy machine an update may take over the
        # default second, and the early answer would stand in for it. Slowness is tested by
        # setting it low (tests/handlers/test_slow_provider.py).
        "SLOW_REPLY_AFTER": 30,
    }
    values.update(overrides)
    return Settings(_env_file=None, **values)


@asynccontextmanager
async def running_harness(
    data_dir: Path,
    *,
    redis: FakeAsyncRedis | None = None,
    server: FakeTelegram | None = None,
    emulator: Emulator | None = None,
    wrap_transport: Callable[[httpx.AsyncBaseTransport], httpx.AsyncBaseTransport] | None = None,
    clock: Callable[[], float] | None = None,
    **overrides: Any,
) -> AsyncIterator[Harness]:
    """A bot built from scratch; pass redis/server/emulator of an earlier one to "restart".

    The bot's wall clock is the emulator's unless ``clock`` is given (a host clock that jumps
    while the provider's does not); its steady clock is always the emulator's: a leap of the
    emulator's clock is time passing.
    ``wrap_transport`` puts something between the bot and the emulator (a hung provider).
    """
    if emulator is None:
        emulator = Emulator(EmulatorConfig(seed=7), Clock(frozen_at=START))
        emulator.add_account(GOOD_KEY, balance=Decimal("50"))
    transport: httpx.AsyncBaseTransport = EmulatorTransport(emulator)
    if wrap_transport is not None:
        transport = wrap_transport(transport)
    http = httpx.AsyncClient(transport=transport)
    settings = make_settings(data_dir, **overrides)
    server = server or FakeTelegram(TOKEN)
    with mock.patch.object(resources_module, "SandboxRuntime", LazySandbox):
        resources = await open_resources(
            settings,
            redis=redis or FakeAsyncRedis(),
            http=http,
            clock=clock or emulator.clock.now,
            steady=emulator.clock.now,
            # The worker's (and the cards') Bot API: the same fake Telegram as aiogram's.
            bot_api=BotApi(TOKEN, transport=FakeTelegramTransport(server)),
        )
    bot = Bot(
        TOKEN,
        session=InProcessSession(server),
        default=DefaultBotProperties(parse_mode="HTML", link_preview_is_disabled=True),
    )
    dispatcher = build_dispatcher(resources)
    harness = Harness(server, bot, dispatcher, resources, emulator, build_worker(resources))
    await dispatcher.emit_startup(bot=bot, dispatcher=dispatcher, **dispatcher.workflow_data)
    try:
        with no_retry_pauses():
            yield harness
    finally:
        await dispatcher.emit_shutdown(bot=bot, **dispatcher.workflow_data)
        await close_resources(resources)


def no_retry_pauses() -> AbstractContextManager[Any]:
    """Provider clients made meanwhile retry failed reads at once (``backoff=0``, as
    tests/provider's clients do): the provider runs on a frozen clock that a pause does not
    move, so the retries, their number and what the user then sees are the same, minus
    seconds of real sleep in every fault test. A provider's Retry-After is still waited out."""
    defaults = Transport.__init__.__kwdefaults__
    assert defaults is not None
    assert "backoff" in defaults
    return mock.patch.dict(defaults, backoff=0.0)
