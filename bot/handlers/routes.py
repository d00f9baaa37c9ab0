"""Feature routers declared once at import, built afresh for every dispatcher.

An aiogram ``Router`` joins one parent for good, but a process may build several dispatchers
(tests do, per test). So a handler module declares ``router = Routes(name=__name__)`` and
decorates as it would a Router; ``Routes`` only records, and ``build()`` replays the records
onto a new ``Router`` each time ``get_routers()`` assembles a tree.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar

from aiogram import Router
from aiogram.dispatcher.event.bases import MiddlewareType
from aiogram.dispatcher.event.handler import CallbackType
from aiogram.types import TelegramObject

from bot.middlewares.callback_answer import AnswerUnlessFailed

Handler = TypeVar("Handler", bound=Callable[..., Any])
Middleware = TypeVar("Middleware", bound=MiddlewareType[TelegramObject])


@dataclass(frozen=True, slots=True)
class _Registration:
    callback: CallbackType
    filters: tuple[CallbackType, ...]
    flags: dict[str, Any] | None
    kwargs: dict[str, Any]


class EventRoutes:
    """One event type (``message``, ``callback_query``, ...): what aiogram's observer takes."""

    def __init__(self, event_name: str) -> None:
        self.event_name = event_name
        self.handlers: list[_Registration] = []
        self.filters: list[CallbackType] = []
        self.middlewares: list[MiddlewareType[TelegramObject]] = []
        self.outer_middlewares: list[MiddlewareType[TelegramObject]] = []

    def __call__(
        self, *filters: CallbackType, flags: dict[str, Any] | None = None, **kwargs: Any
    ) -> Callable[[Handler], Handler]:
        def decorator(callback: Handler) -> Handler:
            self.register(callback, *filters, flags=flags, **kwargs)
            return callback

        return decorator

    def register(
        self,
        callback: Handler,
        *filters: CallbackType,
        flags: dict[str, Any] | None = None,
        **kwargs: Any,
    ) -> Handler:
        self.handlers.append(_Registration(callback, filters, flags, kwargs))
        return callback

    def filter(self, *filters: CallbackType) -> None:
        self.filters.extend(filters)

    def middleware(self, middleware: Middleware) -> Middleware:
        self.middlewares.append(middleware)
        return middleware

    def outer_middleware(self, middleware: Middleware) -> Middleware:
        self.outer_middlewares.append(middleware)
        return middleware

    def apply(self, router: Router) -> None:
        observer = router.observers[self.event_name]
        if self.filters:
            observer.filter(*self.filters)
        for middleware in self.middlewares:
            observer.middleware(middleware)
        for middleware in self.outer_middlewares:
            observer.outer_middleware(middleware)
        for handler in self.handlers:
            observer.register(
                handler.callback, *handler.filters, flags=handler.flags, **handler.kwargs
            )


class Routes:
    """A feature's handlers, with the decorator surface of ``aiogram.Router``.

    A feature split into modules includes its parts' ``Routes`` as a Router would.
    """

    def __init__(self, *, name: str, answer_taps: bool = False) -> None:
        """``answer_taps``: every callback query these handlers take is answered for them
        (``AnswerUnlessFailed``), with what they put in ``callback_answer``."""
        self.name = name
        self.message = EventRoutes("message")
        self.edited_message = EventRoutes("edited_message")
        self.callback_query = EventRoutes("callback_query")
        self.inline_query = EventRoutes("inline_query")
        self.my_chat_member = EventRoutes("my_chat_member")
        self.chat_member = EventRoutes("chat_member")
        self.error = EventRoutes("error")
        self._events = (
            self.message,
            self.edited_message,
            self.callback_query,
            self.inline_query,
            self.my_chat_member,
            self.chat_member,
            self.error,
        )
        self._children: list[Routes] = []
        if answer_taps:
            self.callback_query.middleware(AnswerUnlessFailed())

    def include_router(self, routes: Routes) -> Routes:
        self._children.append(routes)
        return routes

    def include_routers(self, *routes: Routes) -> None:
        self._children.extend(routes)

    def build(self) -> Router:
        """A new Router with everything recorded, free to join this dispatcher's tree."""
        router = Router(name=self.name)
        for event in self._events:
            event.apply(router)
        for child in self._children:
            router.include_router(child.build())
        return router
