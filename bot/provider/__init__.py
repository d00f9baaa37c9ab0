"""The SMS-Activate ``handler_api.php`` protocol: client, models, errors and provider presets."""

from bot.provider import errors, models
from bot.provider.client import ProviderClient
from bot.provider.models import RentAction
from bot.provider.presets import PRESETS, Feature, ProviderPreset, parse_providers
from bot.provider.transport import PAID_ACTIONS, READ_ACTIONS, build_http_client

__all__ = [
    "PAID_ACTIONS",
    "PRESETS",
    "READ_ACTIONS",
    "Feature",
    "ProviderClient",
    "ProviderPreset",
    "RentAction",
    "build_http_client",
    "errors",
    "models",
    "parse_providers",
]
