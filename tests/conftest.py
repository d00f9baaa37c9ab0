from __future__ import annotations

import dataclasses
import random
from collections.abc import AsyncIterator, Callable, Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from bot.sandbox.market import Market
from tests.faketg.fixtures import fake_bot, fake_telegram
from tests.harness import Harness, running_harness

__all__ = ["fake_bot", "fake_telegram"]


#: Directories whose tests all start real processes: marked e2e whatever their modules say,
#: so that ``-m e2e`` and ``-m "not e2e"`` split the suite between them (see the Makefile).
_PROCESS_DIRS = ("e2e", "chaos")


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    here = Path(__file__).parent
    for item in items:
        if any(item.path.is_relative_to(here / name) for name in _PROCESS_DIRS):
            item.add_marker(pytest.mark.e2e)


#: The user property under which a test reports a figure line for the terminal summary.
FIGURE = "figure"
#: Figure lines reported by the tests (tests/chaos: the reliability figures), in report order.
_FIGURES: list[str] = []


def pytest_runtest_logreport(report: pytest.TestReport) -> None:
    # Reports reach the main process from xdist workers too, user properties included.
    if report.when == "call":
        _FIGURES.extend(str(value) for name, value in report.user_properties if name == FIGURE)


def pytest_terminal_summary(terminalreporter: Any) -> None:
    if _FIGURES:
        terminalreporter.section("reliability figures")
        for line in _FIGURES:
            terminalreporter.write_line(line)


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers", "bot_settings(**values): settings the harness fixture's bot is built with"
    )


@pytest.fixture
async def harness(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Harness]:
    # A module or test that needs other providers says so with a marker (``pytestmark =
    # pytest.mark.bot_settings(SMS_PROVIDERS=...)``) rather than a fixture of its own.
    marker = request.node.get_closest_marker("bot_settings")
    overrides = marker.kwargs if marker is not None else {}
    async with running_harness(tmp_path, **overrides) as running:
        yield running


# --- one market per seed and session ------------------------------------------------------
#
# Every emulator builds its market from a seeded generator: a few thousand random prices and
# counts, the largest part of building an emulator, and tests build hundreds of emulators on a
# handful of seeds. Market.build is a function of the generator's state alone, so each state's
# market is built once per session and every later emulator gets its own copy: fresh Offer
# objects in fresh dicts (prices are Decimals, which nothing can change), the generator left in
# the state a real build leaves it. A market whose shape the copy does not know (a new field
# holding a list, say) is built for real every time instead.

#: Market.build itself (tests/test_harness.py holds the copies against it).
REAL_MARKET_BUILD: Callable[[type[Market], random.Random], Market] = Market.build.__func__  # type: ignore[attr-defined]
_IMMUTABLE = (Decimal, int, float, str, bool, bytes, type(None))


def _plain_record(value: object) -> bool:
    """A dataclass instance whose fields all hold immutable values (an Offer, a RentOffer)."""
    if not dataclasses.is_dataclass(value) or isinstance(value, type):
        return False
    return all(
        isinstance(getattr(value, field.name), _IMMUTABLE) for field in dataclasses.fields(value)
    )


def _copy_record(value: Any) -> Any:
    if isinstance(value, _IMMUTABLE):
        return value
    names = [field.name for field in dataclasses.fields(value)]
    return type(value)(**{name: getattr(value, name) for name in names})


def _copier(market: Market) -> Callable[[], Market] | None:
    """A function making independent copies of ``market`` as it is now (later changes to it
    do not show in them), or None for a shape it does not know."""
    try:
        attributes = vars(market)
    except TypeError:
        return None
    tables: dict[str, dict[Any, Any]] = {}
    for name, table in attributes.items():
        if not isinstance(table, dict):
            return None
        for key, value in table.items():
            if not isinstance(key, (*_IMMUTABLE, tuple)):
                return None
            if not (isinstance(value, _IMMUTABLE) or _plain_record(value)):
                return None
        tables[name] = {key: _copy_record(value) for key, value in table.items()}

    def copy() -> Market:
        fresh = object.__new__(Market)
        for name, table in tables.items():
            setattr(fresh, name, {key: _copy_record(value) for key, value in table.items()})
        return fresh

    return copy


@pytest.fixture(autouse=True, scope="session")
def _market_per_seed() -> Iterator[None]:
    build = REAL_MARKET_BUILD
    built: dict[Any, tuple[Callable[[], Market] | None, Any]] = {}

    def memoized(cls: type[Market], rng: random.Random) -> Market:
        if cls is not Market or type(rng) is not random.Random:
            return build(cls, rng)
        state = rng.getstate()
        if state not in built:
            market = build(cls, rng)
            built[state] = (_copier(market), rng.getstate())
            return market
        copy, after = built[state]
        if copy is None:
            return build(cls, rng)
        rng.setstate(after)
        return copy()

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(Market, "build", classmethod(memoized))
        yield
