"""/rent: duration -> country -> service -> confirmation -> the rent card.

One message is edited in place through the steps; typed input answers with a new one. Each
step has its own handler; a button's value is checked again against the provider's offer.
"""

from __future__ import annotations

from dataclasses import replace
from decimal import Decimal

from aiogram import F
from aiogram.filters import Command, CommandObject
from aiogram.types import CallbackQuery, Message
from aiogram.utils.callback_answer import CallbackAnswer

from bot.catalogue import search_countries, search_services
from bot.handlers.cancelled import new_dialog
from bot.handlers.rent.card import show_card
from bot.handlers.rent.context import Needs, Wizard, step
from bot.handlers.rent.dialog import RentFlow, read_hours, update_draft
from bot.handlers.rent.outcome import OutcomeTexts, settle
from bot.handlers.routes import Routes
from bot.handlers.unsettled import dead_quote
from bot.i18n import gettext as _
from bot.keyboards.pager import paginate
from bot.keyboards.rent import (
    confirm_keyboard,
    countries_keyboard,
    durations_keyboard,
    retry_keyboard,
    services_keyboard,
)
from bot.provider import errors as pe
from bot.provider.presets import Feature
from bot.storage.rents import RentOptions
from bot.telegram import edit_text, show
from bot.texts import describe_error, escape
from bot.views.rent import (
    choice_label,
    confirm_labels,
    confirm_text,
    countries_text,
    country_label,
    duration_label,
    duration_refused,
    durations_text,
    no_services_text,
    not_offered_text,
    services_text,
)

router = Routes(name=__name__)

COUNTRIES_PER_PAGE = 10
SERVICES_PER_PAGE = 8

Target = CallbackQuery | Message


# --- the steps ---


async def show_durations(wizard: Wizard, target: Target) -> None:
    hours = await wizard.service.durations(wizard.account)
    await wizard.state.set_state(RentFlow.duration)
    await show(
        target,
        durations_text(wizard.provider, bool(hours)),
        durations_keyboard([(h, duration_label(h)) for h in hours], _("Cancel")),
    )


async def choose_duration(wizard: Wizard, target: Target, hours: int) -> str | None:
    """Go on to the countries; else the provider's refusal, for the caller to tell."""
    try:
        await wizard.service.menu(wizard.account, hours)
    except pe.InvalidTime:
        return duration_refused(wizard.provider, hours)
    await update_draft(wizard.state, lambda old: old.with_hours(hours))
    await show_countries(wizard, target, hours)
    return None


async def show_countries(
    wizard: Wizard, target: Target, hours: int, page: int = 0, only: list[int] | None = None
) -> None:
    """The rent countries; ``only``: those a typed name matched."""
    menu = await wizard.service.menu(wizard.account, hours)
    shown = paginate(only or menu.countries, page, COUNTRIES_PER_PAGE)
    chunk, page, pages = shown.items, shown.page, shown.pages
    items = [(c, country_label(c, wizard.locale)) for c in chunk]
    await wizard.state.set_state(RentFlow.country)
    await show(
        target,
        countries_text(hours),
        countries_keyboard(items, page, pages, _("Duration"), _("Cancel")),
    )


async def choose_country(wizard: Wizard, target: Target, hours: int, country: int) -> None:
    await update_draft(wizard.state, lambda old: old.with_country(country))
    await show_services(wizard, target, hours, country)


async def show_services(
    wizard: Wizard,
    target: Target,
    hours: int,
    country: int,
    page: int = 0,
    only: list[str] | None = None,
) -> None:
    """The services of a rent country; ``only``: those a typed name matched."""
    menu = await wizard.service.menu(wizard.account, hours, country)
    choices = [c for c in menu.choices if only is None or c.service in only]
    if not choices:
        await wizard.state.set_state(RentFlow.country)
        await show(
            target,
            no_services_text(country, hours, wizard.locale),
            retry_keyboard(_("Countries"), _("Cancel")),
        )
        return
    shown = paginate(choices, page, SERVICES_PER_PAGE)
    chunk, page, pages = shown.items, shown.page, shown.pages
    items = [(choice.service, choice_label(choice, wizard.locale)) for choice in chunk]
    await wizard.state.set_state(RentFlow.service)
    await show(
        target,
        services_text(country, hours, wizard.locale),
        services_keyboard(items, page, pages, _("Countries"), _("Cancel")),
    )


async def choose_service(wizard: Wizard, target: Target, service: str) -> None:
    draft = await update_draft(wizard.state, lambda old: old.with_service(service))
    chosen = draft.chosen()
    assert chosen is not None
    await show_confirm(wizard, target, chosen)


async def show_confirm(
    wizard: Wizard, target: Target, chosen: RentOptions, *, price: Decimal | None = None
) -> None:
    """The confirmation; ``price``: one just read at the provider, fresher than the menu."""
    menu = await wizard.service.menu(wizard.account, chosen.hours, chosen.country)
    choice = menu.choice(chosen.service)
    if choice is None:
        await show_services(wizard, target, chosen.hours, chosen.country)
        return
    if price is not None:
        choice = replace(choice, price=price)
    balance = await wizard.account.client.get_balance()
    offers_operators = bool(menu.operators)
    text = confirm_text(
        choice,
        chosen.country,
        chosen.hours,
        chosen.operator,
        offers_operators,
        balance,
        wizard.locale,
    )
    options = chosen.model_copy(update={"price": choice.price})
    token = await wizard.service.draft(wizard.account, options)
    labels = confirm_labels(choice.price, chosen.operator, offers_operators)
    await wizard.state.set_state(RentFlow.confirm)
    await show(target, text, confirm_keyboard(labels, token))


async def show_rented(
    wizard: Wizard, query: CallbackQuery, callback_answer: CallbackAnswer, token: str
) -> None:
    """Carry out the confirmation and show the card in its place (or why not)."""
    result = await wizard.service.buy(wizard.account, token)
    chosen = dead_quote(result, callback_answer, RentOptions)
    if chosen is not None:
        # Nothing was rented: the same choice, quoted afresh, where the old quote was.
        chosen = chosen.model_copy(update={"price": None})
        await show_confirm(wizard, query, chosen, price=result.price)
        return
    texts = OutcomeTexts(
        expired=_("This confirmation is out of date. Start again with /rent."),
        unknown=_(
            "{provider} did not confirm the rent. I am checking whether it went through: within "
            "a minute the number's card appears here, or word that nothing was bought."
        ).format(provider=escape(wizard.provider)),
        done=_("Rented!"),
        already=_("Already bought: here it is."),
        recovered=_("The answer was lost on the way, but the number is yours: here it is."),
    )
    outcome = await settle(query, wizard.state, callback_answer, result, texts)
    message = query.message if isinstance(query.message, Message) else None
    if outcome is None or message is None:
        return
    if isinstance(outcome, pe.ProviderError):
        await edit_text(
            message,
            describe_error(outcome, wizard.provider),
            retry_keyboard(_("Services"), _("Cancel")),
        )
        return
    await show_card(message, outcome, wizard)
    if outcome.card_message_id != message.message_id:
        await wizard.service.set_card(outcome.ref, message.message_id)


# --- the command and typed input ---


@router.message(Command("rent"), flags=step())
async def rent_command(message: Message, command: CommandObject, wizard: Wizard) -> None:
    await new_dialog(wizard.state, wizard.service, wizard.account.user_id)
    if not wizard.account.supports(Feature.RENT):
        await message.answer(not_offered_text(wizard.provider))
        return
    args = (command.args or "").strip()
    if not args:
        await show_durations(wizard, message)
        return
    hours = await read_hours(message, args)
    if hours is None:
        return
    refusal = await choose_duration(wizard, message, hours)
    if refusal is not None:
        await message.answer(refusal)
        await show_durations(wizard, message)


@router.message(RentFlow.duration, F.text, ~F.text.startswith("/"), flags=step())
async def duration_typed(message: Message, wizard: Wizard) -> None:
    hours = await read_hours(message, message.text or "")
    if hours is None:
        return
    refusal = await choose_duration(wizard, message, hours)
    if refusal is not None:
        await message.answer(refusal)


@router.message(RentFlow.country, F.text, ~F.text.startswith("/"), flags=step(Needs.HOURS))
async def country_typed(message: Message, wizard: Wizard, hours: int) -> None:
    assert message.text is not None
    if not message.text.strip():
        await show_countries(wizard, message, hours)  # nothing typed: the list again
        return
    menu = await wizard.service.menu(wizard.account, hours)
    found = search_countries(message.text, menu.countries)
    if not found:
        await message.answer(
            _("No rent country matches “{query}”. Pick one from the list.").format(
                query=escape(message.text[:50])
            )
        )
    elif len(found) == 1:
        await choose_country(wizard, message, hours, found[0])
    else:
        await show_countries(wizard, message, hours, only=found)


@router.message(RentFlow.service, F.text, ~F.text.startswith("/"), flags=step(Needs.COUNTRY))
async def service_typed(message: Message, wizard: Wizard, hours: int, country: int) -> None:
    assert message.text is not None
    if not message.text.strip():
        await show_services(wizard, message, hours, country)  # nothing typed: the list again
        return
    menu = await wizard.service.menu(wizard.account, hours, country)
    offered = {choice.service for choice in menu.choices}
    found = [s.code for s in search_services(message.text, wizard.locale) if s.code in offered]
    if not found:
        await message.answer(
            _("No rent service here matches “{query}”. Pick one from the list.").format(
                query=escape(message.text[:50])
            )
        )
    elif len(found) == 1:
        await choose_service(wizard, message, found[0])
    else:
        await show_services(wizard, message, hours, country, only=found)


@router.message(RentFlow.confirm, F.text, ~F.text.startswith("/"))
async def buttons_expected(message: Message) -> None:
    await message.answer(_("Use the buttons above, or /cancel."))
