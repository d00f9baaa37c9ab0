"""Catalogue actions: stock, prices, countries, operators and service names."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from bot.provider.actions.base import ActionBase, comma_list, flag
from bot.provider.errors import Empty, MalformedResponse
from bot.provider.models import Country, CountryShare, PriceInfo, ServiceName, TopCountry
from bot.provider.values import indexed_values, to_int


class CatalogueActions(ActionBase):
    async def get_numbers_status(
        self, country: int | None = None, operator: str | Sequence[str] | None = None
    ) -> dict[str, int]:
        """Stock per service. Legacy ``_0``/``_1`` forwarding suffixes are folded."""
        action = "getNumbersStatus"
        answer = await self._call(action, country=country, operator=comma_list(operator))
        counts: dict[str, int] = {}
        for key, value in self._object(action, answer).items():
            service = key[:-2] if key.endswith(("_0", "_1")) else key
            try:
                count = to_int(value)
            except ValueError:
                continue
            counts[service] = max(count, counts.get(service, 0))
        return counts

    async def get_top_countries_by_service(
        self, service: str | None = None, *, free_price: bool = False
    ) -> list[TopCountry]:
        action = "getTopCountriesByService"
        answer = await self._call(action, service=service, freePrice=flag(free_price))
        return self._models(action, TopCountry, self._list(action, answer), answer.raw)

    async def get_operators(self, country: int | None = None) -> dict[int, list[str]]:
        action = "getOperators"
        try:
            answer = await self._call(action, country=country)
        except Empty:
            return {}
        data = self._object(action, answer).get("countryOperators") or {}
        if not isinstance(data, dict):
            raise MalformedResponse(
                f"{action}: no countryOperators", answer.raw[:500], action=action
            )
        result: dict[int, list[str]] = {}
        for key, operators in data.items():
            names = indexed_values(operators) if operators else []
            result[to_int(key)] = [str(name) for name in names]
        return result

    async def get_prices(
        self, service: str | None = None, country: int | None = None
    ) -> dict[int, dict[str, PriceInfo]]:
        """Country -> service -> price and stock."""
        action = "getPrices"
        answer = await self._call(action, service=service, country=country)
        result: dict[int, dict[str, PriceInfo]] = {}
        for country_key, services in self._object(action, answer).items():
            if not isinstance(services, dict):
                continue
            result[to_int(country_key)] = {
                code: self._model(action, PriceInfo, _price_fields(info), answer.raw)
                for code, info in services.items()
                if isinstance(info, dict)
            }
        return result

    async def get_prices_verification(
        self, service: str | None = None
    ) -> dict[str, dict[int, PriceInfo]]:
        """Service -> country -> price (note: the nesting is the reverse of getPrices)."""
        action = "getPricesVerification"
        answer = await self._call(action, service=service)
        result: dict[str, dict[int, PriceInfo]] = {}
        for code, countries in self._object(action, answer).items():
            if not isinstance(countries, dict):
                continue
            result[code] = {
                to_int(country): self._model(action, PriceInfo, _price_fields(info), answer.raw)
                for country, info in countries.items()
                if isinstance(info, dict)
            }
        return result

    async def get_countries(self) -> dict[int, Country]:
        action = "getCountries"
        answer = await self._call(action)
        body = answer.body
        if isinstance(body, dict):
            # Keyed by id; an entry may omit its own "id".
            items = [
                {"id": key, **value} if isinstance(value, dict) else value
                for key, value in body.items()
            ]
        else:
            items = self._list(action, answer)
        countries = self._models(action, Country, items, answer.raw)
        return {country.id: country for country in countries}

    async def get_list_of_top_countries_by_service(
        self, service: str, *, length: int | None = None, page: int | None = None
    ) -> list[CountryShare]:
        action = "getListOfTopCountriesByService"
        answer = await self._call(action, service=service, length=length, page=page)
        return self._models(action, CountryShare, self._list(action, answer), answer.raw)

    async def get_services_list(
        self, country: int | None = None, lang: str | None = None
    ) -> list[ServiceName]:
        action = "getServicesList"
        answer = await self._call(action, country=country, lang=lang)
        body = answer.body
        services = body.get("services") if isinstance(body, dict) else body
        if not isinstance(services, list | dict):
            raise MalformedResponse(f"{action}: no services", answer.raw[:500], action=action)
        return self._models(action, ServiceName, indexed_values(services), answer.raw)


def _price_fields(info: dict[str, Any]) -> dict[str, Any]:
    """getPrices says ``cost``/``count`` (or ``quant``); getPricesVerification ``price``."""
    fields = dict(info)
    if "cost" not in fields and "price" in fields:
        fields["cost"] = fields["price"]
    if "count" not in fields and "quant" in fields:
        fields["count"] = fields["quant"]
    return fields
