"""Renting a number: /rent, the rent card, its extension and /rents.

Modules: ``order`` (the steps of /rent and typed input), ``buttons`` (one handler per /rent
button), ``card`` (the card's buttons and /rents), ``extend`` (the extension dialog),
``dialog`` (states and the typed FSM data), ``outcome`` (what a confirmation led to).
"""

from __future__ import annotations

from bot.handlers.rent import buttons, card, extend, order
from bot.handlers.routes import Routes
from bot.middlewares.callback_answer import AnswerUnlessFailed

router = Routes(name=__name__)
router.callback_query.middleware(AnswerUnlessFailed())
router.include_routers(order.router, buttons.router, card.router, extend.router)
