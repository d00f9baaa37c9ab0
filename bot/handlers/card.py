"""The activation card a button was pressed on, looked up once for every card button.

A button names an activation by id, and callback data is never trusted: a handler flagged
``flags=CARD`` gets ``card: PressedCard`` only after ``owned_activation`` found the activation
among the presser's own (else ``StaleButton`` reaches the errors router, before anything is
asked of the provider). The middleware is an inner one: flags and ``callback_data`` are known
once the handler is chosen.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Final

from aiogram import BaseMiddleware
from aiogram.dispatcher.flags import get_flag
from aiogram.types import CallbackQuery, Message, TelegramObject

from bot.accounts import Accounts, UserAccount
from bot.handlers.copies import Copies
from bot.handlers.owned import owned_activation
from bot.keyboards.callbacks import (
    ActCallback,
    AdditionalCallback,
    AdditionalConfirmCallback,
    ExtraCallback,
)
from bot.keyboards.markup import Keyboard
from bot.middlewares.base import Handler
from bot.provider.presets import Feature
from bot.services.activations import ActivationService
from bot.storage.activations import Activation
from bot.views.activation import render_card

CARD_FLAG: Final = "activation_card"
CARD: Final = {CARD_FLAG: True}


async def render(
    activation: Activation, account: UserAccount, service: ActivationService, locale: str
) -> tuple[str, Keyboard | None]:
    """The card, with the other services on the same number when there are any."""
    group = await service.activations.with_group(activation)
    return render_card(
        group,
        locale,
        ready_status=account.supports(Feature.READY_STATUS),
        extra=account.supports(Feature.EXTRA_ACTIVATION),
        now=service.clock(),
    )


@dataclass(frozen=True, slots=True)
class PressedCard:
    """The presser's own activation a button names, with the account it was bought with."""

    activation: Activation
    account: UserAccount
    service: ActivationService
    locale: str
    copies: Copies

    async def render(self, activation: Activation) -> tuple[str, Keyboard | None]:
        """``activation`` (this one as it is now, or one bought from it) as a card."""
        return await render(activation, self.account, self.service, self.locale)

    async def redraw(self, query: CallbackQuery, activation: Activation) -> None:
        """Redraw the card whose button was pressed, showing ``activation`` (with the countdown
        as of now, in the presser's language), and every other copy of its card."""
        tapped = query.message if isinstance(query.message, Message) else None
        text, markup = await self.render(activation)
        await self.copies.draw(tapped, activation, self.service.activations, text, markup)


class CardMiddleware(BaseMiddleware):
    async def __call__(self, handler: Handler, event: TelegramObject, data: dict[str, Any]) -> Any:
        if not get_flag(data, CARD_FLAG) or not isinstance(event, CallbackQuery):
            return await handler(event, data)
        callback_data: (
            ActCallback | AdditionalCallback | AdditionalConfirmCallback | ExtraCallback
        ) = data["callback_data"]
        accounts: Accounts = data["accounts"]
        service: ActivationService = data["activation_service"]
        activation, account = await owned_activation(
            service.activations, accounts, event.from_user.id, callback_data.id, data.get("glance")
        )
        data["card"] = PressedCard(activation, account, service, data["locale"], Copies.of(data))
        return await handler(event, data)
