"""The /buy draft: what the user has chosen so far, a typed model in FSM data.

``load_draft`` and ``save_draft`` are the only readers and writers of it. A step handler says
how far the draft must have come with its flags (``step(Needs.COUNTRY)``); ``DraftMiddleware``
then hands it ``buy: BuyContext`` (the draft with what every step needs to draw the next
screen), or tells the user the menu is out of date.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from decimal import Decimal
from enum import IntEnum
from typing import Any, Final

from aiogram import BaseMiddleware
from aiogram.dispatcher.flags import get_flag
from aiogram.fsm.context import FSMContext
from aiogram.fsm.state import State, StatesGroup
from aiogram.types import Message, TelegramObject
from aiogram.utils.callback_answer import CallbackAnswer
from pydantic import BaseModel, Field, ValidationError

from bot.accounts import Accounts, UserAccount
from bot.catalogue import SERVICES
from bot.handlers.unsettled import alert
from bot.i18n import gettext as _
from bot.keyboards.callbacks import BuySort
from bot.middlewares.account import NEEDS_ACCOUNT
from bot.middlewares.base import Handler
from bot.provider.presets import Feature
from bot.services.activations import ActivationService
from bot.services.catalogue import CatalogueService
from bot.services.offers import OfferService
from bot.storage.activations import BuyOptions
from bot.storage.users import UserGlance, UserRepo

_KEY: Final = "buy"
DRAFT_FLAG: Final = "buy_draft"
FEATURE_FLAG: Final = "buy_feature"


class BuyFlow(StatesGroup):
    service = State()
    country = State()
    options = State()
    max_price = State()
    exclude = State()


class BuyDraft(BaseModel):
    service: str | None = None
    #: Several-services mode: the services picked so far; None when the mode is off.
    picked: list[str] | None = None
    page: int = 0  # of the service list, to redraw it after a tick
    sort: BuySort = BuySort.PRICE
    country: int | None = None
    operator: str | None = None
    max_price: Decimal | None = None
    verification: bool = False
    forward: bool = False
    phone_exception: list[str] = Field(default_factory=list)
    #: The account that pays (one of the user's, checked again on every step); None: the
    #: default account.
    account_id: str | None = None
    #: The accounts that answered NO_NUMBERS for this service and country (the fallover
    #: offers the next one, skipping them all).
    failed: list[str] = Field(default_factory=list)

    @property
    def is_multi(self) -> bool:
        return self.picked is not None and len(self.picked) > 1

    @property
    def services(self) -> list[str]:
        """The services of the number: the picked ones, or the one service."""
        if self.picked is not None and len(self.picked) > 1:
            return list(self.picked)
        return [self.service] if self.service else []

    def choose_service(self, code: str) -> None:
        self.service = code
        self.sort = BuySort.PRICE
        self.country = None
        self.account_id = None
        self.failed = []

    def choose_country(self, country: int) -> None:
        self.country = country
        self.operator = None
        self.account_id = None
        self.failed = []

    def options(self, country: int | None = None) -> BuyOptions:
        """What to buy; ``country`` tries another one without choosing it."""
        assert self.service is not None
        where = self.country if country is None else country
        if self.picked is not None and len(self.picked) > 1:
            # getMultiServiceNumber takes no max price, exclusions, call or forwarding.
            return BuyOptions(
                service=self.picked[0],
                country=where,
                operator=self.operator,
                services=list(self.picked),
            )
        return BuyOptions(
            service=self.service,
            country=where,
            operator=self.operator,
            max_price=self.max_price,
            verification=self.verification,
            forward=self.forward,
            phone_exception=list(self.phone_exception),
        )

    @classmethod
    def again(cls, options: BuyOptions, account_id: str | None = None) -> BuyDraft:
        """The draft that bought ``options`` (with the account ``account_id``), for "Buy
        again"."""
        return cls(
            account_id=account_id or None,
            service=options.service,
            picked=list(options.services) if options.is_multi else None,
            country=options.country,
            operator=options.operator,
            max_price=options.max_price,
            verification=options.verification,
            forward=options.forward,
            phone_exception=list(options.phone_exception),
        )


async def load_draft(state: FSMContext) -> BuyDraft | None:
    raw = (await state.get_data()).get(_KEY)
    if raw is None:
        return None
    try:
        return BuyDraft.model_validate(raw)
    except ValidationError:
        return None  # written by an older version: the menu is out of date


async def save_draft(state: FSMContext, draft: BuyDraft, step: State | None = None) -> None:
    await state.update_data({_KEY: draft.model_dump(mode="json")})
    if step is not None:
        await state.set_state(step)


class Needs(IntEnum):
    """How far the draft must have come for a step."""

    NOTHING = 0  # a fresh draft will do: the service list works after a restart
    SERVICE = 1
    COUNTRY = 2


def step(needs: Needs, feature: Feature | None = None) -> dict[str, Any]:
    """Flags of a /buy step: the account, the draft at least as far as ``needs``, and the
    provider's ``feature`` when the step is one that not every provider has."""
    flags: dict[str, Any] = {**NEEDS_ACCOUNT, DRAFT_FLAG: needs}
    if feature is not None:
        flags[FEATURE_FLAG] = feature
    return flags


def _lacking(feature: Feature) -> str:
    """The refusal of a step that needs a ``feature`` the provider does not have."""
    refusals = {
        Feature.CALL_VERIFICATION: _("This provider has no call verification."),
        Feature.ADDITIONAL_SERVICE: _("This provider has no call forwarding."),
        Feature.MULTI_SERVICE: _("This provider sells one service per number."),
    }
    return refusals[feature]


@dataclass(frozen=True, slots=True)
class BuyContext:
    """One /buy step: the draft, and everything a step passes on to draw the next screen."""

    state: FSMContext
    draft: BuyDraft
    account: UserAccount
    catalogue: CatalogueService
    activation_service: ActivationService
    users: UserRepo
    locale: str
    accounts: Accounts
    offer_service: OfferService
    glance: UserGlance | None = None

    async def save(self, step: State) -> None:
        await save_draft(self.state, self.draft, step)

    async def all_accounts(self) -> list[UserAccount]:
        """The user's accounts that sell numbers, the default first."""
        every = await self.accounts.all(self.account.user_id, self.glance)
        return [a for a in every if a.supports(Feature.ACTIVATIONS)]

    async def across(self) -> list[UserAccount] | None:
        """The accounts to compare offers across: None with one account, or for several
        services on one number (bought from one account as before)."""
        if self.draft.is_multi:
            return None
        every = await self.all_accounts()
        return every if len(every) > 1 else None

    async def service_codes(self) -> list[str]:
        """The services to list: every account's when the user has several (a service only
        another account sells is bought there), else the paying account's."""
        across = await self.across()
        if across is None:
            return await self.catalogue.service_codes(self.account)
        return await self.offer_service.service_codes(across)

    async def is_service(self, code: str) -> bool:
        return code in SERVICES or code in await self.service_codes()

    async def payer(self) -> str | None:
        """The paying account's label for the confirmation, when the user has several."""
        every = await self.accounts.all(self.account.user_id, self.glance)
        return self.account.label if len(every) > 1 else None

    def paid_by(self, account: UserAccount) -> BuyContext:
        """The same step with ``account`` paying (remembered in the draft)."""
        self.draft.account_id = account.account_id or None
        return replace(self, account=account)


def buy_context(
    data: dict[str, Any], state: FSMContext, draft: BuyDraft, account: UserAccount
) -> BuyContext:
    """A step's context from the handler data (what the dispatcher hands every handler)."""
    return BuyContext(
        state,
        draft,
        account,
        data["catalogue"],
        data["activation_service"],
        data["users"],
        data["locale"],
        data["accounts"],
        data["offer_service"],
        data.get("glance"),
    )


class DraftMiddleware(BaseMiddleware):
    """An inner middleware, inside the callback answer: flags are known once a handler is."""

    async def __call__(self, handler: Handler, event: TelegramObject, data: dict[str, Any]) -> Any:
        needs: Needs | None = get_flag(data, DRAFT_FLAG)
        if needs is None:
            return await handler(event, data)
        state: FSMContext = data["state"]
        draft = await load_draft(state) or BuyDraft()
        account: UserAccount = data["account"]
        if draft.account_id is not None and draft.account_id != account.account_id:
            # The account the user chose on the offers screen: still theirs (UnknownAccount
            # when removed since).
            account = await data["accounts"].by_id(
                account.user_id, draft.account_id, data.get("glance")
            )
        feature: Feature | None = get_flag(data, FEATURE_FLAG)
        if (needs >= Needs.SERVICE and draft.service is None) or (
            needs >= Needs.COUNTRY and draft.country is None
        ):
            await _refuse(event, data, _("This menu is out of date. Start again with /buy."))
            return None
        if feature is not None and not account.supports(feature):
            await _refuse(event, data, _lacking(feature))
            return None
        data["buy"] = buy_context(data, state, draft, account)
        return await handler(event, data)


async def _refuse(event: TelegramObject, data: dict[str, Any], text: str) -> None:
    """Why the step does not run: the tap's alert, or a reply to a typed message."""
    answer: CallbackAnswer | None = data.get("callback_answer")
    if answer is not None:
        alert(answer, text)
    elif isinstance(event, Message):
        await event.answer(text)
