"""The offers screen in both languages: rows cheapest first, who did not answer, the payer."""

from __future__ import annotations

from collections.abc import Iterator
from decimal import Decimal

import pytest

from bot.i18n import build_i18n
from bot.keyboards.callbacks import BuyOfferCallback, Dialog, dialog_of
from bot.keyboards.markup import Keyboard
from bot.services.catalogue import Offer
from bot.services.offers import AccountOffer, OfferBoard, Silence, SilentAccount, SoldOut
from bot.storage.activations import BuyOptions
from bot.views.buy import options_view
from bot.views.offers import fallover_view, offers_text, offers_view

TITLE, WHERE = "Telegram", "🇮🇩 Indonesia"

BOARD = OfferBoard(
    service="tg",
    country=6,
    operator=None,
    offers=(
        AccountOffer("b1", "Sandbox B", "sandbox2", Decimal("0.12"), 40, Decimal("87.5")),
        AccountOffer("a1", "Sandbox A", "sandbox", Decimal("0.3"), 1),
    ),
    sold_out=(SoldOut("c1", "Work <SMS>"),),
    silent=(
        SilentAccount("d1", "Hero", Silence.TIMEOUT),
        SilentAccount("e1", "Hub", Silence.ERROR),
        SilentAccount("f1", "Mail", Silence.UNSUPPORTED),
    ),
)


@pytest.fixture(params=["en", "ru"])
def locale(request: pytest.FixtureRequest) -> Iterator[str]:
    i18n = build_i18n("en")
    with i18n.context(), i18n.use_locale(request.param):
        yield request.param


def buttons(markup: Keyboard) -> list[tuple[str, str]]:
    return [(b.text, b.callback_data or "") for row in markup.inline_keyboard for b in row]


EXPECTED_TEXT = {
    "en": (
        "<b>Telegram</b> · 🇮🇩 Indonesia\n"
        "Offers of your accounts, cheapest first:\n"
        "1. Sandbox B — 0.120 — 40 pcs. — success 87.5%\n"
        "2. Sandbox A — 0.300 — 1 pc.\n"
        "\n"
        "No numbers here at: Work &lt;SMS&gt;.\n"
        "⚠ Did not answer: Hero (no answer in time), Hub (provider error), "
        "Mail (does not sell this)."
    ),
    "ru": (
        "<b>Telegram</b> · 🇮🇩 Indonesia\n"
        "Предложения ваших аккаунтов, сначала дешёвые:\n"
        "1. Sandbox B — 0.120 — 40 шт. — успешность 87.5%\n"
        "2. Sandbox A — 0.300 — 1 шт.\n"
        "\n"
        "Здесь нет номеров у: Work &lt;SMS&gt;.\n"
        "⚠ Не ответили: Hero (не ответил вовремя), Hub (ошибка провайдера), "
        "Mail (не продаёт такое)."
    ),
}


def test_the_board_lists_offers_cheapest_first_and_who_did_not_answer(locale: str) -> None:
    text, markup = offers_view(BOARD, TITLE, WHERE)
    assert text == EXPECTED_TEXT[locale]
    assert offers_text(BOARD, TITLE, WHERE) == text  # /prices shows the same text
    shown = buttons(markup)
    assert [label for label, _ in shown[:2]] == ["Sandbox B · 0.120", "Sandbox A · 0.300"]
    picked = [BuyOfferCallback.unpack(data) for _, data in shown[:2]]
    assert picked == [
        BuyOfferCallback(account="b1", service="tg", country=6),
        BuyOfferCallback(account="a1", service="tg", country=6),
    ]
    assert len(shown) == 4  # and back to the countries, cancel
    assert all(dialog_of(data) is Dialog.BUY for _, data in shown)


def test_no_offer_at_all_says_so(locale: str) -> None:
    empty = OfferBoard("tg", 6, None, (), silent=(SilentAccount("a", "A", Silence.TIMEOUT),))
    text, markup = offers_view(empty, TITLE, WHERE)
    expected = {
        "en": "None of your accounts has numbers here right now.",
        "ru": "Сейчас ни у одного из ваших аккаунтов нет здесь номеров.",
    }
    assert expected[locale] in text
    assert "A (" in text
    assert len(buttons(markup)) == 2


def test_after_no_numbers_the_next_account_is_one_tap_away(locale: str) -> None:
    text, markup = fallover_view(BOARD.without("b1"), "Sandbox B", TITLE, WHERE)
    expected = {
        "en": (
            "Sandbox B has no numbers for this right now.\nSandbox A has them for 0.300.",
            "Buy at Sandbox A for 0.300",
        ),
        "ru": (
            "У Sandbox B сейчас нет таких номеров.\nУ Sandbox A они есть за 0.300.",
            "Купить у Sandbox A за 0.300",
        ),
    }
    lines, label = expected[locale]
    assert text == f"<b>{TITLE}</b> · {WHERE}\n{lines}"
    (first_label, first_data), *_rest = buttons(markup)
    assert first_label == label
    assert BuyOfferCallback.unpack(first_data) == BuyOfferCallback(
        account="a1", service="tg", country=6
    )


def test_after_no_numbers_everywhere_another_country(locale: str) -> None:
    text, markup = fallover_view(BOARD.without("a1", "b1"), "Sandbox A", TITLE, WHERE)
    expected = {
        "en": "None of your other accounts has them either. Choose another country.",
        "ru": "У других ваших аккаунтов их тоже нет. Выберите другую страну.",
    }
    assert expected[locale] in text
    assert "Hero (" in text  # who did not answer may still have them
    assert not any(data.startswith("bof:") for _, data in buttons(markup))


def test_the_confirmation_names_the_account_that_pays(locale: str) -> None:
    options = BuyOptions(service="tg", country=6)
    offer = Offer(6, Decimal("0.3"), 12)

    def confirmation(payer: str | None) -> str:
        text, _markup = options_view(
            options,
            offer,
            Decimal(5),
            "tok",
            locale,
            operators=False,
            verification=False,
            forward=False,
            payer=payer,
        )
        return text

    expected = {"en": "Paid from: <b>Sandbox &lt;A&gt;</b>", "ru": "Оплата с аккаунта: <b>"}
    assert expected[locale] in confirmation("Sandbox <A>")
    alone = confirmation(None)
    assert "<b>Sandbox" not in alone


def test_an_offer_button_fits_telegram() -> None:
    data = BuyOfferCallback(account="a" * 24, service="tg", country=187).pack()
    assert len(data.encode()) <= 64
