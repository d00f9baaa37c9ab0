"""The human side of a chat: what a test does and sees as a Telegram user."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TYPE_CHECKING

from .models import CallbackAnswer, ChatMessage, ChatState, TgUser

if TYPE_CHECKING:
    from .server import FakeTelegram

MessageMatch = str | Callable[[ChatMessage], bool]


class ChatSide:
    """One user's view of one chat with the bot (private or group).

    Users can only press buttons the bot really shows: ``press`` fails the test otherwise.
    ``press_data`` exists to forge callback data on purpose, for security tests.
    """

    def __init__(self, server: FakeTelegram, chat: ChatState, user: TgUser) -> None:
        self.server = server
        self.chat_state = chat
        self.user = user
        # Server revision at the user's last action: wait_for looks at what changed after it.
        self._mark = server.revision

    @property
    def chat_id(self) -> int:
        return self.chat_state.id

    @property
    def user_id(self) -> int:
        return self.user.id

    @property
    def id(self) -> int:
        return self.user.id

    @property
    def messages(self) -> list[ChatMessage]:
        """Every message of the chat in order, deleted ones included (``deleted=True``)."""
        return list(self.chat_state.messages.values())

    @property
    def chat(self) -> list[ChatMessage]:
        """The chat as the user sees it now: messages that are still there."""
        return [message for message in self.chat_state.messages.values() if not message.deleted]

    @property
    def bot_messages(self) -> list[ChatMessage]:
        return [message for message in self.chat if message.from_bot]

    @property
    def reply_keyboard(self) -> list[list[str]] | None:
        """The reply keyboard under the input field, if the bot set one."""
        return self.chat_state.reply_keyboard

    @property
    def chat_actions(self) -> list[str]:
        return list(self.chat_state.actions)

    @property
    def callback_answers(self) -> dict[str, CallbackAnswer]:
        """Answers to this user's callback queries, by query id."""
        return {
            query.id: query.answer
            for query in self.server.callback_queries_of(self)
            if query.answer is not None
        }

    def message(self, message_id: int) -> ChatMessage:
        """The message as it stands now (edits included)."""
        return next(m for m in self.chat if m.message_id == message_id)

    def last_bot_message(self) -> ChatMessage:
        messages = self.bot_messages
        if not messages:
            raise AssertionError(f"the bot has sent nothing visible to {self.user_id}")
        return messages[-1]

    async def send(self, text: str, *, reply_to: ChatMessage | int | None = None) -> ChatMessage:
        """Type and send a message; commands get their ``bot_command`` entity."""
        message = self.server.user_message(self, text, reply_to)
        self._mark = self.server.revision
        return message

    async def press(self, button: str, message: ChatMessage | int | None = None) -> str:
        """Press an inline button by its text or exact callback_data; returns the query id.

        Without ``message`` the newest visible bot message showing the button is used.
        """
        target = self._message_with_button(button, message)
        found = target.find_button(button)
        assert found is not None
        if "callback_data" not in found:
            raise AssertionError(f"button {button!r} is not a callback button: {found}")
        query_id = self.server.callback_query(self, target.message_id, found["callback_data"])
        self._mark = self.server.revision
        return query_id

    async def press_data(self, message_id: int, data: str) -> str:
        """Send a callback query with arbitrary data, as a tampered or stale client could."""
        query_id = self.server.callback_query(self, message_id, data)
        self._mark = self.server.revision
        return query_id

    async def send_and_wait(
        self, text: str, match: MessageMatch, timeout: float = 5.0
    ) -> ChatMessage:
        """Send ``text``, then wait for the bot's message that ``match`` picks."""
        await self.send(text)
        return await self.wait_for(match, timeout)

    async def press_and_wait(
        self, button: str, match: MessageMatch, timeout: float = 5.0
    ) -> ChatMessage:
        """Press ``button`` (on the newest message showing it), then wait for ``match``."""
        await self.press(button)
        return await self.wait_for(match, timeout)

    async def wait_for(
        self, match: MessageMatch, timeout: float = 5.0, *, any_time: bool = False
    ) -> ChatMessage:
        """Wait for a visible bot message, sent or edited after the user's last action.

        ``match`` is a substring of the text the user reads, or a predicate. With
        ``any_time=True`` older messages count too.
        """
        predicate = _predicate(match)
        since = 0 if any_time else self._mark
        deadline = time.monotonic() + timeout
        while True:
            for message in self.bot_messages:
                if message.revision > since and predicate(message):
                    return message
            if not await self.server.wait_change(deadline):
                raise AssertionError(
                    f"no bot message matching {match!r} within {timeout}s; chat:\n"
                    + self.transcript()
                )

    async def wait_for_answer(self, query_id: str, timeout: float = 5.0) -> CallbackAnswer:
        deadline = time.monotonic() + timeout
        while True:
            answer = self.callback_answers.get(query_id)
            if answer is not None:
                return answer
            if not await self.server.wait_change(deadline):
                raise AssertionError(f"callback query {query_id} not answered in {timeout}s")

    def transcript(self) -> str:
        return "\n".join(message.describe() for message in self.messages) or "(empty)"

    def _message_with_button(self, button: str, message: ChatMessage | int | None) -> ChatMessage:
        if message is None:
            for candidate in reversed(self.bot_messages):
                if candidate.find_button(button) is not None:
                    return candidate
            raise AssertionError(
                f"no visible bot message shows a button {button!r}; chat:\n" + self.transcript()
            )
        if isinstance(message, ChatMessage) and message.chat_id != self.chat_id:
            raise AssertionError(f"message #{message.message_id} is from another chat")
        message_id = message.message_id if isinstance(message, ChatMessage) else message
        current = self.chat_state.messages.get(message_id)
        if current is None or current.deleted or not current.from_bot:
            raise AssertionError(f"no visible bot message #{message_id} in chat {self.chat_id}")
        if current.find_button(button) is None:
            raise AssertionError(
                f"message #{message_id} has no button {button!r}; it shows {current.buttons}"
            )
        return current


class UserSide(ChatSide):
    """A user in their private chat with the bot; the chat id is the user id."""

    def block_bot(self) -> None:
        self.server.block(self.user_id)

    def unblock_bot(self) -> None:
        self.server.unblock(self.user_id)


def _predicate(match: MessageMatch) -> Callable[[ChatMessage], bool]:
    if isinstance(match, str):
        return lambda message: match in message.text
    return match
