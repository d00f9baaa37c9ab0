"""Connecting a provider account: choose the provider, send the key, replace or remove it.

The message that carried a key is deleted at once, valid or not, and a key is stored only
after the provider accepted it. Keys never go into FSM data (which Redis keeps in plain text).
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
from aiogram.utils.i18n import gettext as _

from bot.accounts import Accounts
from bot.errors import NoKeyConnected, ProviderUnavailable
from bot.handlers.routes import Routes
from bot.handlers.start import provider_choices
from bot.handlers.unsettled import alert
from bot.keyboards.callbacks import KeyAction, KeyCallback, ProviderCallback
from bot.keyboards.common import (
    cancel_keyboard,
    confirm_remove_keyboard,
    key_menu_keyboard,
    providers_keyboard,
)
from bot.provider import errors as pe
from bot.provider.presets import SANDBOX_NAME, ProviderPreset
from bot.telegram import delete, drop_keyboard, edit_text
from bot.texts import describe_error, escape, money
from bot.views.keys import deletion_note, next_steps, webhook_text
from bot.webhook_urls import WebhookUrls

router = Routes(name=__name__, answer_taps=True)
log = logging.getLogger(__name__)

_KEY_PATTERN = re.compile(r"^[A-Za-z0-9_\-.:=+/]{8,256}$")


class KeyForm(StatesGroup):
    waiting_key = State()


def _connected_text(preset: ProviderPreset, balance: Decimal) -> str:
    text = _("Connected to {provider}. Balance: {amount}.").format(
        provider=escape(preset.title), amount=money(balance)
    )
    return text + "\n\n" + next_steps(preset)


async def _webhook_note(accounts: Accounts, urls: WebhookUrls | None, user_id: int) -> str:
    """The user's webhook URL for their provider profile, when the operator offers webhooks."""
    if urls is None:
        return ""
    try:
        account = await accounts.get(user_id)
    except (NoKeyConnected, ProviderUnavailable):
        return ""
    url = urls.url(account) if account.provider != SANDBOX_NAME else None
    return "" if url is None else "\n\n" + webhook_text(url, account.preset.title)


async def _ask_provider(message: Message, accounts: Accounts, *, edit: bool = False) -> None:
    text = _("Choose your provider:")
    markup = providers_keyboard(provider_choices(accounts), cancel_label=_("Cancel"))
    if edit:
        await edit_text(message, text, markup)
    else:
        await message.answer(text, reply_markup=markup)


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
            reply_markup=cancel_keyboard(_("Cancel")),
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
            reply_markup=cancel_keyboard(_("Cancel")),
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
            reply_markup=cancel_keyboard(_("Cancel")),
        )
        return
    await state.clear()
    hook = await _webhook_note(accounts, urls, user_id)
    await message.answer(note + "\n" + _connected_text(preset, balance) + hook)


@router.message(Command("key"))
async def key_command(
    message: Message,
    command: CommandObject,
    state: FSMContext,
    accounts: Accounts,
    key_deleted: bool | None = None,
    webhook_urls: WebhookUrls | None = None,
) -> None:
    user_id = message.chat.id
    if command.args:
        data = await state.get_data()
        provider = data.get("provider") or await accounts.users.get_provider(user_id)
        presets = [p for p in accounts.hub.presets if p.name != SANDBOX_NAME]
        if provider is None and len(presets) == 1:
            provider = presets[0].name
        if provider is None or provider == SANDBOX_NAME:
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
    account_provider = await accounts.users.get_provider(user_id)
    preset = accounts.hub.preset(account_provider) if account_provider else None
    if preset is not None and await accounts.users.has_key(user_id):
        await message.answer(
            _("Your {provider} key is connected.").format(provider=escape(preset.title))
            + await _webhook_note(accounts, webhook_urls, user_id),
            reply_markup=key_menu_keyboard(_("Replace"), _("Remove"), _("Close")),
        )
        return
    await _ask_provider(message, accounts)


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
    if preset.name == SANDBOX_NAME:
        try:
            balance = await accounts.connect_sandbox(user_id)
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
    user_id = query.from_user.id
    match callback_data.action:
        case KeyAction.CONNECT | KeyAction.REPLACE:
            await _ask_provider(query.message, accounts, edit=True)
        case KeyAction.REMOVE:
            await edit_text(
                query.message,
                _("Remove your stored key? I will stop following your numbers."),
                confirm_remove_keyboard(_("Yes, remove"), _("No")),
            )
        case KeyAction.REMOVE_CONFIRM:
            book = await accounts.users.account_book(user_id)
            default = book.default_account
            removed = default is not None
            if default is not None:
                await accounts.users.forget_accounts(user_id, [default.id])
            await state.clear()
            await edit_text(
                query.message,
                _("Your key is removed.") if removed else _("No key was stored."),
            )
        case KeyAction.CLOSE:
            await drop_keyboard(query.message)
