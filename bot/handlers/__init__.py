"""The router tree: private-chat features in a fixed order, the fallback last.

Each call builds new Routers from the feature modules' ``Routes`` (see routes.py), so every
dispatcher a process builds gets a tree of its own.
"""

from __future__ import annotations

from aiogram import F, Router
from aiogram.enums import ChatType

from bot.handlers import (
    accounts,
    activation,
    admin,
    balance,
    buy,
    errors,
    fallback,
    groups,
    keys,
    language,
    mail,
    membership,
    prices,
    rent,
    start,
)


def get_routers() -> list[Router]:
    private = Router(name="private")
    private.message.filter(F.chat.type == ChatType.PRIVATE)
    private.callback_query.filter(F.message.chat.type == ChatType.PRIVATE)
    private.include_routers(
        admin.router.build(),
        start.router.build(),
        keys.router.build(),
        accounts.router.build(),
        balance.router.build(),
        language.router.build(),
        buy.router.build(),
        mail.router.build(),
        rent.router.build(),
        activation.router.build(),
        prices.router.build(),
        fallback.router.build(),
    )
    return [errors.router.build(), membership.router.build(), groups.router.build(), private]
