"""What an activation is, by the protocol: lifetimes, the cancel window, and status changes.

Pure rules shared by the service, the purchases, the worker and the webhooks: no I/O here.
"""

from __future__ import annotations

import re

from bot.accounts import UserAccount
from bot.provider.models import ActivationState, ActivationStatus, ActiveActivation
from bot.storage.activations import Activation, BuyOptions, Code, State

DEFAULT_LIFETIME = 20 * 60.0
#: Services the providers keep open longer (protocol reference, section 9.1).
SERVICE_LIFETIMES = {"ya": 40 * 60.0, "ig": 3600.0, "ft": 3600.0, "cy": 3600.0, "wx": 3600.0}
EARLY_CANCEL = 120.0
#: How long past its end an activation is still asked about before the bot closes it itself.
GIVE_UP_AFTER = 3600.0
#: The same while the provider still answers "waiting" (a provider that does so a day past
#: the end will not stop).
GIVE_UP_WAITING_AFTER = 24 * 3600.0


def member(ref: str) -> str:
    """The activation's name in the shared schedule."""
    return f"act:{ref}"


def lifetime_for(service: str) -> float:
    return SERVICE_LIFETIMES.get(service, DEFAULT_LIFETIME)


def cancel_wait(activation: Activation, now: float) -> int:
    """Seconds until the provider allows cancelling (0 when it does)."""
    return max(0, int(activation.created_at + EARLY_CANCEL - now + 0.999))


def apply_status(activation: Activation, status: ActivationStatus, now: float) -> Activation:
    """The record after the provider reported ``status``; a new code is appended undelivered."""
    state = status.state
    if not activation.is_open:
        return activation
    if state is ActivationState.CODE_RECEIVED and status.code is not None:
        waiting = activation.state in {State.WAITING, State.RETRY}
        if waiting or status.code != activation.last_code:
            activation.codes.append(Code(code=status.code, at=now))
        activation.state = State.CODE
        activation.waiting_since = None
    elif state is ActivationState.WAIT_RETRY and activation.state is State.CODE:
        activation.state = State.RETRY
        activation.waiting_since = now
    elif state is ActivationState.CANCELLED:
        activation.closed_at = now
        if activation.codes:
            activation.state = State.FINISHED
        elif now >= activation.expires_at - 60:
            activation.state = State.EXPIRED
        else:
            activation.state = State.CANCELLED
    return activation


def close_as_ended(activation: Activation, now: float) -> Activation:
    """Close an activation the provider stopped reporting on: with codes it was used, without
    them it ran out."""
    if activation.is_open:
        activation.state = State.FINISHED if activation.codes else State.EXPIRED
        activation.closed_at = now
    return activation


def overdue(activation: Activation, now: float, *, provider_waiting: bool = False) -> bool:
    """Open long past its end: the provider will not say more, so the bot closes it.

    A number the provider still reports as waiting is not expired by the bot's clock alone
    (that clock may have jumped): it is given up only a day past its end.
    """
    limit = GIVE_UP_WAITING_AFTER if provider_waiting else GIVE_UP_AFTER
    return activation.is_open and now > activation.expires_at + limit


def wants_auto_cancel(activation: Activation, now: float, cancel_before: float | None) -> bool:
    """No code yet, about to expire, and cancellable: cancelling now refunds at once."""
    return (
        cancel_before is not None
        and activation.state is State.WAITING
        and not activation.codes
        and activation.seconds_left(now) <= cancel_before
        and cancel_wait(activation, now) == 0
    )


def status_from_listing(item: ActiveActivation) -> ActivationStatus:
    """What getStatus would say, read from a getActiveActivations entry."""
    if item.codes:
        last = item.codes[-1]
        if item.status == 3:
            return ActivationStatus(state=ActivationState.WAIT_RETRY, code=last)
        return ActivationStatus(state=ActivationState.CODE_RECEIVED, code=last)
    return ActivationStatus(state=ActivationState.WAIT_CODE)


def new_activation(
    account: UserAccount,
    options: BuyOptions,
    activation_id: int,
    phone: str,
    service: str,
    now: float,
) -> Activation:
    """The record of a number just bought with ``options``."""
    return Activation(
        id=activation_id,
        user_id=account.user_id,
        provider=account.provider,
        account_id=account.account_id or None,
        service=service,
        phone=phone,
        country=options.country,
        operator=options.operator,
        created_at=now,
        expires_at=now + lifetime_for(service),
        verification=options.verification,
        forward=options.forward,
        options=options,
    )


def adopted(
    account: UserAccount,
    item: ActiveActivation,
    now: float,
    *,
    options: BuyOptions | None = None,
) -> Activation:
    """A record for an activation found in the provider's active list."""
    service = item.service or (options.service if options else "ot")
    country = item.country
    if country is None and options is not None:
        country = options.country
    activation = Activation(
        id=item.activation_id,
        user_id=account.user_id,
        provider=account.provider,
        account_id=account.account_id or None,
        service=service,
        phone=item.phone,
        country=country,
        cost=item.cost,
        created_at=now,
        expires_at=now + lifetime_for(service),
        can_retry=item.can_get_another_sms,
        options=options,
        external=options is None,
    )
    if item.codes:
        activation.codes = [Code(code=code, at=now) for code in item.codes]
        activation.state = State.CODE
        activation.waiting_since = None
    return activation


#: ``phoneException``: "country code + 3..6 digits", at most 20 prefixes (protocol, section 4.1).
PREFIX_MORE_DIGITS = (3, 6)
MAX_PREFIXES = 20
_PREFIX_SEPARATORS = re.compile(r"[,\s;]+")


def read_prefixes(text: str, dial: str) -> list[str] | None:
    """The prefixes to exclude typed in ``text`` for a country whose calling code is ``dial``
    (empty when unknown: any code of 1 to 4 digits), or None when they break the rule."""
    fewest, most = PREFIX_MORE_DIGITS
    code = re.escape(dial) if dial else r"\d{1,4}"
    rule = re.compile(rf"^{code}\d{{{fewest},{most}}}$")
    prefixes = [p.lstrip("+") for p in _PREFIX_SEPARATORS.split(text.strip()) if p]
    if not prefixes or len(prefixes) > MAX_PREFIXES or not all(map(rule.match, prefixes)):
        return None
    return list(dict.fromkeys(prefixes))
