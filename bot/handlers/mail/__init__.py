"""E-mail verification: /mail buys an address (``order``), its card's buttons (``card``), /mails
lists the history (``history``). One router for the tree, the feature's routers inside it."""

from __future__ import annotations

from aiogram import Router

from bot.handlers.mail import card, history, order

router = Router(name=__name__)
router.include_routers(order.router, card.router, history.router)
