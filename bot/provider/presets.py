"""Providers that speak the ``handler_api.php`` protocol, and what each of them offers.

The protocol is shared, the feature set is not: HeroSMS has no ``setRentStatus``, SMSHub only
the classic activation subset. The bot hides what a provider cannot do instead of letting the
user run into ``BAD_ACTION``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum


class Feature(StrEnum):
    ACTIVATIONS = "activations"
    NUMBER_V2 = "number_v2"
    ACTIVE_LIST = "active_list"
    HISTORY = "history"
    READY_STATUS = "ready_status"
    CASHBACK = "cashback"
    TOP_COUNTRIES = "top_countries"
    COUNTRY_RATES = "country_rates"
    OPERATORS = "operators"
    COUNTRIES = "countries"
    SERVICES_LIST = "services_list"
    MULTI_SERVICE = "multi_service"
    CALL_VERIFICATION = "call_verification"
    EXTRA_ACTIVATION = "extra_activation"
    ADDITIONAL_SERVICE = "additional_service"
    OUTGOING_CALLS = "outgoing_calls"
    RENT = "rent"
    RENT_PRICE = "rent_price"
    MAIL = "mail"
    PARTNER = "partner"


ALL_FEATURES = frozenset(Feature)
CLASSIC = frozenset({Feature.ACTIVATIONS})


@dataclass(frozen=True, slots=True)
class ProviderPreset:
    name: str
    title: str
    url: str
    features: frozenset[Feature] = field(default=ALL_FEATURES)
    note: str = ""

    def supports(self, feature: Feature) -> bool:
        return feature in self.features


PRESETS: dict[str, ProviderPreset] = {
    preset.name: preset
    for preset in (
        ProviderPreset(
            name="herosms",
            title="HeroSMS",
            url="https://hero-sms.com/stubs/handler_api.php",
            # HeroSMS drops multi-service, forwarding, extra activations, status 1 and the
            # classic rent status/list actions (protocol reference, section 12.3).
            features=frozenset(
                {
                    Feature.ACTIVATIONS,
                    Feature.NUMBER_V2,
                    Feature.ACTIVE_LIST,
                    Feature.HISTORY,
                    Feature.TOP_COUNTRIES,
                    Feature.COUNTRY_RATES,
                    Feature.OPERATORS,
                    Feature.COUNTRIES,
                    Feature.SERVICES_LIST,
                    Feature.CASHBACK,
                }
            ),
        ),
        ProviderPreset(
            name="smshub",
            title="SMSHub",
            url="https://smshub.org/stubs/handler_api.php",
            features=CLASSIC,
        ),
        ProviderPreset(
            name="grizzlysms",
            title="GrizzlySMS",
            url="https://api.grizzlysms.com/stubs/handler_api.php",
            features=CLASSIC | {Feature.ACTIVE_LIST, Feature.COUNTRIES, Feature.TOP_COUNTRIES},
        ),
        ProviderPreset(
            name="smsbower",
            title="SMSBower",
            url="https://smsbower.page/stubs/handler_api.php",
            features=CLASSIC | {Feature.NUMBER_V2, Feature.ACTIVE_LIST, Feature.COUNTRIES},
        ),
        ProviderPreset(
            name="sms-activate",
            title="SMS-Activate",
            url="https://api.sms-activate.org/stubs/handler_api.php",
            note="SMS-Activate closed on 29 December 2025; kept for compatible mirrors.",
        ),
    )
}

SANDBOX_NAME = "sandbox"
SANDBOX_URL = "http://sandbox.invalid/stubs/handler_api.php"
SANDBOX_PRESET = ProviderPreset(name=SANDBOX_NAME, title="Sandbox", url=SANDBOX_URL)
#: The second demo provider: another in-process emulator with its own prices and stock, so
#: comparing offers across accounts can be tried without money.
SANDBOX2_NAME = "sandbox2"
SANDBOX2_PRESET = ProviderPreset(
    name=SANDBOX2_NAME, title="Sandbox B", url="http://sandbox2.invalid/stubs/handler_api.php"
)
#: The demo providers SANDBOX=1 offers, in the order they are listed.
SANDBOX_PRESETS: tuple[ProviderPreset, ...] = (SANDBOX_PRESET, SANDBOX2_PRESET)
SANDBOX_NAMES = frozenset(preset.name for preset in SANDBOX_PRESETS)


def is_sandbox(provider: str) -> bool:
    """The provider is one of the demo ones: its key is made by the bot, never typed."""
    return provider in SANDBOX_NAMES


#: A provider's title goes into buttons and sentences: short, one line.
MAX_TITLE = 32


def parse_providers(spec: str | None) -> list[ProviderPreset]:
    """Read ``SMS_PROVIDERS``: entries ``name[:Title][=url]`` separated by commas.

    ``Title`` is what users read in sentences ("Send your My SMS API key"); without it a known
    name keeps its preset's title and any other name is shown as written. A name that matches a
    preset keeps the preset's features with the given URL; a bare preset name takes the
    preset's URL; an unknown name is a generic provider with every feature. Empty or unset
    means every preset.
    """
    if spec is None or not spec.strip():
        return list(PRESETS.values())
    providers: dict[str, ProviderPreset] = {}
    for item in spec.split(","):
        entry = item.strip()
        if not entry:
            continue
        label, sep, url = entry.partition("=")
        written, _colon, title = label.partition(":")
        name, title, url = written.strip().lower(), title.strip(), url.strip()
        if not name:
            raise ValueError(f"SMS_PROVIDERS entry without a name: {entry!r}")
        if is_sandbox(name):
            raise ValueError(f"{name!r} is reserved: set SANDBOX=1 to offer the sandbox")
        preset = PRESETS.get(name)
        if not sep:
            if preset is None:
                raise ValueError(f"SMS_PROVIDERS: unknown provider {name!r} needs '=url'")
            url = preset.url
        elif not url.startswith(("http://", "https://")):
            raise ValueError(f"SMS_PROVIDERS: {name!r} needs an http(s) URL, got {url!r}")
        if len(title) > MAX_TITLE or not title.isprintable():
            raise ValueError(
                f"SMS_PROVIDERS: the title of {name!r} must be at most {MAX_TITLE} printable "
                "characters"
            )
        default = preset.title if preset is not None else written.strip()
        features = preset.features if preset is not None else ALL_FEATURES
        note = preset.note if preset is not None and not sep else ""
        providers[name] = ProviderPreset(
            name=name, title=title or default, url=url, features=features, note=note
        )
    if not providers:
        raise ValueError("SMS_PROVIDERS lists no provider")
    return list(providers.values())
