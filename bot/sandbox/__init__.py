"""A faithful, stateful fake of an SMS-Activate ``handler_api.php`` provider.

Used by tests (in-process through :class:`EmulatorTransport`), by the bot's sandbox mode, and
standalone over HTTP (``python -m bot.sandbox --port 8099 --key demo --balance 100``).
"""

from bot.sandbox.clock import Clock
from bot.sandbox.config import EmulatorConfig
from bot.sandbox.emulator import CallRecord, Emulator, Outcome
from bot.sandbox.models import (
    Account,
    Activation,
    ActivationStatus,
    Mail,
    MailStatus,
    Rent,
    RentStatus,
)
from bot.sandbox.server import create_app
from bot.sandbox.state import InvalidState, SandboxError, UnknownObject
from bot.sandbox.transport import EmulatorTransport
from bot.sandbox.wire import Reply

__all__ = [
    "Account",
    "Activation",
    "ActivationStatus",
    "CallRecord",
    "Clock",
    "Emulator",
    "EmulatorConfig",
    "EmulatorTransport",
    "InvalidState",
    "Mail",
    "MailStatus",
    "Outcome",
    "Rent",
    "RentStatus",
    "Reply",
    "SandboxError",
    "UnknownObject",
    "create_app",
]
