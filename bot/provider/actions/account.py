"""Account actions: balance, cashback, and partner products bought with the balance."""

from __future__ import annotations

import asyncio
from decimal import Decimal

from bot.provider.actions.base import ActionBase
from bot.provider.errors import MalformedResponse, ProviderError
from bot.provider.models import Balance, PartnerProduct
from bot.provider.parsing import Answer
from bot.provider.values import to_decimal


class AccountActions(ActionBase):
    async def get_balance(self) -> Decimal:
        answer = await self._call("getBalance")
        return self._balance("getBalance", answer)

    async def get_balance_and_cashback(self) -> Decimal:
        """Balance plus cashback, as the provider sums them."""
        answer = await self._call("getBalanceAndCashBack")
        return self._balance("getBalanceAndCashBack", answer)

    async def get_balance_info(self, *, with_cashback: bool = True) -> Balance:
        if not with_cashback:
            return Balance(balance=await self.get_balance())
        # Asked together: a slow provider then costs one round trip, not two in a row.
        plain, summed = await asyncio.gather(
            self.get_balance(), self.get_balance_and_cashback(), return_exceptions=True
        )
        if isinstance(plain, BaseException):
            raise plain
        if isinstance(summed, BaseException):
            if not isinstance(summed, ProviderError):
                raise summed
            return Balance(balance=plain)
        return Balance(balance=plain, cashback=max(Decimal(0), summed - plain))

    def _balance(self, action: str, answer: Answer) -> Decimal:
        token = self._token(action, answer, "ACCESS_BALANCE")
        try:
            return to_decimal(token.payload)
        except ValueError:
            raise MalformedResponse(
                f"{action}: unreadable balance", answer.raw[:500], action=action
            ) from None

    async def buy_partner_product(self, product_id: int) -> PartnerProduct:
        action = "buyPartnerProduct"
        answer = await self._call(action, productId=product_id)
        return self._model(action, PartnerProduct, self._object(action, answer), answer.raw)
