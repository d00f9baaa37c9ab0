"""What a provider sells, with short-lived caching so menus do not hammer the provider.

Cached per provider (not per user): prices and stock move, so the TTLs are short.
"""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, Protocol

from redis.asyncio import Redis

from bot.catalogue import POPULAR_SERVICES, SERVICES, service_name
from bot.provider import errors as pe
from bot.provider.client import ProviderClient
from bot.provider.presets import Feature
from bot.storage.cache import JsonCache

SERVICES_TTL = 6 * 3600
OFFERS_TTL = 60
RATES_TTL = 3600
OPERATORS_TTL = 3600
#: How long one process reuses what it read from the shared cache: every tap in a menu reads
#: the same lists again, and each read is a Redis round trip plus a JSON parse.
LOCAL_TTL = 5.0
LOCAL_BOUND = 1_000


class ProviderAccount(Protocol):
    """What the catalogue reads of an account: the provider its cache is kept under, the client
    that asks, and the features that say which calls to make (``UserAccount`` is one)."""

    @property
    def provider(self) -> str: ...

    @property
    def client(self) -> ProviderClient: ...

    def supports(self, feature: Feature) -> bool: ...


@dataclass(frozen=True, slots=True)
class Offer:
    country: int
    price: Decimal
    count: int
    rate: Decimal | None = None


class CatalogueService:
    def __init__(self, redis: Redis, clock: Callable[[], float] = time.monotonic) -> None:
        self._shared = JsonCache(redis)
        self._clock = clock
        # key -> (monotonic expiry, value); values are shared, so callers never change them.
        self._local: dict[str, tuple[float, Any]] = {}

    async def _cached(self, key: str, ttl: int, fetch: Callable[[], Awaitable[Any]]) -> Any:
        now = self._clock()
        hit = self._local.get(key)
        if hit is not None and hit[0] > now:
            return hit[1]
        value = await self._shared.get(key)
        if value is None:
            value = await fetch()
            await self._shared.put(key, value, ttl)
        if len(self._local) >= LOCAL_BOUND:
            self._local = {k: v for k, v in self._local.items() if v[0] > now}
        self._local[key] = (self._clock() + min(ttl, LOCAL_TTL), value)
        return value

    async def service_codes(self, account: ProviderAccount) -> list[str]:
        """Codes the provider sells, most popular first; the bundled table when it cannot say."""

        async def fetch() -> list[str]:
            if account.supports(Feature.SERVICES_LIST):
                try:
                    listed = await account.client.get_services_list()
                except pe.ProviderError:
                    listed = []
                codes = [item.code for item in listed if item.code]
                if codes:
                    return codes
            return [code for code in SERVICES if code != "full"]

        codes: list[str] = await self._cached(f"{account.provider}:services", SERVICES_TTL, fetch)
        popularity = {code: rank for rank, code in enumerate(POPULAR_SERVICES)}
        return sorted(codes, key=lambda c: (popularity.get(c, len(popularity)), c))

    async def is_service(self, account: ProviderAccount, code: str) -> bool:
        return code in SERVICES or code in await self.service_codes(account)

    def name(self, code: str, locale: str) -> str:
        return service_name(code, locale)

    async def offers(self, account: ProviderAccount, service: str) -> list[Offer]:
        """Countries with stock for the service, cheapest first."""

        async def fetch() -> list[dict[str, Any]]:
            rows: list[dict[str, Any]] = []
            if account.supports(Feature.TOP_COUNTRIES):
                try:
                    top = await account.client.get_top_countries_by_service(service)
                except pe.BadService:
                    raise
                except pe.ProviderError:
                    top = []
                rows = [
                    {"country": t.country, "price": str(t.price), "count": t.count} for t in top
                ]
            if not rows:
                prices = await account.client.get_prices(service)
                rows = [
                    {"country": country, "price": str(info.cost), "count": info.count}
                    for country, services in prices.items()
                    for code, info in services.items()
                    if code == service
                ]
            return rows

        rows = await self._cached(f"{account.provider}:offers:{service}", OFFERS_TTL, fetch)
        offers = [
            Offer(int(row["country"]), Decimal(row["price"]), int(row["count"]))
            for row in rows
            if int(row["count"]) > 0
        ]
        return sorted(offers, key=lambda o: (o.price, -o.count))

    async def offer(self, account: ProviderAccount, service: str, country: int) -> Offer | None:
        for offer in await self.offers(account, service):
            if offer.country == country:
                return offer
        return None

    async def rates(self, account: ProviderAccount, service: str) -> dict[int, Decimal]:
        """Success rate per country, where the provider publishes it."""
        if not account.supports(Feature.COUNTRY_RATES):
            return {}

        async def fetch() -> dict[str, str]:
            try:
                shares = await account.client.get_list_of_top_countries_by_service(service)
            except pe.ProviderError:
                return {}
            return {str(s.country): str(s.rate) for s in shares}

        raw = await self._cached(f"{account.provider}:rates:{service}", RATES_TTL, fetch)
        return {int(country): Decimal(rate) for country, rate in raw.items()}

    async def multi_countries(self, account: ProviderAccount) -> set[int]:
        """Countries where one number can serve several services (getCountries' flag)."""
        if not account.supports(Feature.MULTI_SERVICE):
            return set()

        async def fetch() -> list[int]:
            countries = await account.client.get_countries()
            return [c.id for c in countries.values() if c.multi_service]

        found: list[int] = await self._cached(
            f"{account.provider}:multi_countries", SERVICES_TTL, fetch
        )
        return set(found)

    async def multi_offers(self, account: ProviderAccount, services: list[str]) -> list[Offer]:
        """Countries selling every one of ``services`` on one number: summed price, least stock."""
        allowed = await self.multi_countries(account)
        combined: dict[int, Offer] | None = None
        for service in services:
            offers = {o.country: o for o in await self.offers(account, service)}
            if combined is None:
                combined = {c: o for c, o in offers.items() if c in allowed}
                continue
            combined = {
                c: Offer(c, o.price + offers[c].price, min(o.count, offers[c].count))
                for c, o in combined.items()
                if c in offers
            }
        return sorted((combined or {}).values(), key=lambda o: (o.price, -o.count))

    async def operators(self, account: ProviderAccount, country: int) -> list[str]:
        if not account.supports(Feature.OPERATORS):
            return []

        async def fetch() -> list[str]:
            try:
                found = await account.client.get_operators(country)
            except pe.ProviderError:
                return []
            return [op for op in found.get(country, []) if op and op != "any"]

        result: list[str] = await self._cached(
            f"{account.provider}:operators:{country}", OPERATORS_TTL, fetch
        )
        return list(result)
