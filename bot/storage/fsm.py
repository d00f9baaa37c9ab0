"""The dialogs' FSM storage: aiogram's Redis format, read once and written once per update.

aiogram's ``RedisStorage`` goes to Redis on every call, and one update makes several: the
dispatcher reads the state to pick a handler, the handler reads the data, updates it, sets the
state, and a clear deletes both keys one at a time. While an update holds its chat's lock
(:mod:`bot.middlewares.isolation`) nobody else writes that chat's dialog, so within that scope
the state and data are read together with one ``MGET`` on first use, served from memory after,
and what changed is written in one round trip when the update lets go of the lock. Outside a
scope (another chat's key, a task that outlives its update) every call goes to Redis as before.
The keys and their format stay aiogram's, so dialogs in flight survive the change either way.
"""

from __future__ import annotations

import copy
from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from typing import Any

from aiogram.exceptions import DataNotDictLikeError
from aiogram.fsm.state import State
from aiogram.fsm.storage.base import StateType, StorageKey
from aiogram.fsm.storage.redis import RedisStorage


@dataclass
class _Dialog:
    """One chat's state and data as this update sees them, and what it changed."""

    key: StorageKey
    loaded: bool = False
    state: str | None = None
    data: dict[str, Any] = field(default_factory=dict)
    stored_state: str | None = None
    stored_data: str | None = None  # the JSON as read, to tell whether anything changed
    open: bool = True


_current: ContextVar[_Dialog | None] = ContextVar("fsm_dialog", default=None)


class ScopedRedisStorage(RedisStorage):
    @asynccontextmanager
    async def scope(self, key: StorageKey) -> AsyncIterator[None]:
        """Serve ``key``'s dialog from memory until the block ends, then write it once."""
        dialog = _Dialog(key)
        token = _current.set(dialog)
        try:
            yield
        finally:
            dialog.open = False
            _current.reset(token)
            if dialog.loaded:
                await self._flush(dialog)

    def _dialog(self, key: StorageKey) -> _Dialog | None:
        dialog = _current.get()
        if dialog is None or not dialog.open or dialog.key != key:
            return None
        return dialog

    async def _loaded(self, dialog: _Dialog) -> _Dialog:
        if not dialog.loaded:
            state, data = await self.redis.mget(
                self.key_builder.build(dialog.key, "state"),
                self.key_builder.build(dialog.key, "data"),
            )
            dialog.stored_state = _text(state)
            dialog.stored_data = _text(data)
            dialog.state = dialog.stored_state
            dialog.data = self.json_loads(dialog.stored_data) if dialog.stored_data else {}
            dialog.loaded = True
        return dialog

    async def _flush(self, dialog: _Dialog) -> None:
        data = self.json_dumps(dialog.data) if dialog.data else None
        if dialog.state == dialog.stored_state and data == dialog.stored_data:
            return
        state_key = self.key_builder.build(dialog.key, "state")
        data_key = self.key_builder.build(dialog.key, "data")
        async with self.redis.pipeline(transaction=False) as pipe:
            if dialog.state != dialog.stored_state:
                if dialog.state is None:
                    pipe.delete(state_key)
                else:
                    pipe.set(state_key, dialog.state, ex=self.state_ttl)
            if data != dialog.stored_data:
                if data is None:
                    pipe.delete(data_key)
                else:
                    pipe.set(data_key, data, ex=self.data_ttl)
            await pipe.execute()

    async def get_state(self, key: StorageKey) -> str | None:
        dialog = self._dialog(key)
        if dialog is None:
            return await super().get_state(key)
        return (await self._loaded(dialog)).state

    async def set_state(self, key: StorageKey, state: StateType = None) -> None:
        dialog = self._dialog(key)
        if dialog is None:
            await super().set_state(key, state)
            return
        (await self._loaded(dialog)).state = state.state if isinstance(state, State) else state

    async def get_data(self, key: StorageKey) -> dict[str, Any]:
        dialog = self._dialog(key)
        if dialog is None:
            return await super().get_data(key)
        # A copy, as from Redis: the caller may change it without setting it.
        return copy.deepcopy((await self._loaded(dialog)).data)

    async def set_data(self, key: StorageKey, data: Mapping[str, Any]) -> None:
        dialog = self._dialog(key)
        if dialog is None:
            await super().set_data(key, data)
            return
        if not isinstance(data, dict):
            msg = f"Data must be a dict or dict-like object, got {type(data).__name__}"
            raise DataNotDictLikeError(msg)
        # Stored as its JSON round trip, so what is read back is what Redis would give.
        (await self._loaded(dialog)).data = self.json_loads(self.json_dumps(data))


def _text(value: bytes | str | None) -> str | None:
    return value.decode("utf-8") if isinstance(value, bytes) else value
