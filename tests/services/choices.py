"""What the service tests choose when any choice will do."""

from __future__ import annotations

from bot.accounts import UserAccount
from bot.services.rents import RentService
from bot.storage.rents import RentOptions


async def first_rent_options(
    service: RentService, account: UserAccount, hours: int = 4
) -> RentOptions:
    """A rent of ``hours`` of the first service in the first country the menus offer."""
    menu = await service.menu(account, hours)
    country = menu.countries[0]
    menu = await service.menu(account, hours, country)
    choice = menu.choices[0]
    return RentOptions(service=choice.service, country=country, hours=hours, price=choice.price)
