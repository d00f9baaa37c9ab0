"""/balance: the connected account's balance, or every account's and the total."""

from __future__ import annotations

from aiogram.filters import Command
from aiogram.types import Message

from bot.accounts import Accounts
from bot.handlers.accounts import account_rows
from bot.handlers.routes import Routes
from bot.i18n import gettext as _
from bot.provider.presets import Feature
from bot.services.account_items import balances
from bot.texts import escape, money
from bot.views.accounts import balance_text

router = Routes(name=__name__)


@router.message(Command("balance"))
async def balance_command(message: Message, accounts: Accounts) -> None:
    user_id = message.chat.id
    account = await accounts.get(user_id)  # no key, or its provider gone: the errors router
    connected = await accounts.all(user_id)
    if len(connected) > 1:
        # Asked all at once; one that fails or is slow says so and hides none of the others.
        rows = account_rows(connected, await balances(connected))
        await message.answer(_("Your balances:") + "\n" + balance_text(rows))
        return
    info = await account.client.get_balance_info(with_cashback=account.supports(Feature.CASHBACK))
    lines = [
        _("Balance on {provider}: {amount}").format(
            provider=escape(account.preset.title), amount=f"<b>{money(info.balance)}</b>"
        )
    ]
    if info.cashback:
        lines.append(_("Cashback: {amount}").format(amount=money(info.cashback)))
    await message.answer("\n".join(lines))
