"""The operator's view: /stats for the Telegram ids in ADMIN_IDS. Read-only, no keys.

Everyone else's /stats falls through to the fallback ("unknown command"): the command's
existence is not advertised.
"""

from __future__ import annotations

from aiogram.filters import Command
from aiogram.types import Message
from redis.asyncio import Redis

from bot.config import Settings
from bot.handlers.routes import Routes
from bot.i18n import gettext as _
from bot.i18n import ngettext
from bot.metrics import count_followed, daily_totals
from bot.storage.schedule import Schedule
from bot.storage.users import UserRepo


async def is_admin(message: Message, settings: Settings) -> bool:
    return message.from_user is not None and message.from_user.id in settings.admin_ids


router = Routes(name=__name__)
router.message.filter(is_admin)


@router.message(Command("stats"))
async def stats_command(
    message: Message, redis: Redis, users: UserRepo, schedule: Schedule
) -> None:
    today = await daily_totals(redis)
    followed = await count_followed(redis)
    requests = today.get("provider_requests", 0)
    errors = today.get("provider_errors", 0)
    rate = f"{100 * errors / requests:.1f}%" if requests else "—"
    act, rent, mail = followed["act"], followed["rent"], followed["mail"]
    delivered = sum(count for name, count in today.items() if name.startswith("delivered_"))
    lines = [
        "<b>" + _("Statistics (today, UTC)") + "</b>",
        _("Users: {count}").format(count=await users.count()),
        _("Open: {items}").format(
            items=", ".join(
                (
                    ngettext("{count} activation", "{count} activations", act).format(count=act),
                    ngettext("{count} rent", "{count} rents", rent).format(count=rent),
                    ngettext("{count} mailbox", "{count} mailboxes", mail).format(count=mail),
                )
            )
        ),
        _("Codes delivered today: {count}").format(count=delivered),
        _("Provider requests today: {requests}, errors {errors} ({rate})").format(
            requests=requests, errors=errors, rate=rate
        ),
        _("Updates handled today: {count}").format(count=today.get("updates", 0)),
        _("Queue lag: {seconds} s").format(seconds=f"{await schedule.lag():.1f}"),
    ]
    await message.answer("\n".join(lines))
