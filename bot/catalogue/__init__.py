"""SMS-Activate's countries and services: ids, codes and names shared by the UI and the sandbox."""

from bot.catalogue.countries import (
    COUNTRIES,
    Country,
    country,
    country_name,
    pick_countries,
    search_countries,
)
from bot.catalogue.services import (
    POPULAR_SERVICES,
    SERVICES,
    Service,
    search_services,
    service,
    service_name,
)

__all__ = [
    "COUNTRIES",
    "POPULAR_SERVICES",
    "SERVICES",
    "Country",
    "Service",
    "country",
    "country_name",
    "pick_countries",
    "search_countries",
    "search_services",
    "service",
    "service_name",
]
