"""Renting a number: /rent, the rent card, its extension and /rents.

Modules: ``order`` (the steps of /rent and typed input), ``buttons`` (one handler per /rent
button), ``card`` (the card's buttons and /rents), ``extend`` (the extension dialog),
``dialog`` (states and the typed FSM data), ``context`` (what a handler is handed: the wizard,
the draft so far, the rent a button names), ``outcome`` (what a confirmation led to).
"""

from __future__ import annotations

from bot.handlers.rent import buttons, card, extend, order
from bot.handlers.rent.context import WizardMiddleware
from bot.handlers.routes import Routes

router = Routes(name=__name__, answer_taps=True)
# Inside the callback answer: a stale menu is explained through it.
router.callback_query.middleware(WizardMiddleware())
router.message.middleware(WizardMiddleware())
router.include_routers(order.router, buttons.router, card.router, extend.router)
