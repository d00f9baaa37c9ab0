"""Run the sandbox provider over HTTP.

    python -m bot.sandbox --port 8099 --key demo --balance 100
    curl '127.0.0.1:8099/stubs/handler_api.php?api_key=demo&action=getBalance'

Each ``--key`` takes the ``--balance`` at the same position (100 when there are fewer balances).
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
from collections.abc import Sequence
from decimal import Decimal, InvalidOperation
from pathlib import Path

from aiohttp import web

from bot.sandbox.clock import Clock
from bot.sandbox.config import EmulatorConfig
from bot.sandbox.emulator import Emulator
from bot.sandbox.server import AccessLogger, create_app
from bot.sandbox.wire import mask_key

DEFAULT_BALANCE = Decimal("100")


def _amount(text: str) -> Decimal:
    try:
        value = Decimal(text)
    except InvalidOperation:
        raise argparse.ArgumentTypeError(f"not an amount: {text!r}") from None
    if not value.is_finite():
        raise argparse.ArgumentTypeError(f"not an amount: {text!r}")
    return value


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m bot.sandbox",
        description="A fake SMS-Activate provider (handler_api.php) for demos and tests.",
    )
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8099)
    parser.add_argument("--key", action="append", default=[], help="an API key (repeatable)")
    parser.add_argument(
        "--balance", action="append", type=_amount, default=[], help="balance of the n-th --key"
    )
    parser.add_argument(
        "--auto-sms", type=float, metavar="SECONDS", help="every activation gets an SMS after"
    )
    parser.add_argument(
        "--auto-rent-sms", type=float, metavar="SECONDS", help="every rent gets an SMS this often"
    )
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--dialect", choices=("sms-activate", "herosms"), default="sms-activate")
    parser.add_argument("--json-style", choices=("classic", "modern"), default="classic")
    parser.add_argument(
        "--without",
        action="append",
        default=[],
        metavar="ACTION",
        help="answer BAD_ACTION to this action, as a provider without it (repeatable)",
    )
    parser.add_argument("--quiet", action="store_true", help="no log line per request")
    parser.add_argument("--state", type=Path, metavar="FILE", help="load and keep saving state")
    args = parser.parse_args(argv)
    if len(args.balance) > len(args.key):
        parser.error("more --balance than --key")
    return args


def build(args: argparse.Namespace) -> Emulator:
    config = EmulatorConfig(
        seed=args.seed,
        dialect=args.dialect,
        json_style=args.json_style,
        auto_sms_delay=args.auto_sms,
        auto_rent_sms_interval=args.auto_rent_sms,
        disabled_actions=frozenset(args.without),
    )
    state: Path | None = args.state
    if state is not None and state.exists():
        emulator = Emulator.restore(json.loads(state.read_text(encoding="utf-8")), config)
    else:
        emulator = Emulator(config, Clock())
    balances = list(args.balance) + [DEFAULT_BALANCE] * (len(args.key) - len(args.balance))
    for key, balance in zip(args.key, balances, strict=True):
        # A restarted sandbox keeps the money its accounts had; only new keys are created.
        if key not in emulator.accounts:
            emulator.add_account(key, balance)
    return emulator


def main(argv: Sequence[str] | None = None) -> None:
    args = parse_args(argv)
    logging.basicConfig(
        level=logging.WARNING if args.quiet else logging.INFO,
        format="%(asctime)s %(levelname)s %(message)s",
    )
    emulator = build(args)
    if not emulator.accounts:
        print("warning: no accounts; pass --key KEY [--balance AMOUNT]", file=sys.stderr)
    keys = ", ".join(mask_key(key) for key in emulator.accounts)
    print(
        f"SMS-Activate sandbox on http://{args.host}:{args.port}/stubs/handler_api.php "
        f"(keys: {keys or 'none'})",
        flush=True,
    )
    web.run_app(
        create_app(emulator, state_path=args.state),
        host=args.host,
        port=args.port,
        print=None,
        access_log_class=AccessLogger,
    )


if __name__ == "__main__":
    main()
