"""E-mail verification, one router for the tree with the feature's routers inside.

``order``: /mail buys an address; ``card``: the mailbox card's buttons; ``history``: /mails.
Their callbacks are answered by ``AnswerUnlessFailed``: a handler sets ``callback_answer``.
"""

from __future__ import annotations

from bot.handlers.mail import card, history, order
from bot.handlers.routes import Routes

router = Routes(name=__name__, answer_taps=True)
router.include_routers(order.router, card.router, history.router)
