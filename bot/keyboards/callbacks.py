"""Every inline button's callback data, in one place.

Callback data is typed and short (Telegram allows 64 bytes) and never trusted: a handler that
receives an id checks that the object belongs to the user who pressed the button.
"""

from __future__ import annotations

import contextlib
from decimal import Decimal
from enum import StrEnum
from typing import Annotated, Final

from pydantic import Field

from bot.keyboards.callback_data import CallbackData


class ProviderCallback(CallbackData, prefix="prov"):
    name: str


class LanguageCallback(CallbackData, prefix="lang"):
    locale: str


class KeyAction(StrEnum):
    CONNECT = "connect"
    REPLACE = "replace"
    REMOVE = "remove"
    REMOVE_CONFIRM = "remove_ok"
    CLOSE = "close"


class KeyCallback(CallbackData, prefix="key"):
    action: KeyAction


class AccountAction(StrEnum):
    OPEN = "open"
    DEFAULT = "default"
    RENAME = "rename"
    REMOVE = "remove"
    REMOVE_CONFIRM = "remove_ok"
    LIST = "list"


class AccountCallback(CallbackData, prefix="acct"):
    """One of the presser's provider accounts on the /key screen (``account``: its id, checked
    against the presser's own accounts)."""

    action: AccountAction
    account: str = ""


class DialogCallback(CallbackData, prefix="dlg"):
    """Leave the open dialog (the inline twin of /cancel)."""

    action: str = "cancel"


class ActAction(StrEnum):
    READY = "rd"
    ANOTHER = "an"
    FINISH = "fi"
    CANCEL = "ca"
    REFRESH = "rf"
    AGAIN = "ag"
    EXTRA = "ex"
    EXTRA_CANCEL = "ec"
    SHOW = "sh"
    ADDITIONAL = "ad"
    ADDITIONAL_CANCEL = "dc"


class ActCallback(CallbackData, prefix="a"):
    """A button on an activation card; ``id`` is checked against the presser's own list."""

    action: ActAction
    id: int


class ActivePageCallback(CallbackData, prefix="ap"):
    """A page of /active."""

    page: int


class ExtraCallback(CallbackData, prefix="ax"):
    """Confirm reusing the finished activation ``id``: ``token`` names the quote shown."""

    id: int
    token: str


class AdditionalCallback(CallbackData, prefix="ad"):
    """``service`` chosen to add to the forwarding number of activation ``id``: its
    confirmation is shown (getAdditionalService buys only from there)."""

    id: int
    service: str


class AdditionalConfirmCallback(CallbackData, prefix="ay"):
    """Confirm adding a service to activation ``id``'s number: ``token`` names the quote."""

    id: int
    token: str


class BuyAction(StrEnum):
    """The /buy buttons that carry nothing but their step."""

    MULTI = "mu"
    MULTI_DONE = "md"
    OPERATORS = "om"
    MAX_PRICE = "mp"
    MAX_PRICE_CLEAR = "mc"
    VERIFY = "v"
    FORWARD = "fw"
    EXCLUDE = "ex"
    EXCLUDE_CLEAR = "ec"
    TO_OPTIONS = "bo"
    OFFERS = "of"  # every account's offer again, from a confirmation
    CANCEL = "x"


class BuyCallback(CallbackData, prefix="b"):
    action: BuyAction


class BuyServicesCallback(CallbackData, prefix="bsp"):
    """A page of the service list (also "back to the services")."""

    page: int


class BuyServiceCallback(CallbackData, prefix="bs"):
    """A service picked; checked against what the provider offers."""

    code: str


class BuySort(StrEnum):
    PRICE = "price"
    COUNT = "count"
    RATE = "rate"


class BuyCountriesCallback(CallbackData, prefix="bcp"):
    """A page of the country list (also "back to the countries")."""

    page: int


class BuySortCallback(CallbackData, prefix="bso"):
    sort: BuySort


class BuyCountryCallback(CallbackData, prefix="bc"):
    """A country picked; checked against the provider's offer."""

    country: int


class BuyOfferCallback(CallbackData, prefix="bof"):
    """One account's offer on the offers screen (also the next account's after a NO_NUMBERS):
    ``account`` is checked against the presser's own accounts, and the offer is read afresh
    for ``service`` in ``country`` before a confirmation names that account as the payer."""

    account: str
    service: str
    country: int


class BuyOperatorCallback(CallbackData, prefix="bop"):
    """An operator picked; empty for any operator. Checked against the country's operators."""

    operator: str = ""


#: A max price above this is a typo, not a wish.
MAX_PRICE_LIMIT: Final = Decimal("10000")


class BuyMaxPriceCallback(CallbackData, prefix="bmp"):
    """The lowest price the provider named after refusing a max price."""

    price: Annotated[Decimal, Field(gt=0, le=MAX_PRICE_LIMIT)]


class BuyConfirmCallback(CallbackData, prefix="bok"):
    """The confirmation's order token: it names what to buy, only among the presser's orders."""

    token: str


class HistoryCallback(CallbackData, prefix="h"):
    page: int


class MailFlowAction(StrEnum):
    TO_DOMAINS = "bd"
    CANCEL = "x"


class MailFlowCallback(CallbackData, prefix="mf"):
    """A /mail button that names nothing: back to the addresses, or leave the dialog."""

    action: MailFlowAction


class MailOfferCallback(CallbackData, prefix="mo"):
    """An address offered by /mail; ``index`` is checked against the offers in the dialog."""

    index: int


class MailOffersPageCallback(CallbackData, prefix="mp"):
    page: int


class MailConfirmCallback(CallbackData, prefix="mc"):
    """Buy what the confirmation shows; ``token`` names an order among the presser's own."""

    token: str


class MailAction(StrEnum):
    CANCEL = "ca"
    ANOTHER = "an"
    ANOTHER_CANCEL = "ac"
    REFRESH = "rf"
    FULL = "fl"
    SHOW = "sh"


class MailCallback(CallbackData, prefix="m"):
    """A button on a mail card or letter; ``id`` is checked against the presser's own list."""

    action: MailAction
    id: int


class MailHistoryCallback(CallbackData, prefix="mh"):
    page: int


class RentBuyAction(StrEnum):
    DURATION = "d"
    COUNTRY = "c"
    COUNTRY_PAGE = "cp"
    SERVICE = "s"
    SERVICE_PAGE = "sp"
    OPERATORS = "om"
    OPERATOR = "op"
    TO_DURATIONS = "bd"
    TO_COUNTRIES = "bc"
    TO_SERVICES = "bs"
    TO_CONFIRM = "bo"
    CONFIRM = "ok"
    CANCEL = "x"


class RentBuyCallback(CallbackData, prefix="rb"):
    """A step of /rent; each action reads its own field, checked again against the offer."""

    action: RentBuyAction
    hours: int = 0
    country: int = 0
    page: int = 0
    service: str = ""
    operator: str = ""  # "" is any operator
    token: str = ""  # the confirmation's order token


class RentCardAction(StrEnum):
    FINISH = "fi"
    CANCEL = "ca"
    EXTEND = "ex"
    REFRESH = "rf"
    SHOW = "sh"


class RentCallback(CallbackData, prefix="r"):
    """A button on a rent card; ``id`` is checked against the presser's own rents."""

    action: RentCardAction
    id: int


class RentExtendAction(StrEnum):
    DURATIONS = "d"
    HOURS = "h"
    CONFIRM = "ok"
    CANCEL = "x"


class RentExtendCallback(CallbackData, prefix="rx"):
    """The extension dialog of rent ``id``, checked against the presser's own rents."""

    action: RentExtendAction
    id: int
    hours: int = 0
    token: str = ""  # the confirmation's order token


class MailReorderCallback(CallbackData, prefix="mr"):
    """Confirm another letter on mailbox ``id``: ``token`` names the quote shown."""

    id: int
    token: str


class Dialog(StrEnum):
    """The dialogs that draw their steps in one message, their menu (it moves to a new message
    after typed input): a step's button is taken only from the dialog's current menu."""

    BUY = "buy"
    RENT = "rent"
    EXTEND = "extend"
    MAIL = "mail"


#: The steps that read the dialog's state. A confirmation is not among them: its token names
#: its own quote, which buys only while it is the latest (else the offer is shown afresh).
_DIALOG_STEPS: Final[dict[type[CallbackData], Dialog]] = {
    BuyCallback: Dialog.BUY,
    BuyServicesCallback: Dialog.BUY,
    BuyServiceCallback: Dialog.BUY,
    BuyCountriesCallback: Dialog.BUY,
    BuySortCallback: Dialog.BUY,
    BuyCountryCallback: Dialog.BUY,
    BuyOfferCallback: Dialog.BUY,
    BuyOperatorCallback: Dialog.BUY,
    BuyMaxPriceCallback: Dialog.BUY,
    RentBuyCallback: Dialog.RENT,
    RentExtendCallback: Dialog.EXTEND,
    MailFlowCallback: Dialog.MAIL,
    MailOfferCallback: Dialog.MAIL,
    MailOffersPageCallback: Dialog.MAIL,
}
_CONFIRMS: Final = (RentBuyAction.CONFIRM, RentExtendAction.CONFIRM)
_STEP_OF_PREFIX: Final = {step.__prefix__: step for step in _DIALOG_STEPS}


def dialog_of(data: str | None) -> Dialog | None:
    """The dialog whose step a button's callback data names, if any."""
    step = _STEP_OF_PREFIX.get((data or "").split(":", 1)[0])
    if data is None or step is None:
        return None
    if step in (RentBuyCallback, RentExtendCallback):
        with contextlib.suppress(ValueError, TypeError):
            if step.unpack(data).action in _CONFIRMS:
                return None
    return _DIALOG_STEPS[step]
