"""E-mail verification, one router for the tree with the feature's routers inside.

``order``: /mail buys an address; ``card``: the mailbox card's buttons; ``history``: /mails.
"""

from __future__ import annotations

from aiogram import Router

from bot.handlers.mail import card, history, order

router = Router(name=__name__)
router.include_routers(order.router, card.router, history.router)
