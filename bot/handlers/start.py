from __future__ import annotations

from aiogram import F
from aiogram.filters import Command, CommandStart
from aiogram.fsm.context import FSMContext
from aiogram.types import CallbackQuery, Message
from aiogram.utils.callback_answer import CallbackAnswer

from bot.accounts import Accounts
from bot.commands import COMMANDS
from bot.handlers.routes import Routes
from bot.i18n import gettext as _
from bot.keyboards.callbacks import DialogCallback
from bot.keyboards.common import providers_keyboard
from bot.services.checkout import OrderKind
from bot.storage.orders import OrderRepo
from bot.telegram import drop_keyboard, inline_markup
from bot.texts import escape

router = Routes(name=__name__, answer_taps=True)


def provider_choices(accounts: Accounts) -> list[tuple[str, str]]:
    return [(preset.name, preset.title) for preset in accounts.hub.presets]


@router.message(CommandStart())
async def start(message: Message, state: FSMContext, accounts: Accounts) -> None:
    await state.clear()
    user = message.from_user
    assert user is not None  # private chats only
    await accounts.users.register(user.id)
    greeting = _(
        "Hi, {name}! I buy phone numbers for SMS verification from your provider and bring "
        "the codes here by themselves.\n"
        "You pay the provider directly, with your own API key; I keep it encrypted."
    ).format(name=escape(user.first_name))
    provider = await accounts.users.get_provider(user.id)
    preset = accounts.hub.preset(provider) if provider else None
    if preset is not None and await accounts.users.has_key(user.id):
        await message.answer(
            greeting
            + "\n\n"
            + _("Your {provider} account is connected. See /balance and /help.").format(
                provider=escape(preset.title)
            )
        )
        return
    await message.answer(
        greeting + "\n\n" + _("To begin, choose your provider:"),
        reply_markup=inline_markup(providers_keyboard(provider_choices(accounts))),
    )


@router.message(Command("help"))
async def help_command(message: Message) -> None:
    lines = [_("What I can do:")]
    lines += [f"/{name} — {text}" for name, text in COMMANDS]
    lines.append("")
    lines.append(
        _("Codes arrive here by themselves. Your API key is stored encrypted and never shown.")
    )
    await message.answer("\n".join(lines))


@router.message(Command("cancel"))
async def cancel_command(message: Message, state: FSMContext, orders: OrderRepo) -> None:
    had_dialog = await state.get_state() is not None
    await state.clear()
    if message.from_user is not None:
        # A confirmation shown before /cancel must not buy when tapped later.
        await orders.void(message.from_user.id, [kind.value for kind in OrderKind])
    await message.answer(_("Cancelled.") if had_dialog else _("Nothing to cancel."))


@router.callback_query(DialogCallback.filter(F.action == "cancel"))
async def cancel_button(
    query: CallbackQuery, state: FSMContext, callback_answer: CallbackAnswer
) -> None:
    await state.clear()
    callback_answer.text = _("Cancelled.")
    if isinstance(query.message, Message):
        await drop_keyboard(query.message)
