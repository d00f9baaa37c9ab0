"""The /key screen's accounts: each one's balance, the default mark, rename, make default and
remove (asking first, and saying how many open items the account still has).

``/key`` itself and connecting an account live in keys.py; this router acts on accounts named
by buttons, each id checked against the presser's own accounts (``Accounts.by_id``).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from decimal import Decimal

from aiogram import F
from aiogram.fsm.context import FSMContext
from aiogram.fsm.state import State, StatesGroup
from aiogram.types import CallbackQuery, Message
from aiogram.utils.callback_answer import CallbackAnswer

from bot.accounts import Accounts, UserAccount
from bot.handlers.routes import Routes
from bot.i18n import gettext as _
from bot.keyboards.accounts import (
    account_keyboard,
    accounts_keyboard,
    confirm_account_removal_keyboard,
)
from bot.keyboards.callbacks import AccountAction, AccountCallback
from bot.keyboards.common import cancel_keyboard
from bot.keyboards.markup import Keyboard
from bot.provider.presets import is_sandbox
from bot.services.account_items import AccountItems, balances
from bot.storage.accounts import TITLE_LIMIT
from bot.telegram import edit_text, inline_markup
from bot.texts import escape
from bot.views.accounts import (
    AccountRow,
    account_text,
    accounts_text,
    removal_question,
    removed_note,
)
from bot.views.keys import webhook_text
from bot.webhook_urls import WebhookUrls

router = Routes(name=__name__, answer_taps=True)


class AccountForm(StatesGroup):
    waiting_title = State()


def account_rows(
    connected: Sequence[UserAccount], amounts: Sequence[Decimal | None]
) -> list[AccountRow]:
    """The rows of a screen listing ``connected`` (the default first) with their balances;
    accounts that would read the same (two keys of one provider, no titles) are told apart by
    the start of their ids."""
    same = Counter(account.label for account in connected)
    return [
        AccountRow(
            account.label
            if same[account.label] == 1
            else f"{account.label} · {account.account_id[:4]}",
            account.preset.title,
            amount,
            index == 0,
        )
        for index, (account, amount) in enumerate(zip(connected, amounts, strict=True))
    ]


async def accounts_screen(
    accounts: Accounts, user_id: int, note: str = ""
) -> tuple[str, Keyboard]:
    """The list of the user's accounts with their balances (asked all at once)."""
    connected = await accounts.all(user_id)
    rows = account_rows(connected, await balances(connected))
    buttons = [
        (account.account_id, row.button()) for account, row in zip(connected, rows, strict=True)
    ]
    markup = accounts_keyboard(buttons, "➕ " + _("Add an account"), _("Close"))
    return accounts_text(rows, note), markup


async def show_accounts(
    message: Message, accounts: Accounts, user_id: int, note: str = ""
) -> None:
    await edit_text(message, *await accounts_screen(accounts, user_id, note))


def webhook_note(urls: WebhookUrls | None, account: UserAccount) -> str:
    """The account's own webhook URL for its provider profile, when the operator offers
    webhooks (each account has its own)."""
    if urls is None or is_sandbox(account.provider):
        return ""
    url = urls.url(account)
    return "" if url is None else "\n\n" + webhook_text(url, account.preset.title)


async def _show_account(
    message: Message, accounts: Accounts, account: UserAccount, urls: WebhookUrls | None
) -> None:
    default = await accounts.get(account.user_id)
    is_default = default.account_id == account.account_id
    row = AccountRow(account.label, account.preset.title, None, is_default)
    markup = account_keyboard(
        account.account_id,
        None if is_default else _("Make default"),
        _("Rename"),
        _("Remove"),
        "« " + _("Back"),
    )
    await edit_text(message, account_text(row) + webhook_note(urls, account), markup)


@router.callback_query(AccountCallback.filter())
async def account_pressed(
    query: CallbackQuery,
    callback_data: AccountCallback,
    state: FSMContext,
    accounts: Accounts,
    account_items: AccountItems,
    callback_answer: CallbackAnswer,
    webhook_urls: WebhookUrls | None = None,
) -> None:
    if not isinstance(query.message, Message):
        return
    user_id = query.from_user.id
    if callback_data.action is AccountAction.LIST:
        await state.clear()
        await show_accounts(query.message, accounts, user_id)
        return
    # A forged or stale id stops here (UnknownAccount): nothing below runs for it.
    account = await accounts.by_id(user_id, callback_data.account)
    match callback_data.action:
        case AccountAction.OPEN:
            await state.clear()
            await _show_account(query.message, accounts, account, webhook_urls)
        case AccountAction.DEFAULT:
            await accounts.users.set_default(user_id, account.account_id)
            callback_answer.text = _("{name} is your default account now.").format(
                name=account.label
            )
            await show_accounts(query.message, accounts, user_id)
        case AccountAction.RENAME:
            await state.set_state(AccountForm.waiting_title)
            await state.update_data(account=account.account_id)
            await edit_text(
                query.message,
                _("Send a new name for {name} (up to {limit} characters), or /cancel.").format(
                    name=f"<b>{escape(account.label)}</b>", limit=TITLE_LIMIT
                ),
                cancel_keyboard(_("Cancel")),
            )
        case AccountAction.REMOVE:
            open_items = (await account_items.open_counts(user_id))[account.account_id]
            await edit_text(
                query.message,
                removal_question(account.label, open_items),
                confirm_account_removal_keyboard(account.account_id, _("Yes, remove"), _("No")),
            )
        case AccountAction.REMOVE_CONFIRM:
            open_items = await account_items.remove(user_id, account.account_id)
            note = removed_note(account.label, open_items)
            if await accounts.all(user_id):
                await show_accounts(query.message, accounts, user_id, note)
            else:
                await edit_text(query.message, note + "\n" + _("Send /key to connect one."))


@router.message(AccountForm.waiting_title, F.text, ~F.text.startswith("/"))
async def title_received(message: Message, state: FSMContext, accounts: Accounts) -> None:
    assert message.text is not None
    account_id = (await state.get_data()).get("account")
    await state.clear()
    # Checked again: the account may have been removed since the button was pressed.
    account = await accounts.by_id(message.chat.id, str(account_id))
    await accounts.users.rename_account(message.chat.id, account.account_id, message.text)
    text, markup = await accounts_screen(accounts, message.chat.id, _("Renamed."))
    await message.answer(text, reply_markup=inline_markup(markup))
