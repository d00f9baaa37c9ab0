"""Bot API errors, worded as the real server words them.

The texts follow tdlib/telegram-bot-api (``Client.cpp``): aiogram picks its exception class from
the HTTP status (400 -> TelegramBadRequest, 403 -> TelegramForbiddenError, 409 ->
TelegramConflictError, 429 with ``retry_after`` -> TelegramRetryAfter, ...), and handlers in the
bot match on the description, so both must be exact.
"""

from __future__ import annotations

from typing import Any, Final

UNAUTHORIZED: Final = "Unauthorized"
NOT_FOUND: Final = "Not Found"
METHOD_NOT_FOUND: Final = "Not Found: method not found"

MESSAGE_TEXT_EMPTY: Final = "Bad Request: message text is empty"
MESSAGE_TOO_LONG: Final = "Bad Request: message is too long"
MESSAGE_NOT_MODIFIED: Final = (
    "Bad Request: message is not modified: specified new message content and reply markup are "
    "exactly the same as a current content and reply markup of the message"
)
MESSAGE_TO_EDIT_NOT_FOUND: Final = "Bad Request: message to edit not found"
MESSAGE_TO_DELETE_NOT_FOUND: Final = "Bad Request: message to delete not found"
MESSAGE_CANT_BE_EDITED: Final = "Bad Request: message can't be edited"
MESSAGE_CANT_BE_DELETED: Final = "Bad Request: message can't be deleted"
REPLY_NOT_FOUND: Final = "Bad Request: message to be replied not found"
MESSAGE_ID_NOT_SPECIFIED: Final = "Bad Request: message identifier is not specified"
CHAT_ID_NOT_SPECIFIED: Final = "Bad Request: chat identifier is not specified"
MESSAGE_ID_INVALID: Final = "Bad Request: MESSAGE_ID_INVALID"
CHAT_ID_EMPTY: Final = "Bad Request: chat_id is empty"
CHAT_NOT_FOUND: Final = "Bad Request: chat not found"
UNSUPPORTED_PARSE_MODE: Final = "Bad Request: unsupported parse_mode"
CANT_PARSE_ENTITIES: Final = "Bad Request: can't parse entities: "
BUTTON_DATA_INVALID: Final = "Bad Request: BUTTON_DATA_INVALID"
BUTTON_URL_INVALID: Final = "Bad Request: BUTTON_URL_INVALID"
REPLY_MARKUP_TOO_LONG: Final = "Bad Request: reply markup is too long"
QUERY_ID_INVALID: Final = (
    "Bad Request: query is too old and response timeout expired or query ID is invalid"
)
WRONG_CHAT_ACTION: Final = "Bad Request: wrong parameter action in request"

BOT_BLOCKED: Final = "Forbidden: bot was blocked by the user"
CANT_INITIATE: Final = "Forbidden: bot can't initiate conversation with a user"

WEBHOOK_ACTIVE: Final = (
    "Conflict: can't use getUpdates method while webhook is active; "
    "use deleteWebhook to delete the webhook first"
)
TERMINATED_BY_GET_UPDATES: Final = (
    "Conflict: terminated by other getUpdates request; "
    "make sure that only one bot instance is running"
)
TERMINATED_BY_SET_WEBHOOK: Final = "Conflict: terminated by setWebhook request"


class ApiError(Exception):
    """A failed Bot API call: the HTTP status doubles as ``error_code``, as on Telegram."""

    def __init__(
        self, error_code: int, description: str, parameters: dict[str, Any] | None = None
    ) -> None:
        super().__init__(description)
        self.error_code = error_code
        self.description = description
        self.parameters = parameters

    def payload(self) -> dict[str, Any]:
        body: dict[str, Any] = {
            "ok": False,
            "error_code": self.error_code,
            "description": self.description,
        }
        if self.parameters:
            body["parameters"] = self.parameters
        return body


def bad_request(description: str) -> ApiError:
    """A 400 whose text the real server lower-cases after "Bad Request: " (see fail_query)."""
    if description.startswith("Bad Request: "):
        return ApiError(400, description)
    if len(description) >= 2 and (description[1] == "_" or description[1].isupper()):
        return ApiError(400, f"Bad Request: {description}")
    return ApiError(400, f"Bad Request: {description[:1].lower()}{description[1:]}")


def retry_after(seconds: int) -> ApiError:
    return ApiError(429, f"Too Many Requests: retry after {seconds}", {"retry_after": seconds})
