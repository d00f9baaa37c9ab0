"""The emulator's knobs. Defaults follow protocol.md §13 ("recommended defaults")."""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal
from typing import Literal

__all__ = ["Dialect", "EmulatorConfig", "JsonStyle"]

Dialect = Literal["sms-activate", "herosms"]
JsonStyle = Literal["classic", "modern"]

HOUR = 3600.0


def _service_lifetimes() -> dict[str, float]:
    # Services the provider keeps open longer than 20 minutes (protocol.md §9.1).
    return {"ya": 40 * 60.0, "ig": HOUR, "ft": HOUR, "cy": HOUR, "wx": HOUR}


def _blocked_mail_sites() -> frozenset[str]:
    return frozenset({"gosuslugi.ru", "nalog.gov.ru", "sberbank.ru"})


def _partner_products() -> dict[int, tuple[str, Decimal]]:
    return {
        1: ("SMS-Activate Helper", Decimal("0")),
        2: ("Account Checker", Decimal("2")),
        3: ("Bulk Registrar", Decimal("6.5")),
    }


@dataclass
class EmulatorConfig:
    """Everything a test may want to bend. Times are in seconds unless the name says hours."""

    seed: int = 1
    # "sms-activate" answers HTTP 200 always; "herosms" sends errors with HTTP codes and a
    # {"title","details","info"} JSON envelope (protocol.md §12.3).
    dialect: Dialect = "sms-activate"
    # "classic": the seed document's shapes (string costs in getNumberV2, "svc_0" keys and int
    # counts in getNumbersStatus); "modern": the 2025 shapes (numbers, "currency", string counts).
    json_style: JsonStyle = "classic"
    # ISO 4217 numeric code of the account currency, sent by the modern shapes.
    currency: int = 840
    # Dates go out as naive local time of the "server"; the protocol does not name the zone.
    utc_offset_hours: float = 0.0

    activation_lifetime: float = 20 * 60.0
    service_lifetimes: dict[str, float] = field(default_factory=_service_lifetimes)
    early_cancel_seconds: float = 120.0
    # What getStatus says after a successful finish: "cancel" (2025 text) or "ok" (STATUS_OK).
    status_after_finish: Literal["cancel", "ok"] = "cancel"
    # setStatus=6 without any code: "bad_status" (refuse) or "cancel" (the seed's reading).
    finish_without_code: Literal["bad_status", "cancel"] = "bad_status"
    forward_fee: Decimal = Decimal("0.15")
    additional_service_price: Decimal = Decimal("0.07")
    extra_activation_window: float = 7 * 24 * HOUR
    banned_quotes: bool = True

    rent_durations: tuple[int, ...] = (4, 12, 24, 48, 72, 168, 336, 720)
    rent_min_hours: int = 4
    rent_max_hours: int = 1344
    rent_default_hours: int = 4
    rent_cancel_window: float = 20 * 60.0
    rent_number_lifetime: float = 1344 * HOUR

    mail_lifetime: float = 20 * 60.0
    blocked_mail_sites: frozenset[str] = field(default_factory=_blocked_mail_sites)

    partner_products: dict[int, tuple[str, Decimal]] = field(default_factory=_partner_products)

    # Sandbox helpers: scripted traffic so a demo shows codes without anyone injecting them.
    auto_sms_delay: float | None = None
    auto_rent_sms_interval: float | None = None

    # Offsets from an SMS at which its webhook is (re)tried: 8 attempts within 2 hours.
    webhook_schedule: tuple[float, ...] = (0, 30, 120, 300, 900, 1800, 3600, 7200)
    webhook_timeout: float = 3.0

    text_content_type: str = "text/html; charset=UTF-8"
    # The live service sent most JSON as text/html too; override per action in content_types.
    json_content_type: str = "text/html; charset=UTF-8"
    content_types: dict[str, str] = field(default_factory=dict)
    # createTaskForCall error encoding is undocumented: {"status":"error","msg":...} or text.
    call_error_encoding: Literal["json", "text"] = "json"

    # On the HTTP server a timeout fault holds the answer this long instead of raising.
    server_timeout_hold: float = 30.0
    max_recorded_calls: int = 10_000
    # Actions this provider lacks (answered BAD_ACTION), e.g. getActiveActivations for a
    # getStatus-only provider like SMSHub (protocol.md §12.2).
    disabled_actions: frozenset[str] = frozenset()

    def lifetime(self, service: str) -> float:
        return self.service_lifetimes.get(service, self.activation_lifetime)
