"""Messages the bot sends on its own (codes, card updates), within Telegram's limits.

Limits are counted in Redis so several worker processes share them: about 25 messages a
second overall and one a second per chat, in bursts of two (a code push need not wait for the
card edit just before it; a card edit waits until it leaves one message for a push).
``RetryAfter`` waits and retries; a user who blocked the bot is marked and skipped (their
state is kept, undelivered codes wait for them).

A push that failed after its request left (a 5xx, a dropped connection) may still have reached
the chat: Telegram performs a sendMessage and then answers 502 often enough. So such a push
is tried at most twice; after a second ambiguous failure it counts as sent, ``uncertain``, and
the caller marks it rather than pushing the same code again and again.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Collection
from dataclasses import dataclass
from typing import Protocol

from redis.asyncio import Redis

from bot.botapi import (
    BotApi,
    TelegramBadRequest,
    TelegramForbidden,
    TelegramNetworkError,
    TelegramRetryAfter,
    TelegramServerError,
    is_harmless,
)
from bot.config import Settings
from bot.keyboards.markup import Keyboard
from bot.storage import keys
from bot.storage.rate import ChatPace, SlicedRate
from bot.storage.records import UserRecord

log = logging.getLogger(__name__)

MAX_ATTEMPTS = 6
#: Chats whose turn this process remembers before it forgets the ones long past.
CHATS_KEPT = 10_000
#: How many messages one chat may get at once (then one per TELEGRAM_CHAT_INTERVAL): a code
#: push may follow a card edit without waiting, and a card edit leaves the last one to a push.
CHAT_BURST = 2
#: Sends whose outcome Telegram left unknown, at most, for one push.
AMBIGUOUS_SENDS = 2


class DeliveryFailed(Exception):
    """Telegram could not be reached; the caller keeps the item to try again later."""


@dataclass(frozen=True, slots=True)
class Sent:
    message_id: int | None  # None: the user blocked the bot, or Telegram left it uncertain
    uncertain: bool = False  # failed twice after the request left: it may well have arrived

    @property
    def done(self) -> bool:
        """Delivered, or as good as: sending it again could repeat it in the chat."""
        return self.message_id is not None or self.uncertain


class Recipients(Protocol):
    """Who blocked the bot (``UserRepo``, or the worker's kept user views)."""

    async def is_blocked(self, user_id: int) -> bool: ...

    async def set_blocked(self, user_id: int, blocked: bool) -> None: ...


class Notifier:
    def __init__(
        self,
        api: BotApi,
        redis: Redis,
        users: Recipients,
        *,
        global_rate: int = 25,
        chat_interval: float = 1.0,
        rate_slice: int = 1,
    ) -> None:
        self.api = api
        self._users = users
        # Slices of each second's budget are leased from Redis and spent here: one script
        # call per slice rather than a transaction per message. What a slice leaves unspent
        # is lost for that second, so only a long-lived sender (the worker's) leases more
        # than one message at a time; a handler's notifier lives for one update.
        self._global = SlicedRate(redis, keys.TELEGRAM_RATE, global_rate, slice_size=rate_slice)
        self._chats = ChatPace(
            redis, chat_interval, CHAT_BURST, key=keys.telegram_chat, kept=CHATS_KEPT
        )

    @classmethod
    def paced(
        cls,
        api: BotApi,
        redis: Redis,
        users: Recipients,
        settings: Settings,
        *,
        rate_slice: int = 1,
    ) -> Notifier:
        """A notifier sharing the configured limits with every other (the worker's, handlers')."""
        return cls(
            api,
            redis,
            users,
            global_rate=settings.telegram_rate,
            chat_interval=settings.telegram_chat_interval,
            rate_slice=rate_slice,
        )

    def edit_ready_in(self, chat_id: int) -> float:
        """Seconds until a card edit may go to the chat and still leave a message of its
        burst for a code push (as far as this process knows)."""
        return self._chats.ready_in(chat_id, spare=1)

    async def _wait_turn(self, chat_id: int, *, spare: int = 0) -> None:
        await self._global.acquire()
        await self._chats.take(chat_id, spare)

    async def send(
        self,
        chat_id: int,
        text: str,
        *,
        reply_markup: Keyboard | None = None,
        reply_to: int | None = None,
    ) -> Sent:
        if await self._users.is_blocked(chat_id):
            return Sent(None)
        ambiguous = 0
        for attempt in range(MAX_ATTEMPTS):
            await self._wait_turn(chat_id)
            try:
                message_id = await self.api.send_message(
                    chat_id, text, reply_markup=reply_markup, reply_to=reply_to
                )
                return Sent(message_id)
            except TelegramRetryAfter as error:
                await asyncio.sleep(error.retry_after)
            except TelegramForbidden:
                await self._users.set_blocked(chat_id, True)
                log.info("user %s blocked the bot; pushes paused", chat_id)
                return Sent(None)
            except TelegramBadRequest as error:
                log.warning("Telegram refused a push to %s: %s", chat_id, error.message)
                raise DeliveryFailed(error.message) from None
            except (TelegramNetworkError, TelegramServerError) as error:
                ambiguous += 1
                if ambiguous >= AMBIGUOUS_SENDS:
                    log.warning(
                        "a push to %s failed twice after it was sent (%s): counted as sent",
                        chat_id,
                        type(error).__name__,
                    )
                    return Sent(None, uncertain=True)
                await asyncio.sleep(min(30.0, 0.5 * 2**attempt))
                log.info("Telegram unreachable (%s), retrying", type(error).__name__)
        raise DeliveryFailed("Telegram kept refusing")

    async def edit(
        self,
        chat_id: int,
        message_id: int,
        text: str,
        reply_markup: Keyboard | None = None,
    ) -> bool:
        """Edit a card; False when the message is gone (the caller may send a new one)."""
        if await self._users.is_blocked(chat_id):
            return True
        for attempt in range(MAX_ATTEMPTS):
            await self._wait_turn(chat_id, spare=1)
            try:
                await self.api.edit_message_text(
                    chat_id, message_id, text, reply_markup=reply_markup
                )
                return True
            except TelegramRetryAfter as error:
                await asyncio.sleep(error.retry_after)
            except TelegramForbidden:
                await self._users.set_blocked(chat_id, True)
                return True
            except TelegramBadRequest as error:
                if "message is not modified" in error.message:
                    return True
                if is_harmless(error.message):
                    return False
                log.warning("Telegram refused a card edit for %s: %s", chat_id, error.message)
                return True
            except (TelegramNetworkError, TelegramServerError):
                await asyncio.sleep(min(30.0, 0.5 * 2**attempt))
        raise DeliveryFailed("Telegram kept refusing")

    async def edit_cards(
        self,
        record: UserRecord,
        store: CardStore,
        text: str,
        reply_markup: Keyboard | None,
        *,
        drawn: int | None = None,
    ) -> None:
        """Show the card in every copy of it the record knows of, each edit paced like any
        other (``drawn``: one already showing it); the copies Telegram lost are forgotten."""
        gone = [
            message_id
            for message_id in record.cards
            if message_id != drawn
            and not await self.edit(record.user_id, message_id, text, reply_markup)
        ]
        if gone:
            await store.forget_cards(record.ref, gone)


class CardStore(Protocol):
    """Where a record's card copies are kept (``UserRecords``)."""

    async def forget_cards(self, ref: str, gone: Collection[int]) -> None: ...
