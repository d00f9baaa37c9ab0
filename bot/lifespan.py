"""How ``python -m bot`` starts and stops what runs beside it (bot/side.py).

``on_startup``/``on_shutdown`` are the dispatcher's hooks (polling or webhook mode); in webhook
mode the side services' HTTP endpoint also takes Telegram's updates.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from dataclasses import dataclass
from urllib.parse import urlparse

from aiogram import Bot, Dispatcher
from aiogram.exceptions import TelegramAPIError
from aiogram.webhook.aiohttp_server import SimpleRequestHandler
from aiohttp import web

from bot.commands import bot_commands
from bot.config import SUPPORTED_LOCALES, Settings
from bot.dispatcher import BotDispatcher
from bot.resources import Resources
from bot.side import SideServices

log = logging.getLogger(__name__)

#: The dispatcher's workflow data key for this process's ``SideServices``.
SIDE_SERVICES = "side_services"


async def set_commands(bot: Bot, resources: Resources) -> None:
    """The commands menu in each language; the default scope in the default language."""
    i18n = resources.i18n
    default = resources.settings.default_locale
    await bot.set_my_commands(bot_commands(i18n, default))
    for locale in SUPPORTED_LOCALES:
        await bot.set_my_commands(bot_commands(i18n, locale), language_code=locale)


@dataclass(frozen=True, slots=True)
class TelegramWebhook:
    """Telegram's updates on the side services' HTTP endpoint, at WEBHOOK_URL's path."""

    dispatcher: Dispatcher
    bot: Bot
    path: str
    secret: str

    @classmethod
    def configured(cls, settings: Settings, dispatcher: Dispatcher, bot: Bot) -> TelegramWebhook:
        assert settings.webhook_url is not None
        assert settings.webhook_secret is not None  # the settings insist on it
        return cls(
            dispatcher,
            bot,
            path=urlparse(settings.webhook_url).path or "/",
            secret=settings.webhook_secret.get_secret_value(),
        )

    def __call__(self, app: web.Application) -> None:
        handler = SimpleRequestHandler(self.dispatcher, self.bot, secret_token=self.secret)
        handler.register(app, path=self.path)


def setup_lifespan(dispatcher: BotDispatcher, resources: Resources) -> SideServices:
    """Give the dispatcher its side services and the hooks that start and stop them.

    They go into the workflow data now, before startup: polling hands both hooks the workflow
    data as it was when polling began.
    """
    services = SideServices(resources)
    dispatcher[SIDE_SERVICES] = services
    dispatcher.startup.register(on_startup)
    dispatcher.shutdown.register(on_shutdown)
    return services


async def on_startup(bot: Bot, side_services: SideServices, dispatcher: Dispatcher) -> None:
    resources = side_services.resources
    settings = resources.settings
    telegram = None
    if settings.webhook_url:
        telegram = TelegramWebhook.configured(settings, dispatcher, bot)
    await side_services.start(run_worker=settings.run_worker, telegram=telegram)
    try:
        await set_commands(bot, resources)
    except TelegramAPIError as error:
        # A menu is a nicety: the bot works without it.
        log.warning("could not set the commands menu: %s", type(error).__name__)
    with contextlib.suppress(TelegramAPIError):
        me = await bot.get_me()
        log.info("bot @%s started", me.username)


async def finish_updates(dispatcher: BotDispatcher | None, timeout: float = 20.0) -> None:
    """Let updates already being handled finish before their Redis and clients close."""
    pending = dispatcher.updates_in_flight() if dispatcher is not None else []
    if pending:
        log.info("waiting for %s updates in flight", len(pending))
        await asyncio.wait(pending, timeout=timeout)


async def on_shutdown(
    side_services: SideServices, dispatcher: BotDispatcher | None = None
) -> None:
    log.info("bot stopping")
    await finish_updates(dispatcher)
    await side_services.stop()
