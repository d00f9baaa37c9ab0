"""Buying a number: service -> country -> options and confirmation -> the activation card.

One message is edited in place through the steps (typed input is answered with a new one).
Each button has its own handler and typed callback data; every value from a button is checked
again against what the provider offers, since callback data is never trusted.
"""

from __future__ import annotations

from bot.handlers.buy import countries, entry, offers, options, services
from bot.handlers.buy.draft import DraftMiddleware
from bot.handlers.card import CardMiddleware
from bot.handlers.routes import Routes

router = Routes(name=__name__, answer_taps=True)
router.include_routers(
    entry.router, services.router, countries.router, offers.router, options.router
)
# Inside the callback answer: a stale draft or a card not the presser's is explained through it.
router.callback_query.middleware(DraftMiddleware())
router.callback_query.middleware(CardMiddleware())
router.message.middleware(DraftMiddleware())
