"""The commands menu, in one place: setMyCommands per language and /help read it."""

from __future__ import annotations

from aiogram.types import BotCommand
from babel.support import LazyProxy

from bot.i18n import I18n
from bot.i18n import lazy_gettext as __

COMMANDS: tuple[tuple[str, LazyProxy], ...] = (
    ("buy", __("Buy a number for a service")),
    ("active", __("Your open activations")),
    ("history", __("Your past activations")),
    ("prices", __("Prices and stock for a service")),
    ("rent", __("Rent a number for hours or days")),
    ("rents", __("Your rented numbers")),
    ("mail", __("Buy an e-mail address for a site")),
    ("mails", __("Your e-mail addresses")),
    ("balance", __("Your balance")),
    ("key", __("Your provider accounts: add, rename, remove")),
    ("language", __("Change the language")),
    ("cancel", __("Leave the current dialog")),
    ("help", __("What I can do")),
    ("start", __("Start and connect your account")),
)


def bot_commands(i18n: I18n, locale: str) -> list[BotCommand]:
    with i18n.context(), i18n.use_locale(locale):
        return [BotCommand(command=name, description=str(text)) for name, text in COMMANDS]
