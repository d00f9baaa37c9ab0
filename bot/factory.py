"""Building the Bot and the Dispatcher from opened resources. Main and tests call these."""

from __future__ import annotations

from typing import Any

from aiogram import Bot
from aiogram.client.default import DefaultBotProperties
from aiogram.client.telegram import TelegramAPIServer
from aiogram.enums import ParseMode
from aiogram.fsm.storage.base import BaseStorage, DefaultKeyBuilder

from bot.config import Settings
from bot.dispatcher import BotDispatcher
from bot.door import Door
from bot.handlers import get_routers
from bot.lifespan import setup_lifespan
from bot.middlewares.account import AccountMiddleware
from bot.middlewares.i18n import UserLocaleMiddleware
from bot.middlewares.isolation import OrderedEventIsolation
from bot.middlewares.key_guard import KeyGuard
from bot.middlewares.menu import MenuBinding
from bot.middlewares.slow import TypingWhileSlow
from bot.middlewares.updates import UpdateCounter
from bot.resources import Resources
from bot.storage import keys
from bot.storage.fsm import ScopedRedisStorage
from bot.telegram import BotSession, WaitOutRetryAfter

#: Updates handled at once by one polling process (the rest wait their turn). A provider that
#: hangs holds at most its lane (LANE_CALLS + LANE_WAITING, bot/provider/lane.py) times
#: PER_USER_IN_FLIGHT (bot/door.py) of them: the rest stay free for everyone else.
UPDATES_IN_FLIGHT = 100


def build_bot(settings: Settings, **session_options: Any) -> Bot:
    if settings.bot_token is None:
        raise ValueError("BOT_TOKEN is required to run the bot")
    if settings.telegram_api_base:
        api = TelegramAPIServer.from_base(settings.telegram_api_base)
        session = BotSession(api=api, **session_options)
    else:
        session = BotSession(**session_options)
    session.middleware(WaitOutRetryAfter())
    return Bot(
        settings.bot_token.get_secret_value(),
        session=session,
        default=DefaultBotProperties(parse_mode=ParseMode.HTML, link_preview_is_disabled=True),
    )


def build_dispatcher(resources: Resources, *, storage: BaseStorage | None = None) -> BotDispatcher:
    key_builder = DefaultKeyBuilder(prefix=keys.FSM_PREFIX)
    if storage is None:
        storage = ScopedRedisStorage(resources.redis, key_builder=key_builder)
    # One update at a time per chat, across replicas: a key sent right after choosing the
    # provider must meet the state that choice set, not race past it.
    isolation = OrderedEventIsolation(resources.redis, key_builder, storage)
    settings = resources.settings
    # Throttled on arrival, before this lock (see bot/door.py).
    door = Door(rate=settings.throttle_rate, window=settings.throttle_window)
    dispatcher = BotDispatcher(
        door=door, storage=storage, events_isolation=isolation, **resources.workflow_data()
    )
    UserLocaleMiddleware(resources.i18n, resources.users).setup(dispatcher)
    dispatcher.message.outer_middleware(KeyGuard())
    dispatcher.update.outer_middleware(UpdateCounter(resources.metrics))
    # First of the inner ones: "typing" covers the account's look-up too. (Taps: routes.py.)
    dispatcher.message.middleware(TypingWhileSlow())
    # Before the account: a tap on an old menu is refused without reading anything else.
    dispatcher.message.middleware(MenuBinding())
    dispatcher.callback_query.middleware(MenuBinding())
    dispatcher.message.middleware(AccountMiddleware(resources.accounts))
    dispatcher.callback_query.middleware(AccountMiddleware(resources.accounts))
    dispatcher.include_routers(*get_routers())
    setup_lifespan(dispatcher, resources)
    return dispatcher
