"""The router tree: private-chat features in a fixed order, the fallback last."""

from __future__ import annotations

from aiogram import F, Router
from aiogram.enums import ChatType

from bot.handlers import (
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
    rent,
    start,
)


def _detached(*routers: Router) -> tuple[Router, ...]:
    # Feature routers live at module level (one per feature); a process that builds several
    # dispatchers (tests, a webhook app beside polling) re-attaches them to the new tree.
    for router in routers:
        router._parent_router = None
    return routers


def get_routers() -> list[Router]:
    private = Router(name="private")
    private.message.filter(F.chat.type == ChatType.PRIVATE)
    private.callback_query.filter(F.message.chat.type == ChatType.PRIVATE)
    private.include_routers(
        *_detached(
            admin.router,
            start.router,
            keys.router,
            balance.router,
            language.router,
            buy.router,
            mail.router,
            rent.router,
            activation.router,
            fallback.router,
        )
    )
    return [*_detached(errors.router, membership.router, groups.router), private]
