"""Telegram says when a user blocks or unblocks the bot: pushes pause and resume with it."""

from __future__ import annotations

from aiogram import Router
from aiogram.enums import ChatMemberStatus
from aiogram.types import ChatMemberUpdated

from bot.accounts import Accounts

router = Router(name=__name__)


@router.my_chat_member()
async def membership_changed(event: ChatMemberUpdated, accounts: Accounts) -> None:
    if event.chat.type != "private":
        return
    blocked = event.new_chat_member.status == ChatMemberStatus.KICKED
    await accounts.users.set_blocked(event.chat.id, blocked)
