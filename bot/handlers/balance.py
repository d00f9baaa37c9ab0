from __future__ import annotations

from aiogram.filters import Command
from aiogram.types import Message
from aiogram.utils.i18n import gettext as _

from bot.accounts import Accounts
from bot.handlers.routes import Routes
from bot.provider.presets import Feature
from bot.texts import escape, money

router = Routes(name=__name__)


@router.message(Command("balance"))
async def balance_command(message: Message, accounts: Accounts) -> None:
    account = await accounts.get(message.chat.id)
    info = await account.client.get_balance_info(with_cashback=account.supports(Feature.CASHBACK))
    lines = [
        _("Balance on {provider}: {amount}").format(
            provider=escape(account.preset.title), amount=f"<b>{money(info.balance)}</b>"
        )
    ]
    if info.cashback:
        lines.append(_("Cashback: {amount}").format(amount=money(info.cashback)))
    await message.answer("\n".join(lines))
