"""``python -m bot.worker``: the worker alone (several may share one Redis); no long polling.

It sends through the Bot API; it serves its own /healthz and /metrics on WORKER_HTTP_PORT
when that is set (none by default, so it runs beside the bot on one host). It never imports
aiogram (tests/test_structure.py checks): its Telegram models alone would be ~150 MB.
"""

from __future__ import annotations

import asyncio
import logging
import sys

from bot.cli import start, stop_event
from bot.resources import Resources
from bot.side import SideServices

log = logging.getLogger("bot.worker")


async def serve(resources: Resources) -> None:
    services = SideServices(resources, http_port=resources.settings.worker_http_port)
    try:
        stop = stop_event()
        await services.start(run_worker=True)
        assert services.worker_task is not None
        # Run until asked to stop, or until the worker loop itself ends.
        await asyncio.wait(
            [asyncio.ensure_future(stop.wait()), services.worker_task],
            return_when=asyncio.FIRST_COMPLETED,
        )
    finally:
        await services.stop()


DESCRIPTION = """\
A worker without the bot: polls the providers for the open activations, rents and mailboxes
in Redis and pushes codes, rents and mails to the chats through the Bot API. Run any number
beside `python -m bot` (with RUN_WORKER=0 there, or not): they share the work through Redis.
On one host with no REDIS_URL they share the bot's embedded Redis (same DATA_DIR). Stop it
with SIGTERM or Ctrl-C."""

SETTINGS_HELP = """\
Its own setting:
  WORKER_HTTP_PORT   this worker's /healthz and /metrics (default 0: none); give each
                     worker on a host its own port

"""


def main() -> int:
    return start(
        serve,
        prog="python -m bot.worker",
        description=DESCRIPTION,
        settings_help=SETTINGS_HELP,
        no_token="BOT_TOKEN is not set: the worker sends codes through the bot",
    )


if __name__ == "__main__":
    sys.exit(main())
