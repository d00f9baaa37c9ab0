"""After a start: catch up with the provider for every user.

Codes that arrived while the bot was down are found by the normal polls (every open item is
put back on the schedule); activations bought outside the bot are adopted so that /active and
the worker know them. One worker does this at a time (a lock in Redis).
"""

from __future__ import annotations

import asyncio
import logging

from bot.accounts import Accounts
from bot.provider import errors as pe
from bot.services.activation_rules import member
from bot.services.activations import ActivationService
from bot.storage import keys
from bot.worker.context import WorkerContext

log = logging.getLogger(__name__)

LOCK = keys.RECONCILE_LOCK
LOCK_SECONDS = 300
CONCURRENCY = 8


class Reconciler:
    def __init__(self, ctx: WorkerContext, service: ActivationService, accounts: Accounts) -> None:
        self.ctx = ctx
        self.service = service
        self.accounts = accounts

    async def run(self) -> int:
        """Reconcile every user; returns how many activations were adopted."""
        redis = self.ctx.redis
        if not await redis.set(LOCK, self.ctx.clock(), nx=True, ex=LOCK_SECONDS):
            return 0
        try:
            members = await redis.smembers(keys.USERS)
            users = sorted(int(m) for m in members)
            semaphore = asyncio.Semaphore(CONCURRENCY)

            async def one(user_id: int) -> int:
                async with semaphore:
                    return await self.reconcile_user(user_id)

            adopted = sum(await asyncio.gather(*(one(u) for u in users)))
            log.info("reconciled %s users, adopted %s activations", len(users), adopted)
            return adopted
        finally:
            await redis.delete(LOCK)

    async def reconcile_user(self, user_id: int) -> int:
        now = self.ctx.clock()
        for activation in await self.service.activations.open_of_user(user_id):
            await self.service.schedule.add(member(activation.ref), now)
        pauses = await self.ctx.users.pauses(user_id)
        adopted = 0
        for account in await self.accounts.all(user_id):
            if pauses.covers(account.account_id):
                continue
            try:
                adopted += len(await self.service.reconcile(account))
            except pe.ProviderError:
                continue
        return adopted
