"""Telegram says when a user blocks or unblocks the bot: pushes pause and resume with it."""

from __future__ import annotations

from aiogram.enums import ChatMemberStatus
from aiogram.types import ChatMemberUpdated

from bot.accounts import Accounts
from bot.handlers.routes import Routes
from bot.services import activation_rules, mail_rules, rent_rules
from bot.services.activations import ActivationService
from bot.services.mails import MailService
from bot.services.rents import RentService

router = Routes(name=__name__)

#: How many of a user's latest items are looked at again when they come back.
RECENT = 20


@router.my_chat_member()
async def membership_changed(
    event: ChatMemberUpdated,
    accounts: Accounts,
    activation_service: ActivationService,
    rent_service: RentService,
    mail_service: MailService,
) -> None:
    if event.chat.type != "private":
        return
    user_id = event.chat.id
    blocked = event.new_chat_member.status == ChatMemberStatus.KICKED
    await accounts.users.set_blocked(user_id, blocked)
    if blocked:
        return
    # What arrived while the bot was blocked goes out now, not at the next slow poll. A closed
    # item polled once more only hands over what is still undelivered.
    schedule = activation_service.schedule
    for activation in await activation_service.activations.of_user(user_id, limit=RECENT):
        await schedule.due_now(activation_rules.member(activation.ref))
    for rent in await rent_service.rents.of_user(user_id, limit=RECENT):
        await schedule.due_now(rent_rules.member(rent.ref))
    for mailbox in await mail_service.mails.of_user(user_id, limit=RECENT):
        await schedule.due_now(mail_rules.member(mailbox.ref))
