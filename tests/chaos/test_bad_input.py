"""Scenario 5: 10,000 generated updates of every kind a bot can be sent, good and bad.

Random texts and commands, forged and stale callback data, buttons naming other users'
activations (real ids, taken from their cards) and provider accounts (real account ids, read
from Redis), messages up to Telegram's 4096 characters, and
update types the bot has no handler for. The bot must answer without a single unhandled
exception, and must never ask the provider about an activation that is not the asking
user's: every emulator request that names an object is checked against the object's owner
(each user's key starts with its own two characters, which the emulator's masked log keeps).
"""

from __future__ import annotations

import asyncio
import json
import string
import time
from collections import Counter
from random import Random
from typing import Any

import pytest
from aiogram.types import Update

from bot.keyboards.callbacks import AccountAction
from bot.storage import keys
from tests.chaos.helpers import (
    Customer,
    Rig,
    figures,
    gather_limited,
    log_problems,
    onboard,
    quick_buy,
    secret_leaks,
    settle,
)
from tests.faketg import FakeTelegram
from tests.faketg.markup import strip_for_user
from tests.faketg.server import ALL_UPDATE_TYPES

pytestmark = pytest.mark.e2e

SEED = 505
UPDATES = 10_000
USERS = 16
STRANGERS = 4  # never connected a key
BACKLOG = 150  # updates queued at Telegram at most, so the run paces itself on the bot
#: Request parameters that name an activation, rent or mail.
ID_PARAMS = ("id", "activationId", "activation_id")

WORDS = [
    "telegram", "whatsapp", "google", "indonesia", "russia", "hi", "help", "0.25", "7918,7900",
    "<b>bold</b>", "<a href='x'>", "&amp;", "&lt;", "🙂", "🇮🇩", "\u200b", "null", "NaN", "-1",
    "99999999999999999999", "%s", "{0}", "${x}", "'; DROP TABLE", "../../etc", "\\n", "ид",
]  # fmt: skip
COMMANDS = [
    "/start", "/help", "/buy", "/buy tg", "/buy tg 6", "/buy tg 0", "/buy tg -1", "/buy tg 6 9",
    "/buy zz", "/buy tg abc", "/buy tg 99999999999999999999", "/active", "/history",
    "/prices", "/prices tg", "/prices nothing", "/balance", "/language", "/cancel", "/key",
    "/rent", "/mail", "/nope", "/start@fake_test_bot", "/buy@other_bot", "/help extra words",
]  # fmt: skip
ACTS = ["rd", "an", "fi", "ca", "rf", "ag", "ex", "ec", "sh"]
FORGED_PREFIXES = [
    "a", "b", "h", "r", "rb", "rx", "m", "mf", "mh", "prov", "lang", "key", "acct", "dlg", "zz",
    "bof", "",
]  # fmt: skip
ACCOUNT_ACTIONS = [action.value for action in AccountAction]


class Generator:
    """Seeded update factory; every choice comes from ``rng``."""

    def __init__(self, rng: Random, users: list[Customer], strangers: list[Customer]) -> None:
        self.rng = rng
        self.users = users
        self.everyone = users + strangers

    def text(self) -> str:
        text = self._text()
        # Telegram clients send no empty (or blank) messages.
        return text if strip_for_user(text) else text + "?"

    def _text(self) -> str:
        rng = self.rng
        roll = rng.random()
        if roll < 0.05:
            size = rng.choice([1000, 4000, 4096])
            return "".join(rng.choice(string.printable + "щ🙂") for _ in range(size))[:4096]
        if roll < 0.5:
            return " ".join(rng.choice(WORDS) for _ in range(rng.randint(1, 6)))
        alphabet = string.ascii_letters + string.digits + string.punctuation + "йж€🙂 \n"
        return "".join(rng.choice(alphabet) for _ in range(rng.randint(1, 80)))

    def command(self) -> str:
        rng = self.rng
        if rng.random() < 0.2:
            # A command with a huge argument: the bot may quote it back.
            size = rng.randint(100, 4080)
            return (
                rng.choice(["/buy ", "/prices ", "/buy tg ", "/mail "]) + rng.choice("x9") * size
            )
        return rng.choice(COMMANDS)

    def forged(self, victim_ids: list[int], victim_accounts: list[str]) -> str:
        rng = self.rng
        roll = rng.random()
        if roll < 0.3 and victim_ids:
            return f"a:{rng.choice(ACTS)}:{rng.choice(victim_ids)}"
        if roll < 0.4 and victim_accounts:
            return f"acct:{rng.choice(ACCOUNT_ACTIONS)}:{rng.choice(victim_accounts)}"
        if roll < 0.45 and victim_accounts:
            # Another user's account as the payer of an offer.
            return f"bof:{rng.choice(victim_accounts)}:tg:{rng.choice([0, 6])}"
        if roll < 0.6:
            size = rng.randint(1, 64)
            return "".join(rng.choice(string.printable.strip()) for _ in range(size))
        prefix = rng.choice(FORGED_PREFIXES)
        fields = [
            rng.choice(["", "x", "-1", "0", "ok", "ca", "99999999999999999999", "1.5", "🙂"])
            for _ in range(rng.randint(0, 3))
        ]
        return ":".join([prefix, *fields])[:64]


def foreign_updates(
    rng: Random, user: dict[str, Any], group: dict[str, Any], channel: dict[str, Any], now: int
) -> list[tuple[str, dict[str, Any]]]:
    """One of each update type the bot has no handler for, plus messages without a text (a
    photo, a sticker, a location) and a command in a group."""
    private = {"id": user["id"], "type": "private", "first_name": user["first_name"]}
    member = {"status": "member", "user": user}
    message = {"message_id": rng.randint(1, 10**6), "date": now, "chat": private, "from": user}
    media = {"file_id": "f", "file_unique_id": "u"}
    sticker = {**media, "type": "regular", "width": 1, "height": 1}
    sticker.update({"is_animated": False, "is_video": False})
    return [
        ("edited_message", {**message, "text": "edited", "edit_date": now}),
        ("channel_post", {"message_id": 1, "date": now, "chat": channel, "text": "/start"}),
        ("edited_channel_post", {"message_id": 1, "date": now, "chat": channel, "text": "x"}),
        (
            "poll",
            {
                "id": str(rng.getrandbits(40)),
                "question": "?",
                "options": [{"text": "a", "voter_count": 1, "persistent_id": "0"}],
                "total_voter_count": 1,
                "is_closed": False,
                "is_anonymous": True,
                "type": "regular",
                "allows_multiple_answers": False,
                "allows_revoting": False,
                "members_only": False,
            },
        ),
        (
            "poll_answer",
            {"poll_id": "1", "user": user, "option_ids": [0], "option_persistent_ids": ["0"]},
        ),
        (
            "message_reaction",
            {
                "chat": private,
                "message_id": 1,
                "user": user,
                "date": now,
                "old_reaction": [],
                "new_reaction": [{"type": "emoji", "emoji": "👍"}],
            },
        ),
        (
            "inline_query",
            {"id": str(rng.getrandbits(40)), "from": user, "query": "tg", "offset": ""},
        ),
        ("chosen_inline_result", {"result_id": "1", "from": user, "query": "tg"}),
        (
            "chat_join_request",
            {"chat": group, "from": user, "user_chat_id": user["id"], "date": now},
        ),
        (
            "chat_member",
            {
                "chat": group,
                "from": user,
                "date": now,
                "old_chat_member": {"status": "left", "user": user},
                "new_chat_member": member,
            },
        ),
        (
            "my_chat_member",
            {
                "chat": group,
                "from": user,
                "date": now,
                "old_chat_member": {"status": "left", "user": user},
                "new_chat_member": {"status": "member", "user": user},
            },
        ),
        (
            "shipping_query",
            {
                "id": "1",
                "from": user,
                "invoice_payload": "x",
                "shipping_address": {
                    "country_code": "DE",
                    "state": "",
                    "city": "B",
                    "street_line1": "S",
                    "street_line2": "",
                    "post_code": "1",
                },
            },
        ),
        (
            "pre_checkout_query",
            {
                "id": "1",
                "from": user,
                "currency": "XTR",
                "total_amount": 1,
                "invoice_payload": "x",
            },
        ),
        ("message", {**message, "photo": [{**media, "width": 1, "height": 1}]}),
        ("message", {**message, "sticker": sticker}),
        ("message", {**message, "location": {"latitude": 1.0, "longitude": 2.0}}),
        ("message", {**message, "chat": group, "text": "/buy tg 6"}),
    ]


async def widen_and_push(telegram: FakeTelegram, updates: list[tuple[str, dict[str, Any]]]) -> int:
    """Queue updates of any type, as Telegram does for those created before a bot's
    ``allowed_updates`` narrowed what it sends. Returns how many were queued."""
    for kind, payload in updates:
        # Only updates Telegram could send: a malformed one would wedge any bot's polling.
        Update.model_validate({"update_id": 1, kind: payload})
    everything = json.dumps(list(ALL_UPDATE_TYPES))
    await telegram.call_direct(
        "getUpdates", {"timeout": "0", "limit": "1", "allowed_updates": everything}
    )
    return sum(1 for kind, payload in updates if telegram.push_update(kind, payload) is not None)


async def test_ten_thousand_bad_updates(rig: Rig):
    rng = Random(SEED)
    rig.fleet.add("bot")
    await rig.fleet.start_all()
    customers = rig.customers(USERS + STRANGERS, rng)
    users, strangers = customers[:USERS], customers[USERS:]
    await gather_limited((onboard(c) for c in users), USERS)

    async def buy_two(customer: Customer) -> None:
        for _ in range(2):
            await quick_buy(customer)

    await gather_limited((buy_two(c) for c in users), USERS)
    generator = Generator(rng, users, strangers)
    # Real chats for the updates that come from a group or a channel the bot is in.
    group = rig.fake_telegram.group_chat(title="Group", member=users[0].side).chat_state.to_api()
    channel = rig.fake_telegram.group_chat(chat_type="channel", title="News").chat_state.to_api()
    kinds: Counter[str] = Counter()
    foreign_sent = foreign_queued = 0
    started = time.monotonic()
    calls_before = len(rig.provider.emulator.calls)

    def victims_of(customer: Customer) -> list[int]:
        return [a for other in users if other is not customer for a in other.activations]

    redis = rig.redis_server.client()
    account_ids: dict[int, list[str]] = {}
    for user in users:
        listed = json.loads(await redis.hget(keys.user(user.id), "accounts") or "[]")
        account_ids[user.id] = [account["id"] for account in listed]
    await redis.aclose()
    assert all(account_ids.values())

    def accounts_of_others(customer: Customer) -> list[str]:
        return [a for uid, ids in account_ids.items() if uid != customer.id for a in ids]

    async def one(customer: Customer) -> None:
        nonlocal foreign_sent, foreign_queued
        side = customer.side
        roll = rng.random()
        if roll < 0.30:
            kinds["text"] += 1
            await side.send(generator.text())
        elif roll < 0.52:
            kinds["command"] += 1
            await side.send(generator.command())
        elif roll < 0.80:
            kinds["forged callback"] += 1
            mine = [m.message_id for m in side.messages] or [1]
            message_id = rng.choice([*mine, rng.randint(1, 10**6), 0, -1])
            await side.press_data(
                message_id, generator.forged(victims_of(customer), accounts_of_others(customer))
            )
        elif roll < 0.95:
            with_buttons = [
                (m, data)
                for m in side.messages
                if m.from_bot
                for row in m.buttons
                for _, data in row
                if data and not data.startswith("http")
            ]
            if not with_buttons:
                kinds["text"] += 1
                await side.send(generator.text())
                return
            # Real buttons, stale or current, of deleted or live messages.
            kinds["button"] += 1
            message, data = rng.choice(with_buttons)
            await side.press_data(message.message_id, data)
        else:
            kinds["foreign"] += 1
            user = side.user.to_api()
            batch = foreign_updates(rng, user, group, channel, int(time.time()))
            picked = rng.sample(batch, 3)
            foreign_sent += len(picked)
            foreign_queued += await widen_and_push(rig.fake_telegram, picked)

    sent = 0
    while sent < UPDATES:
        if sent % 25 == 0:
            deadline = time.monotonic() + 60
            while len(rig.fake_telegram.pending_updates) > BACKLOG:
                assert time.monotonic() < deadline, "the bot stopped taking updates"
                await asyncio.sleep(0.05)
        customer = rng.choice(generator.everyone)
        await one(customer)
        sent += 1
    await rig.fake_telegram.wait_until(lambda: not rig.fake_telegram.pending_updates, timeout=120)
    await settle(rig.fake_telegram, quiet=2.0)
    seconds = time.monotonic() - started

    # Whose each object is, including what users bought during the run.
    emulator = rig.provider.emulator
    owner_prefix = {a.id: a.key[:2] for a in emulator.activations.values()}
    owner_prefix.update({r.id: r.key[:2] for r in emulator.rents.values()})
    owner_prefix.update({m.id: m.key[:2] for m in emulator.mails.values()})
    queries = [q for c in customers for q in rig.fake_telegram.callback_queries_of(c.side)]
    unanswered = [q for q in queries if q.answer is None]
    foreign_calls: list[str] = []
    checked = 0
    for call in rig.provider.emulator.calls[calls_before:]:
        named = [call.params[name] for name in ID_PARAMS if name in call.params]
        for value in named:
            checked += 1
            caller = call.params.get("api_key", "")[:2]
            found = owner_prefix.get(int(value)) if value.isdigit() else None
            if found != caller:
                foreign_calls.append(f"{call.action} {call.params}")
    problems = log_problems(rig.fleet)
    line = figures(
        "bad-input",
        updates=sent,
        kinds=dict(kinds),
        foreign_update_types_sent=foreign_sent,
        foreign_delivered=foreign_queued,
        seconds=round(seconds, 1),
        updates_per_s=round(sent / seconds),
        callback_queries=len(queries),
        unanswered_callbacks=len(unanswered),
        provider_calls_naming_an_object=checked,
        calls_on_others_objects=len(foreign_calls),
        unhandled_or_tracebacks=len(problems),
    )
    rig.report(line)
    assert not foreign_calls, line + "\n" + "\n".join(foreign_calls[:10])
    assert not problems, line + "\n" + "\n".join(problems[:5])
    assert not unanswered, line + f"\n{unanswered[:5]}"

    exits = await rig.fleet.stop_all()
    assert set(exits.values()) == {0}, exits
    leaks = secret_leaks(
        [c.key for c in customers],
        redis_dump=await rig.redis_server.dump(),
        redis_files=rig.redis_server.files(),
        logs=rig.fleet.logs(),
        telegram=rig.fake_telegram,
    )
    assert not leaks, leaks
