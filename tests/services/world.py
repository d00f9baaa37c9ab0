"""What the service tests share: the world they drive, and the choices any test can make."""

from __future__ import annotations

from dataclasses import dataclass

from bot.accounts import UserAccount
from bot.resources import Resources
from bot.sandbox import Emulator
from bot.services.rents import RentService
from bot.storage.activations import Activation, BuyOptions
from bot.storage.rents import RentOptions


@dataclass
class ServiceWorld:
    """The bot's services and the emulated provider, for one connected user's account."""

    resources: Resources
    emulator: Emulator
    account: UserAccount

    def paid(self, action: str) -> int:
        """How many ``action`` calls the provider served."""
        return sum(1 for call in self.emulator.calls if call.action == action)

    def heal(self) -> None:
        """The provider answers every call again."""
        self.emulator.faults.configure(rate=0.0, kinds=[])

    async def forwarding_number(self) -> Activation:
        """A number with call forwarding that got its first code: services can be added."""
        service = self.resources.activation_service
        # Forwarding numbers are sold for "any other service" in the emulator's market.
        options = BuyOptions(service="ot", country=0, forward=True)
        outcome = await service.buy(self.account, await service.draft(self.account, options))
        assert outcome.item is not None
        self.emulator.deliver_sms(outcome.item.id, "Your code 5151", code="5151")
        return await service.refresh(self.account, outcome.item)


async def first_rent_options(
    service: RentService, account: UserAccount, hours: int = 4
) -> RentOptions:
    """A rent of ``hours`` of the first service in the first country the menus offer."""
    menu = await service.menu(account, hours)
    country = menu.countries[0]
    menu = await service.menu(account, hours, country)
    choice = menu.choices[0]
    return RentOptions(service=choice.service, country=country, hours=hours, price=choice.price)
