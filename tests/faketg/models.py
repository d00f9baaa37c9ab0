"""What the fake server remembers: users, chats, messages, callback queries, served calls."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any


@dataclass
class TgUser:
    id: int
    first_name: str
    last_name: str | None = None
    username: str | None = None
    language_code: str | None = None
    is_bot: bool = False

    def to_api(self) -> dict[str, Any]:
        data: dict[str, Any] = {
            "id": self.id,
            "is_bot": self.is_bot,
            "first_name": self.first_name,
        }
        if self.last_name:
            data["last_name"] = self.last_name
        if self.username:
            data["username"] = self.username
        if self.language_code and not self.is_bot:
            data["language_code"] = self.language_code
        return data


@dataclass(eq=False)
class ChatMessage:
    """One message as the chat shows it now; the server updates it in place on edits.

    ``text`` is what the user reads (tags stripped, entities unescaped, trimmed); ``html`` is
    the raw text the bot sent. Deleted messages stay in ``UserSide.messages`` with
    ``deleted=True`` so tests can check what was removed.
    """

    message_id: int
    chat_id: int
    from_bot: bool
    sender: TgUser
    text: str
    html: str
    entities: list[dict[str, Any]]
    date: int
    reply_markup: dict[str, Any] | None = None
    parse_mode: str | None = None
    reply_to_message_id: int | None = None
    link_preview_options: dict[str, Any] | None = None
    deleted: bool = False
    edits: int = 0
    edit_date: int | None = None
    # Bumped on every change, so waiters can tell new content from what they saw before.
    revision: int = 0

    @property
    def buttons(self) -> list[list[tuple[str, str]]]:
        """Inline keyboard rows as (text, callback_data or url); other kinds give ""."""
        if not self.reply_markup:
            return []
        return [
            [
                (
                    str(button.get("text", "")),
                    str(button.get("callback_data") or button.get("url") or ""),
                )
                for button in row
            ]
            for row in self.reply_markup.get("inline_keyboard", [])
        ]

    @property
    def button_texts(self) -> list[str]:
        return [text for row in self.buttons for text, _ in row]

    def button_starting(self, prefix: str) -> str:
        """The text of the first button whose text starts with ``prefix`` (StopIteration if
        none does)."""
        return next(text for text in self.button_texts if text.startswith(prefix))

    def callback_of(self, label: str) -> str:
        """The callback data of the inline button ``label`` (which must be there)."""
        button = self.find_button(label)
        assert button is not None, f"no button {label!r}"
        return str(button["callback_data"])

    def find_button(self, label: str) -> dict[str, Any] | None:
        """The inline button whose text or exact callback_data is ``label``."""
        if not self.reply_markup:
            return None
        rows: list[list[dict[str, Any]]] = self.reply_markup.get("inline_keyboard", [])
        for row in rows:
            for button in row:
                if button.get("text") == label or button.get("callback_data") == label:
                    return button
        return None

    def describe(self) -> str:
        who = "bot" if self.from_bot else "user"
        state = " [deleted]" if self.deleted else ""
        keyboard = f" buttons={self.buttons}" if self.buttons else ""
        return f"#{self.message_id} {who}{state}: {self.text!r}{keyboard}"

    def __repr__(self) -> str:
        return f"ChatMessage({self.describe()})"


@dataclass
class CallbackAnswer:
    text: str | None
    show_alert: bool
    url: str | None
    cache_time: int


@dataclass
class CallbackQuery:
    id: str
    chat_id: int
    message_id: int
    user_id: int
    data: str
    created_at: float
    answer: CallbackAnswer | None = None


@dataclass
class ChatState:
    id: int
    type: str
    user: TgUser | None = None
    title: str | None = None
    username: str | None = None
    messages: dict[int, ChatMessage] = field(default_factory=dict)
    last_message_id: int = 0
    # A user must write to a bot first; until then sends fail like on Telegram.
    started: bool = False
    blocked: bool = False
    reply_keyboard: list[list[str]] | None = None
    actions: list[str] = field(default_factory=list)
    menu_button: dict[str, Any] | None = None

    def next_message_id(self) -> int:
        self.last_message_id += 1
        return self.last_message_id

    def to_api(self) -> dict[str, Any]:
        data: dict[str, Any] = {"id": self.id, "type": self.type}
        if self.type == "private" and self.user is not None:
            data["first_name"] = self.user.first_name
            if self.user.last_name:
                data["last_name"] = self.user.last_name
            if self.user.username:
                data["username"] = self.user.username
        else:
            data["title"] = self.title or ""
            if self.username:
                data["username"] = self.username
        return data


@dataclass
class ApiCall:
    """One Bot API request as served: ``method, params = call`` unpacks like a pair.

    ``params`` holds the decoded parameters: JSON fields (reply_markup, entities, commands,
    scope, ...) as objects, ids as ints, flags as bools, everything else as sent. ``status``
    is the HTTP status answered, 0 when the client hung up first (a cancelled long poll).
    """

    method: str
    params: dict[str, Any]
    at: float
    status: int = 0
    description: str | None = None
    # True for a method the bot returned in its webhook response instead of calling the API.
    via_webhook_reply: bool = False

    def __iter__(self) -> Iterator[Any]:
        return iter((self.method, self.params))
