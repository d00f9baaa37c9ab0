"""The steps of /buy: text and markup from what the provider offers and what the user chose."""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal

from bot.catalogue import country as country_info
from bot.catalogue import service_name
from bot.i18n import gettext as _
from bot.i18n import ngettext
from bot.keyboards.buy import (
    OptionLabels,
    SortLabels,
    countries_keyboard,
    failure_keyboard,
    operators_keyboard,
    options_keyboard,
    prompt_keyboard,
    service_choices_keyboard,
    services_keyboard,
)
from bot.keyboards.callbacks import MAX_PRICE_LIMIT, BuySort
from bot.keyboards.markup import Keyboard
from bot.keyboards.pager import Page
from bot.provider import errors as pe
from bot.services.activation_rules import MAX_PREFIXES, PREFIX_MORE_DIGITS
from bot.services.catalogue import Offer
from bot.storage.activations import BuyOptions
from bot.texts import describe_error, escape, money, offer_line
from bot.views.common import price_sum
from bot.views.offers import payer_line

View = tuple[str, Keyboard]


def services_title(codes: Sequence[str], locale: str) -> str:
    return escape(", ".join(service_name(code, locale) for code in codes))


def place(country_id: int, locale: str) -> str:
    info = country_info(country_id)
    return f"{info.flag} {escape(info.name(locale))}" if info else f"#{country_id}"


# --- step 1: the service ---


def _service_label(code: str, locale: str, recent: list[str], picked: list[str] | None) -> str:
    name = service_name(code, locale)
    if picked is not None:
        return ("☑ " if code in picked else "☐ ") + name
    return ("★ " if code in recent else "") + name


def services_view(
    page: Page[str], recent: list[str], picked: list[str] | None, locale: str, *, multi: bool
) -> View:
    """A page of the services, the recent ones first (★); ``picked`` in several-services mode;
    ``multi``: the provider sells several services on one number."""
    items = [(code, _service_label(code, locale, recent, picked)) for code in page.items]
    toggle = done = None
    if multi:
        toggle = (
            _("One service per number")
            if picked is not None
            else _("➕ Several services on one number")
        )
    if picked is not None:
        text = _("Pick the services for one number ({count} picked), then continue.").format(
            count=len(picked)
        )
        done = ngettext(
            "Continue with {count} service", "Continue with {count} services", len(picked)
        ).format(count=len(picked))
    else:
        text = _("Choose a service, or type its name (for example: telegram).")
    markup = services_keyboard(items, page.page, page.pages, _("Cancel"), multi=toggle, done=done)
    return text, markup


def service_choices_view(choices: Sequence[tuple[str, str]]) -> Keyboard:
    return service_choices_keyboard(choices, _("Services"), _("Cancel"))


def service_search_view(query: str, choices: Sequence[tuple[str, str]]) -> View:
    """A typed name that matched no service, or several (``choices``: code, name)."""
    if not choices:
        text = _("Nothing found for “{query}”. Try another name, or pick from the list.").format(
            query=escape(query[:50])
        )
        return text, service_choices_view([])
    return _("Which one?"), service_choices_view(choices)


# --- step 2: the country ---


def sort_offers(offers: list[Offer], sort: BuySort, rates: dict[int, Decimal]) -> list[Offer]:
    if sort is BuySort.COUNT:
        return sorted(offers, key=lambda o: (-o.count, o.price))
    if sort is BuySort.RATE and rates:
        return sorted(offers, key=lambda o: (-(rates.get(o.country) or Decimal(-1)), o.price))
    return sorted(offers, key=lambda o: (o.price, -o.count))


def _offer_label(offer: Offer, locale: str, rate: Decimal | None) -> str:
    info = country_info(offer.country)
    name = f"{info.flag} {info.name(locale)}" if info else f"#{offer.country}"
    label = f"{name} · {money(offer.price)} · {offer.count}"
    if rate is not None:
        label += f" · {rate.normalize():f}%"
    return label


def no_offers_view(title: str, provider: str) -> View:
    text = _(
        "No numbers for {service} at {provider} right now. Try another service later."
    ).format(service=title, provider=escape(provider))
    return text, service_choices_view([])


def countries_view(
    title: str,
    page: Page[Offer],
    sort: BuySort,
    rates: dict[int, Decimal],
    locale: str,
    *,
    rate_sort: bool,
) -> View:
    """``rates``: success rates, shown when sorted by them; ``rate_sort``: the provider
    publishes them."""
    items = [
        (
            o.country,
            _offer_label(o, locale, rates.get(o.country) if sort is BuySort.RATE else None),
        )
        for o in page.items
    ]
    sorts = SortLabels(
        price=_("Price"),
        count=_("Most numbers"),
        rate=_("Success rate") if rate_sort else None,
    )
    if sort is BuySort.RATE and rates:
        text = _(
            "{service}: choose a country (price · numbers · success rate). Or type a country name."
        )
    else:
        text = _("{service}: choose a country (price · numbers). Or type a country name.")
    text = text.format(service=f"<b>{title}</b>")
    markup = countries_keyboard(
        items, page.page, page.pages, sort, sorts, _("Services"), _("Cancel")
    )
    return text, markup


# --- step 3: options and confirmation ---


def no_offer_here_view(title: str, where: str) -> View:
    text = _("No numbers for {service} in {country} right now. Choose another country.").format(
        service=title, country=where
    )
    return text, failure_keyboard(_("Countries"), _("Cancel"))


def options_view(
    options: BuyOptions,
    offer: Offer,
    balance: Decimal,
    token: str,
    locale: str,
    *,
    parts: Sequence[tuple[str, Decimal]] = (),
    operators: bool,
    verification: bool,
    forward: bool,
    payer: str | None = None,
    offers: bool = False,
) -> View:
    """The confirmation: price, balance after, the options chosen and the buttons to change
    them. ``parts``: each service's price on a several-services number; ``operators``,
    ``verification``, ``forward``: what can be chosen here; ``payer``: the label of the account
    that pays, when the user has several; ``offers``: a button back to every account's offer."""
    assert options.country is not None
    title = services_title(options.services or [options.service], locale)
    price = options.max_price if options.max_price is not None else offer.price
    shown = price_sum(parts, offer.price, locale) if parts else money(offer.price)
    lines = [
        f"<b>{title}</b> · {place(options.country, locale)}",
        offer_line(shown, offer.count),
    ]
    if payer is not None:
        lines.append(payer_line(payer))
    if options.max_price is not None:
        lines.append(_("You pay at most {price}.").format(price=money(options.max_price)))
    lines.append(
        _("Balance: {balance} → {after} after the purchase").format(
            balance=money(balance), after=money(balance - price)
        )
    )
    if balance < price:
        lines.append("⚠ " + _("Not enough money for this purchase: top up your balance first."))
    lines.append("")
    lines.append(_("Operator: {operator}").format(operator=escape(options.operator or _("any"))))
    if options.phone_exception:
        lines.append(
            _("Excluded prefixes: {prefixes}").format(prefixes=", ".join(options.phone_exception))
        )
    if options.verification:
        lines.append(_("The code comes as an incoming call."))
    if options.forward:
        lines.append(_("With call forwarding: more services can be added to this number later."))
    single = not options.is_multi
    labels = OptionLabels(
        operator=_("Operator: {operator}").format(operator=options.operator or _("any"))
        if operators
        else None,
        # getMultiServiceNumber takes no maxPrice and no exclusions.
        max_price=None
        if not single
        else _("Max price: {price}").format(price=money(options.max_price))
        if options.max_price is not None
        else _("Set a max price"),
        clear_max_price=_("Remove max price") if options.max_price is not None else None,
        verification=(
            _("Call instead of SMS: on") if options.verification else _("Call instead of SMS: off")
        )
        if verification and single
        else None,
        forward=(_("Call forwarding: on") if options.forward else _("Call forwarding: off"))
        if forward and single
        else None,
        exclude=_("Exclude prefixes") if single else None,
        clear_exclude=_("Remove exclusions") if options.phone_exception else None,
        buy=_("Buy for {price}").format(price=money(price)),
        back=_("Countries"),
        cancel=_("Cancel"),
        offers=_("Other accounts' offers") if offers else None,
    )
    return "\n".join(lines), options_keyboard(labels, token)


def operators_view(operators: Sequence[str], current: str | None) -> View:
    return _("Choose the operator:"), operators_keyboard(operators, current, _("any"), _("Back"))


def max_price_prompt(*, retry: bool = False) -> View:
    """Ask for a max price; ``retry``: the last answer was not one."""
    if retry:
        text = _("That is not a price. Send a number like 0.25, or /cancel.")
    else:
        text = _(
            "Send the most you are willing to pay for one number, for example 0.25. "
            "A higher price finds numbers faster (Free Price)."
        )
    return text, prompt_keyboard(_("Back"))


def exclusions_prompt(dial: str, *, retry: bool = False) -> View:
    """Ask for prefixes to exclude in a country whose calling code is ``dial`` (empty when
    unknown); ``retry``: the last answer broke the rule. The rule is the one checked."""
    fewest, most = PREFIX_MORE_DIGITS
    if dial:
        rule = _(
            "Send up to {count} number prefixes you do not want, separated by commas: the "
            "country code {code} and {fewest} to {most} more digits, for example {example}."
        ).format(
            count=MAX_PREFIXES,
            code=dial,
            fewest=fewest,
            most=most,
            example=f"{dial}918,{dial}900111",
        )
    else:
        rule = _(
            "Send up to {count} number prefixes you do not want, separated by commas: the "
            "country code and {fewest} to {most} more digits, for example 7918,7900111."
        ).format(count=MAX_PREFIXES, fewest=fewest, most=most)
    if retry:
        rule = _("Those are not prefixes of this country.") + " " + rule + " " + _("Or /cancel.")
    return rule, prompt_keyboard(_("Back"))


def purchase_failed_view(error: pe.ProviderError, provider: str, *, forward: bool) -> View:
    """A refused purchase; a max price below the lowest one offers the lowest; ``forward``:
    call forwarding was asked for, the likely reason for no numbers."""
    min_price = None
    lowest = error.min_price if isinstance(error, pe.WrongMaxPrice) else None
    # Beyond the limit a button could not carry it (nor would anyone pay it).
    if lowest is not None and 0 < lowest <= MAX_PRICE_LIMIT:
        min_price = (_("Set max price to {price}").format(price=money(lowest)), lowest)
    text = describe_error(error, provider)
    forward_off = None
    if forward and isinstance(error, pe.OutOfStock):
        forward_off = _("Without call forwarding")
        text = _(
            "No numbers with call forwarding are available for this choice: the provider "
            "forwards calls only for some services and countries. Turn call forwarding off, "
            "or choose another country."
        )
    return text, failure_keyboard(_("Countries"), _("Cancel"), min_price, forward_off)


def number_unknown_text(provider: str) -> str:
    """A number purchase the provider did not confirm: the worker settles it (card or not)."""
    return _(
        "{provider} did not confirm the purchase. I am checking whether it went through: "
        "within a minute the number's card appears here, or word that nothing was bought."
    ).format(provider=escape(provider))
