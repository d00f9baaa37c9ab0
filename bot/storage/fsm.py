"""The dialogs' FSM storage: aiogram's Redis format, read once and written once per update.

aiogram's ``RedisStorage`` goes to Redis on every call, and one update makes several: the
dispatcher reads the state to pick a handler, the handler reads the data, updates it, sets the
state, and a clear deletes both keys one at a time. While an update holds its chat's lock
(:mod:`bot.middlewares.isolation`) nobody else writes that chat's dialog, so one script takes
the lock and reads the state and data, they are served from memory while the update runs, and
one script writes what changed and lets the lock go: two commands per update in all (aiogram's
lock alone is a SET and a script, its storage a read per call and a write per change). Outside
that scope (another chat's key, a task that outlives its update) every call goes to Redis as
before. The keys and their format stay aiogram's, so dialogs in flight survive the change.
"""

from __future__ import annotations

import asyncio
import copy
import logging
from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any
from uuid import uuid4

from aiogram.exceptions import DataNotDictLikeError
from aiogram.fsm.state import State
from aiogram.fsm.storage.base import StateType, StorageKey
from aiogram.fsm.storage.redis import RedisStorage
from redis.typing import ExpiryT

log = logging.getLogger(__name__)

#: How often a chat's lock held by another process is tried again (redis-py's Lock: 0.1 s).
LOCK_RETRY = 0.1

# KEYS: lock, state, data. ARGV: token, lock milliseconds. The lock (aiogram's key, redis-py's
# format: a token to let it go by) and, when taken, the dialog as stored.
_ENTER = """
if redis.call('SET', KEYS[1], ARGV[1], 'NX', 'PX', ARGV[2]) then
  return {1, redis.call('GET', KEYS[2]), redis.call('GET', KEYS[3])}
end
return {0}
"""

# KEYS: lock, state, data. ARGV: token, then for the state and for the data an operation
# ('' keep, 'd' delete, 's' set), the value, and its lifetime in milliseconds ('' none). The
# lock goes only if it is still this update's (it may have run out and been taken).
_LEAVE = """
local function apply(key, op, value, ttl)
  if op == 'd' then
    redis.call('DEL', key)
  elseif op == 's' then
    if ttl == '' then
      redis.call('SET', key, value)
    else
      redis.call('SET', key, value, 'PX', ttl)
    end
  end
end
apply(KEYS[2], ARGV[2], ARGV[3], ARGV[4])
apply(KEYS[3], ARGV[5], ARGV[6], ARGV[7])
if redis.call('GET', KEYS[1]) == ARGV[1] then
  redis.call('DEL', KEYS[1])
  return 1
end
return 0
"""


@dataclass
class _Dialog:
    """One chat's state and data as this update sees them, and what it changed."""

    key: StorageKey
    state: str | None = None
    data: dict[str, Any] = field(default_factory=dict)
    stored_state: str | None = None
    stored_data: str | None = None  # the JSON as read, to tell whether anything changed
    open: bool = True


_current: ContextVar[_Dialog | None] = ContextVar("fsm_dialog", default=None)


class ScopedRedisStorage(RedisStorage):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._enter = self.redis.register_script(_ENTER)
        self._leave = self.redis.register_script(_LEAVE)

    @asynccontextmanager
    async def locked(self, key: StorageKey, lock: str, timeout: float) -> AsyncIterator[None]:
        """Hold the chat's Redis lock ``lock`` (given up after ``timeout`` seconds if never let
        go) and serve ``key``'s dialog from memory meanwhile: two commands in all."""
        token = uuid4().hex
        keys = [lock, *self._keys(key)]
        while True:
            entered = await self._enter(keys=keys, args=[token, int(timeout * 1000)])
            if entered[0]:
                break
            await asyncio.sleep(LOCK_RETRY)  # another process handles this chat right now
        dialog = _Dialog(key)
        self._fill(dialog, entered[1], entered[2])
        current = _current.set(dialog)
        try:
            yield
        finally:
            dialog.open = False
            _current.reset(current)
            state, data = self._changes(dialog)
            released = await self._leave(keys=keys, args=[token, *state, *data])
            if not released:
                log.warning("a chat's lock ran out before its update ended")

    def _keys(self, key: StorageKey) -> tuple[str, str]:
        return self.key_builder.build(key, "state"), self.key_builder.build(key, "data")

    def _fill(self, dialog: _Dialog, state: bytes | str | None, data: bytes | str | None) -> None:
        dialog.stored_state = _text(state)
        dialog.stored_data = _text(data)
        dialog.state = dialog.stored_state
        dialog.data = self.json_loads(dialog.stored_data) if dialog.stored_data else {}

    def _changes(self, dialog: _Dialog) -> tuple[list[str], list[str]]:
        """The leave script's operations for the state and the data."""
        data = self.json_dumps(dialog.data) if dialog.data else None
        return (
            _operation(dialog.state, dialog.stored_state, self.state_ttl),
            _operation(data, dialog.stored_data, self.data_ttl),
        )

    def _dialog(self, key: StorageKey) -> _Dialog | None:
        dialog = _current.get()
        if dialog is None or not dialog.open or dialog.key != key:
            return None
        return dialog

    async def get_state(self, key: StorageKey) -> str | None:
        dialog = self._dialog(key)
        if dialog is None:
            return await super().get_state(key)
        return dialog.state

    async def set_state(self, key: StorageKey, state: StateType = None) -> None:
        dialog = self._dialog(key)
        if dialog is None:
            await super().set_state(key, state)
            return
        dialog.state = state.state if isinstance(state, State) else state

    async def get_data(self, key: StorageKey) -> dict[str, Any]:
        dialog = self._dialog(key)
        if dialog is None:
            return await super().get_data(key)
        # A copy, as from Redis: the caller may change it without setting it.
        return copy.deepcopy(dialog.data)

    async def set_data(self, key: StorageKey, data: Mapping[str, Any]) -> None:
        dialog = self._dialog(key)
        if dialog is None:
            await super().set_data(key, data)
            return
        if not isinstance(data, dict):
            msg = f"Data must be a dict or dict-like object, got {type(data).__name__}"
            raise DataNotDictLikeError(msg)
        # Stored as its JSON round trip, so what is read back is what Redis would give.
        dialog.data = self.json_loads(self.json_dumps(data))


def _text(value: bytes | str | None) -> str | None:
    return value.decode("utf-8") if isinstance(value, bytes) else value


def _operation(value: str | None, stored: str | None, ttl: ExpiryT | None) -> list[str]:
    """What the leave script does with one key: keep, delete, or set for ``ttl``."""
    if value == stored:
        return ["", "", ""]
    if value is None:
        return ["d", "", ""]
    if ttl is None:
        return ["s", value, ""]
    seconds = ttl.total_seconds() if isinstance(ttl, timedelta) else float(ttl)
    return ["s", value, str(int(seconds * 1000))]
