"""The user's provider accounts (/key): connect one (choose the provider, send the key), list
them with their balances, make one the default, rename or remove one.

The message that carried a key is deleted at once, valid or not, and a key is stored only
after the provider accepted it. Keys never go into FSM data (which Redis keeps in plain text).
Every button names an account by id, and the id is looked up among the presser's own accounts
(``Accounts.by_id``): a forged one meets ``UnknownAccount`` and changes nothing.
"""

from __future__ import annotations

import logging
import re
from decimal import Decimal

from aiogram import F
from aiogram.filters import Command, CommandObject
from aiogram.fsm.context import FSMContext
from aiogram.fsm.state import State, StatesGroup
from aiogram.types import CallbackQuery, Message
from aiogram.utils.callback_answer import CallbackAnswer

from bot.accounts import Accounts
from bot.errors import NoKeyConnected, ProviderUnavailable
from bot.handlers.accounts import accounts_screen, show_accounts, webhook_note
from bot.handlers.routes import Routes
from bot.handlers.start import provider_choices
from bot.handlers.unsettled import alert
from bot.i18n import gettext as _
from bot.keyboards.callbacks import KeyAction, KeyCallback, ProviderCallback
from bot.keyboards.common import (
    cancel_keyboard,
    providers_keyboard,
)
from bot.provider import errors as pe
from bot.provider.presets import ProviderPreset, is_sandbox
from bot.services.account_items import AccountItems
from bot.telegram import delete, drop_keyboard, edit_text, inline_markup
from bot.texts import describe_error, escape, money
from bot.views.keys import deletion_note, next_steps
from bot.webhook_urls import WebhookUrls

router = Routes(name=__name__, answer_taps=True)
log = logging.getLogger(__name__)

_KEY_PATTERN = re.compile(r"^[A-Za-z0-9_\-.:=+/]{8,256}$")


class KeyForm(StatesGroup):
    waiting_key = State()


def _connected_text(preset: ProviderPreset, balance: Decimal, *, several: bool = False) -> str:
    text = _("Connected to {provider}. Balance: {amount}.").format(
        provider=escape(preset.title), amount=money(balance)
    )
    if several:
        text += "\n" + _("It is your default account now; /key lists all your accounts.")
    return text + "\n\n" + next_steps(preset)


async def _webhook_note(accounts: Accounts, urls: WebhookUrls | None, user_id: int) -> str:
    """The user's webhook URL for their provider profile, when the operator offers webhooks."""
    if urls is None:
        return ""
    try:
        account = await accounts.get(user_id)
    except (NoKeyConnected, ProviderUnavailable):
        return ""
    return webhook_note(urls, account)


async def _ask_provider(message: Message, accounts: Accounts, *, edit: bool = False) -> None:
    text = _("Choose your provider:")
    markup = providers_keyboard(provider_choices(accounts), cancel_label=_("Cancel"))
    if edit:
        await edit_text(message, text, markup)
    else:
        await message.answer(text, reply_markup=inline_markup(markup))


async def _receive_key(
    message: Message,
    raw_key: str,
    provider: str,
    state: FSMContext,
    accounts: Accounts,
    key_deleted: bool | None,
    urls: WebhookUrls | None,
) -> None:
    """Delete the key's message (unless the KeyGuard did), check the key with the provider,
    store it if accepted; every answer first says whether the message is gone."""
    deleted = key_deleted if key_deleted is not None else await delete(message)
    note = deletion_note(deleted)
    user_id = message.chat.id
    preset = accounts.hub.preset(provider)
    if preset is None:
        await state.clear()
        await message.answer(
            note + "\n" + _("That provider is not offered any more. Send /key again.")
        )
        return
    key = raw_key.strip()
    if not _KEY_PATTERN.match(key):
        await message.answer(
            note
            + "\n"
            + _(
                "That does not look like an API key (8 to 256 letters, digits and -_.:=+/). "
                "Send the key again, or /cancel."
            ),
            reply_markup=inline_markup(cancel_keyboard(_("Cancel"))),
        )
        return
    try:
        balance = (await accounts.connect(user_id, provider, key))[1]
    except pe.AuthError:
        await message.answer(
            note
            + "\n"
            + _(
                "{provider} did not accept this key. Nothing was stored. Check the key in your "
                "{provider} profile and send it again, or /cancel."
            ).format(provider=escape(preset.title)),
            reply_markup=inline_markup(cancel_keyboard(_("Cancel"))),
        )
        return
    except pe.ProviderError as error:
        log.warning("key check failed for user %s: %s", user_id, type(error).__name__)
        await message.answer(
            note
            + "\n"
            + describe_error(error, preset.title)
            + "\n"
            + _(
                "The key was not stored. Send it again when {provider} answers, or /cancel."
            ).format(provider=escape(preset.title)),
            reply_markup=inline_markup(cancel_keyboard(_("Cancel"))),
        )
        return
    await state.clear()
    hook = await _webhook_note(accounts, urls, user_id)
    several = len((await accounts.users.account_book(user_id)).active) > 1
    await message.answer(note + "\n" + _connected_text(preset, balance, several=several) + hook)


@router.message(Command("key"))
async def key_command(
    message: Message,
    command: CommandObject,
    state: FSMContext,
    accounts: Accounts,
    account_items: AccountItems,
    key_deleted: bool | None = None,
    webhook_urls: WebhookUrls | None = None,
) -> None:
    user_id = message.chat.id
    if command.args:
        data = await state.get_data()
        provider = data.get("provider") or await accounts.users.get_provider(user_id)
        presets = [p for p in accounts.hub.presets if not is_sandbox(p.name)]
        if provider is None and len(presets) == 1:
            provider = presets[0].name
        if provider is None or is_sandbox(provider):
            deleted = key_deleted if key_deleted is not None else await delete(message)
            await message.answer(
                deletion_note(deleted) + "\n" + _("Choose the provider first, then send the key.")
            )
            await _ask_provider(message, accounts)
            return
        await _receive_key(
            message, command.args, provider, state, accounts, key_deleted, webhook_urls
        )
        return
    await account_items.forget_finished(user_id)
    if not await accounts.all(user_id):
        await _ask_provider(message, accounts)
        return
    text, markup = await accounts_screen(accounts, user_id)
    await message.answer(
        text + await _webhook_note(accounts, webhook_urls, user_id),
        reply_markup=inline_markup(markup),
    )


@router.callback_query(ProviderCallback.filter())
async def provider_chosen(
    query: CallbackQuery,
    callback_data: ProviderCallback,
    state: FSMContext,
    accounts: Accounts,
    callback_answer: CallbackAnswer,
) -> None:
    preset = accounts.hub.preset(callback_data.name)
    if preset is None or not isinstance(query.message, Message):
        alert(callback_answer, _("This provider is not offered."))
        return
    user_id = query.from_user.id
    if is_sandbox(preset.name):
        try:
            balance = await accounts.connect_sandbox(user_id, preset.name)
        except pe.ProviderError as error:
            alert(callback_answer, describe_error(error, preset.title))
            return
        await state.clear()
        await edit_text(
            query.message,
            _("This is the sandbox: numbers and codes are simulated, and nothing is charged.")
            + "\n"
            + _connected_text(preset, balance),
        )
        return
    await state.set_state(KeyForm.waiting_key)
    await state.update_data(provider=preset.name)
    await edit_text(
        query.message,
        _(
            "Send your {provider} API key (you find it in your profile on their site). "
            "I will delete your message right away."
        ).format(provider=escape(preset.title)),
        cancel_keyboard(_("Cancel")),
    )


@router.message(KeyForm.waiting_key, F.text)
async def key_received(
    message: Message,
    state: FSMContext,
    accounts: Accounts,
    key_deleted: bool | None = None,
    webhook_urls: WebhookUrls | None = None,
) -> None:
    assert message.text is not None
    if message.text.startswith("/"):
        await message.answer(_("Send the key itself, or /cancel."))
        return
    data = await state.get_data()
    provider = data.get("provider")
    if not isinstance(provider, str):
        await state.clear()
        await _ask_provider(message, accounts)
        return
    await _receive_key(message, message.text, provider, state, accounts, key_deleted, webhook_urls)


@router.message(KeyForm.waiting_key)
async def key_not_text(message: Message) -> None:
    await message.answer(_("Send the key as text, or /cancel."))


@router.callback_query(KeyCallback.filter())
async def key_menu(
    query: CallbackQuery, callback_data: KeyCallback, state: FSMContext, accounts: Accounts
) -> None:
    if not isinstance(query.message, Message):
        return
    match callback_data.action:
        case KeyAction.CONNECT | KeyAction.REPLACE:
            await _ask_provider(query.message, accounts, edit=True)
        case KeyAction.REMOVE | KeyAction.REMOVE_CONFIRM:
            # A button of the single-key menu of before: removing now starts from the list.
            await show_accounts(query.message, accounts, query.from_user.id)
        case KeyAction.CLOSE:
            await state.clear()
            await drop_keyboard(query.message)
