"""One catalogue across a user's accounts: every account's price and stock for a service in a
country, asked at once, each with its own timeout, cheapest first.

A provider that is slow or down must not hold up the others: its account is listed among those
that did not answer (with why), and the board is drawn from the rest. Pure of Telegram: the
views in bot/views/offers.py draw what this returns.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from decimal import Decimal
from enum import StrEnum
from typing import Protocol

from bot.provider import errors as pe
from bot.provider.presets import Feature
from bot.services.catalogue import CatalogueService, ProviderAccount

#: Seconds one account's offer may take before the board is drawn without it (OFFER_TIMEOUT).
DEFAULT_OFFER_TIMEOUT = 4.0


class OfferAccount(ProviderAccount, Protocol):
    """An account as the offers screen names it: its id (in buttons) and its label (in text)."""

    @property
    def account_id(self) -> str: ...

    @property
    def label(self) -> str: ...


@dataclass(frozen=True, slots=True)
class AccountOffer:
    """One account's offer: ``rate`` is the success rate (percent) where the provider says it."""

    account_id: str
    label: str
    provider: str
    price: Decimal
    count: int
    rate: Decimal | None = None


class Silence(StrEnum):
    """Why an account is not on the board."""

    TIMEOUT = "timeout"  # no answer within OFFER_TIMEOUT
    ERROR = "error"  # the provider answered with an error, or could not be reached
    UNSUPPORTED = "unsupported"  # the provider does not sell activations, or not this service


@dataclass(frozen=True, slots=True)
class AccountName:
    """An account as the screen names it, off the list of offers."""

    account_id: str
    label: str


@dataclass(frozen=True, slots=True)
class SoldOut(AccountName):
    """An account that answered, with no numbers of the service in the country."""


@dataclass(frozen=True, slots=True)
class SilentAccount(AccountName):
    """An account that did not answer in time, or not usefully: ``reason`` says which."""

    reason: Silence


@dataclass(frozen=True, slots=True)
class OfferBoard:
    """Every account's answer for ``service`` in ``country``: ``offers`` cheapest first (then
    most stock, then the accounts' own order, the default first)."""

    service: str
    country: int
    operator: str | None
    offers: tuple[AccountOffer, ...]
    sold_out: tuple[SoldOut, ...] = ()
    silent: tuple[SilentAccount, ...] = ()

    def offer_of(self, account_id: str) -> AccountOffer | None:
        return next((o for o in self.offers if o.account_id == account_id), None)

    def cheapest(self) -> AccountOffer | None:
        """The cheapest offer with numbers in stock (what ``/buy tg 6`` buys)."""
        return next((o for o in self.offers if o.count > 0), None)

    def without(self, *account_ids: str) -> OfferBoard:
        """The board after a ``NO_NUMBERS`` on ``account_ids``: their offers move to sold out."""
        gone = set(account_ids)
        moved = tuple(SoldOut(o.account_id, o.label) for o in self.offers if o.account_id in gone)
        return replace(
            self,
            offers=tuple(o for o in self.offers if o.account_id not in gone),
            sold_out=self.sold_out + moved,
        )

    def next_after(self, *failed: str) -> AccountOffer | None:
        """The offer to try after ``NO_NUMBERS`` on the accounts ``failed``: the cheapest of
        the others with stock, or None when no account is left."""
        return self.without(*failed).cheapest()


def sort_offers(offers: Iterable[AccountOffer], order: Sequence[str]) -> list[AccountOffer]:
    """Cheapest first; at one price the most stock, then the accounts' order (``order``: their
    ids, the default first)."""
    rank = {account_id: index for index, account_id in enumerate(order)}
    return sorted(offers, key=lambda o: (o.price, -o.count, rank.get(o.account_id, len(rank))))


Answer = AccountOffer | SoldOut | SilentAccount


class OfferService:
    """Asks every account at once; ``timeout``: seconds each one may take (OFFER_TIMEOUT)."""

    def __init__(
        self, catalogue: CatalogueService, timeout: float = DEFAULT_OFFER_TIMEOUT
    ) -> None:
        self.catalogue = catalogue
        self.timeout = timeout

    async def board(
        self,
        accounts: Sequence[OfferAccount],
        service: str,
        country: int,
        operator: str | None = None,
    ) -> OfferBoard:
        """The offers of ``accounts`` (default first) for ``service`` in ``country``; with
        ``operator``, the stock is that operator's."""
        answers = await asyncio.gather(
            *(self._answer(account, service, country, operator) for account in accounts)
        )
        order = [account.account_id for account in accounts]
        return OfferBoard(
            service=service,
            country=country,
            operator=operator,
            offers=tuple(sort_offers((a for a in answers if isinstance(a, AccountOffer)), order)),
            sold_out=tuple(a for a in answers if isinstance(a, SoldOut)),
            silent=tuple(a for a in answers if isinstance(a, SilentAccount)),
        )

    async def cheapest(
        self, accounts: Sequence[OfferAccount], service: str, country: int
    ) -> tuple[AccountOffer | None, OfferBoard]:
        """The cheapest offer with stock among ``accounts``, and the board it was chosen from
        (to say who did not answer, or to fall over after a ``NO_NUMBERS``)."""
        board = await self.board(accounts, service, country)
        return board.cheapest(), board

    async def _answer(
        self, account: OfferAccount, service: str, country: int, operator: str | None
    ) -> Answer:
        def silent(reason: Silence) -> SilentAccount:
            return SilentAccount(account.account_id, account.label, reason)

        if not account.supports(Feature.ACTIVATIONS):
            return silent(Silence.UNSUPPORTED)
        try:
            async with asyncio.timeout(self.timeout):
                return await self._ask(account, service, country, operator)
        except TimeoutError:
            return silent(Silence.TIMEOUT)
        except pe.BadService:
            return silent(Silence.UNSUPPORTED)
        except pe.ProviderTimeout:
            return silent(Silence.TIMEOUT)
        except pe.ProviderError:
            return silent(Silence.ERROR)

    async def _ask(
        self, account: OfferAccount, service: str, country: int, operator: str | None
    ) -> AccountOffer | SoldOut:
        offer = await self.catalogue.offer(account, service, country)
        count = offer.count if offer is not None else 0
        if offer is not None and operator:
            # The price list is per country; only getNumbersStatus counts one operator's stock.
            stock = await account.client.get_numbers_status(country, operator)
            count = stock.get(service, 0)
        if offer is None or count <= 0:
            return SoldOut(account.account_id, account.label)
        rates = await self.catalogue.rates(account, service)
        return AccountOffer(
            account_id=account.account_id,
            label=account.label,
            provider=account.provider,
            price=offer.price,
            count=count,
            rate=rates.get(country),
        )
