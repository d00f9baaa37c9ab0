"""One catalogue across a user's accounts: every account's price and stock for a service in a
country, asked at once, each with its own timeout, cheapest first.

A provider that is slow or down must not hold up the others: its account is listed among those
that did not answer (with why), and the board is drawn from the rest. Pure of Telegram: the
views in bot/views/offers.py draw what this returns.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Coroutine, Iterable, Sequence
from dataclasses import dataclass, replace
from decimal import Decimal
from enum import StrEnum
from typing import Any, Protocol, TypeVar

from bot.provider import errors as pe
from bot.provider.presets import Feature
from bot.services.catalogue import CatalogueService, Offer, ProviderAccount

#: Seconds one account's offer may take before the board is drawn without it (OFFER_TIMEOUT).
DEFAULT_OFFER_TIMEOUT = 4.0


class OfferAccount(ProviderAccount, Protocol):
    """An account as the offers screen names it: its id (in buttons) and its label (in text);
    ``identity`` names its provider and key (accounts of one identity ask once)."""

    @property
    def account_id(self) -> str: ...

    @property
    def identity(self) -> str: ...

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


#: What one identity's provider said: the price, the stock and the success rate, or no stock.
Quote = tuple[Decimal, int, Decimal | None] | None
T = TypeVar("T")


class OfferService:
    """Asks every account at once; ``timeout``: seconds each one may take (OFFER_TIMEOUT).

    A question that times out is not dropped: it runs on (within the provider's own timeout)
    and fills the catalogue's cache, and the next screen that asks the same joins it instead
    of asking again, so a refresh a moment later shows the slow account's offer.
    """

    def __init__(
        self, catalogue: CatalogueService, timeout: float = DEFAULT_OFFER_TIMEOUT
    ) -> None:
        self.catalogue = catalogue
        self.timeout = timeout
        self._asking: dict[tuple[object, ...], asyncio.Task[Any]] = {}

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

    async def fallover(
        self, accounts: Sequence[OfferAccount], service: str, country: int, *failed: str
    ) -> tuple[AccountOffer | None, OfferBoard]:
        """After ``NO_NUMBERS`` on the accounts ``failed``: the board read again with them
        sold out (the catalogue's cache may still list their stock), and the offer to try
        next, if any account is left with stock."""
        board = (await self.board(accounts, service, country)).without(*failed)
        return board.cheapest(), board

    async def countries(
        self, accounts: Sequence[OfferAccount], service: str
    ) -> tuple[list[Offer], tuple[SilentAccount, ...]]:
        """The countries /buy lists for ``service`` across ``accounts``, as the catalogue's
        offers (so the country list draws them as it is): each at the cheapest price any
        account asks there with the numbers of all of them, cheapest first, then most numbers;
        and the accounts that did not answer."""

        async def ask(account: OfferAccount) -> list[Offer] | SilentAccount:
            if not account.supports(Feature.ACTIVATIONS):
                return SilentAccount(account.account_id, account.label, Silence.UNSUPPORTED)
            key = (account.identity, service)
            return await self._within(
                account, key, lambda: self.catalogue.offers(account, service)
            )

        answers = await asyncio.gather(*(ask(account) for account in accounts))
        merged: dict[int, Offer] = {}
        for answer in answers:
            if isinstance(answer, SilentAccount):
                continue
            for offer in answer:
                seen = merged.get(offer.country)
                price = offer.price if seen is None else min(seen.price, offer.price)
                count = offer.count + (seen.count if seen is not None else 0)
                merged[offer.country] = Offer(offer.country, price, count)
        choices = sorted(merged.values(), key=lambda c: (c.price, -c.count, c.country))
        return choices, tuple(a for a in answers if isinstance(a, SilentAccount))

    async def service_codes(self, accounts: Sequence[OfferAccount]) -> list[str]:
        """The services /buy lists across ``accounts``: the first account's in its order, then
        what only the others sell; an account that does not answer in time adds nothing."""

        async def ask(account: OfferAccount) -> list[str] | SilentAccount:
            key = (account.identity, "services")
            return await self._within(account, key, lambda: self.catalogue.service_codes(account))

        codes: dict[str, None] = {}
        for answer in await asyncio.gather(*(ask(account) for account in accounts)):
            if not isinstance(answer, SilentAccount):
                codes.update(dict.fromkeys(answer))
        return list(codes)

    async def aclose(self) -> None:
        """Stop the questions still running (at shutdown)."""
        pending = list(self._asking.values())
        for task in pending:
            task.cancel()
        await asyncio.gather(*pending, return_exceptions=True)

    async def _answer(
        self, account: OfferAccount, service: str, country: int, operator: str | None
    ) -> Answer:
        if not account.supports(Feature.ACTIVATIONS):
            return SilentAccount(account.account_id, account.label, Silence.UNSUPPORTED)
        key = (account.identity, service, country, operator)
        quote = await self._within(
            account, key, lambda: self._ask(account, service, country, operator)
        )
        if isinstance(quote, SilentAccount):
            return quote
        if quote is None:
            return SoldOut(account.account_id, account.label)
        price, count, rate = quote
        return AccountOffer(
            account.account_id, account.label, account.provider, price, count, rate
        )

    async def _within(
        self,
        account: OfferAccount,
        key: tuple[object, ...],
        ask: Callable[[], Coroutine[Any, Any, T]],
    ) -> T | SilentAccount:
        """``ask``'s answer within the timeout, or why there is none. The question asked for
        ``key`` (an identity's) is joined while it runs, and runs on past the timeout."""
        task = self._asking.get(key)
        if task is None:
            task = asyncio.create_task(ask())
            self._asking[key] = task
            task.add_done_callback(lambda done: self._done(key, done))
        try:
            answer: T = await asyncio.wait_for(asyncio.shield(task), self.timeout)
        except (TimeoutError, pe.ProviderTimeout):
            reason = Silence.TIMEOUT
        except pe.BadService:
            reason = Silence.UNSUPPORTED
        except pe.ProviderError:
            reason = Silence.ERROR
        else:
            return answer
        return SilentAccount(account.account_id, account.label, reason)

    def _done(self, key: tuple[object, ...], task: asyncio.Task[Any]) -> None:
        if self._asking.get(key) is task:
            del self._asking[key]
        if not task.cancelled():
            task.exception()  # seen here: an answer nobody waited for is not an error to log

    async def _ask(
        self, account: OfferAccount, service: str, country: int, operator: str | None
    ) -> Quote:
        offer = await self.catalogue.offer(account, service, country)
        count = offer.count if offer is not None else 0
        if offer is not None and operator:
            # The price list is per country; only getNumbersStatus counts one operator's stock.
            stock = await account.client.get_numbers_status(country, operator)
            count = stock.get(service, 0)
        if offer is None or count <= 0:
            return None
        rates = await self.catalogue.rates(account, service)
        return offer.price, count, rates.get(country)
