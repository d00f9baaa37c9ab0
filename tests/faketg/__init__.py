"""A faithful fake of the Telegram Bot API for tests.

``FakeTelegram`` serves ``/bot<token>/<method>`` on loopback for the real aiogram client, in
process or for a bot started as ``python -m bot`` with ``TELEGRAM_API_BASE=server.base_url``.
Tests play users through ``server.user()`` and inspect chats, calls and callback answers.
"""

from .errors import ApiError
from .models import ApiCall, CallbackAnswer, ChatMessage, TgUser
from .server import FLOOD_METHODS, FakeTelegram, WebhookDelivery
from .sides import ChatSide, UserSide

__all__ = [
    "FLOOD_METHODS",
    "ApiCall",
    "ApiError",
    "CallbackAnswer",
    "ChatMessage",
    "ChatSide",
    "FakeTelegram",
    "TgUser",
    "UserSide",
    "WebhookDelivery",
]
