"""The bot's Bot API session: aiogram's, minus rebuilding a response model now and then."""

from __future__ import annotations

import gc
import weakref

from aiogram import Bot
from aiogram.methods import GetMe

from bot.telegram import BotSession

ME = '{"ok": true, "result": {"id": 1, "is_bot": true, "first_name": "bot"}}'


def response_model_survives(session: BotSession) -> bool:
    bot = Bot("42:TEST", session=session)
    response = session.check_response(bot, GetMe(), 200, ME)
    assert response.result is not None
    assert response.result.id == 1
    model = weakref.ref(type(response))
    del response
    gc.collect()
    return model() is not None


async def test_response_models_are_built_once() -> None:
    # With a bare AiohttpSession (and nothing else pinning it) the model is freed here, and
    # the next getMe builds it again.
    session = BotSession()
    try:
        assert response_model_survives(session)
    finally:
        await session.close()
