"""Scenario 6: API keys never show in plaintext, wherever the bot leaves traces.

Users hand over keys every way the bot allows (the dialog, ``/key <key>``, a wrong key first,
a key replaced by another, a key removed, a key pasted where none was asked for), buy numbers
and get codes. Then Redis is searched (every key and value, the AOF before and after a rewrite,
the RDB snapshot), with the processes' logs and every Bot API call the bot made (texts,
buttons, alerts). The keys' messages are deleted from the chats.

The other scenarios run the same search at their end; this one covers the ways a key arrives.
"""

from __future__ import annotations

from random import Random

import pytest

from tests.chaos.helpers import (
    PROVIDER_TITLE,
    Customer,
    RedisServer,
    Rig,
    delivery_report,
    eventually,
    figures,
    log_problems,
    onboard,
    provider_key,
    quick_buy,
    secret_leaks,
    settle,
    unique_codes,
)

pytestmark = pytest.mark.e2e


async def rewrite_aof(redis_server: RedisServer) -> None:
    client = redis_server.client()
    try:
        await client.save()
        await client.bgrewriteaof()

        async def rewritten() -> bool:
            info = await client.info("persistence")
            return not info["aof_rewrite_in_progress"] and not info["aof_rewrite_scheduled"]

        assert await eventually(rewritten, timeout=30)
    finally:
        await client.aclose()


async def test_keys_never_show_in_plaintext(rig: Rig):
    rng = Random(606)
    rig.fleet.add("bot")
    await rig.fleet.start_all()
    dialog, command, wrong_first, replaced, removed, pasted = rig.customers(6, rng)
    wrong_key = provider_key(40, rng)  # no account has it: the provider refuses it
    second_key = provider_key(41, rng)
    rig.provider.add_account(second_key)
    secrets = [c.key for c in (dialog, command, wrong_first, replaced, removed, pasted)]
    secrets += [wrong_key, second_key]
    key_messages = []

    await onboard(dialog)
    key_messages.append((dialog, dialog.key))

    await command.side.send("/start")
    await command.side.wait_for("choose your provider")
    await command.side.send(f"/key {command.key}")
    await command.side.wait_for("Connected to")
    key_messages.append((command, f"/key {command.key}"))

    await wrong_first.side.send("/start")
    await wrong_first.side.wait_for("choose your provider")
    await wrong_first.side.press(PROVIDER_TITLE)
    await wrong_first.side.send(wrong_key)
    await wrong_first.side.wait_for("did not accept this key")
    await wrong_first.side.send(wrong_first.key)
    await wrong_first.side.wait_for("Connected to")
    key_messages += [(wrong_first, wrong_key), (wrong_first, wrong_first.key)]

    await onboard(replaced)
    await replaced.side.send("/key")
    await replaced.side.wait_for("Your provider accounts:")
    await replaced.side.press("➕ Add an account")
    await replaced.side.wait_for("Choose your provider")
    await replaced.side.press(PROVIDER_TITLE)
    await replaced.side.wait_for("API key")
    await replaced.side.send(second_key)
    await replaced.side.wait_for("Connected to")
    key_messages += [(replaced, replaced.key), (replaced, second_key)]
    replaced.key = second_key

    await onboard(removed)
    await removed.side.send("/key")
    await removed.side.wait_for("Your provider accounts:")
    await removed.side.press(f"⭐ {PROVIDER_TITLE}")
    await removed.side.wait_for("This is your default account.")
    await removed.side.press("Remove")
    await removed.side.wait_for(f"Remove the account {PROVIDER_TITLE}?")
    await removed.side.press("Yes, remove")
    await removed.side.wait_for("its key forgotten.")
    key_messages.append((removed, removed.key))

    await onboard(pasted)
    await pasted.side.send(f"my key is {pasted.key}")  # outside any dialog
    await pasted.side.wait_for("I did not understand")

    # Numbers and codes: the worker's logs and messages are searched too.
    buyers: list[Customer] = [dialog, command, wrong_first, replaced, pasted]
    for customer in buyers:
        await quick_buy(customer)
    ids = [a for c in buyers for a in c.activations]
    codes = dict(zip(ids, unique_codes(len(ids), rng), strict=True))
    owners = {codes[a]: c.id for c in buyers for a in c.activations}
    rig.provider.send_codes(codes)

    async def delivered() -> bool:
        return not delivery_report(rig.fake_telegram, owners).missing

    assert await eventually(delivered, timeout=60)

    # A canary proves the search sees what Redis holds, in memory and in each file.
    canary = provider_key(42, rng)
    client = rig.redis_server.client()
    try:
        await client.set("chaos:canary", canary)
    finally:
        await client.aclose()
    await settle(rig.fake_telegram)
    exits = await rig.fleet.stop_all()
    assert set(exits.values()) == {0}, exits
    history = rig.redis_server.files()  # the AOF as written: every command since the start
    dump = await rig.redis_server.dump()
    await rewrite_aof(rig.redis_server)
    files = {**{f"{name} (before the rewrite)": blob for name, blob in history.items()}}
    files.update(rig.redis_server.files())
    logs = rig.fleet.logs()
    leaks = secret_leaks(
        secrets, redis_dump=dump, redis_files=files, logs=logs, telegram=rig.fake_telegram
    )
    still_shown = [
        (c.id, text[:8])
        for c, text in key_messages
        if any(m.text == text and not m.deleted for m in c.side.messages)
    ]
    problems = log_problems(rig.fleet)
    line = figures(
        "secrets",
        keys=len(secrets),
        redis_bytes=len(dump),
        files={name: len(blob) for name, blob in files.items()},
        log_bytes=sum(len(log) for log in logs.values()),
        bot_api_calls=len(rig.fake_telegram.calls),
        leaks=len(leaks),
        key_messages_left_in_chat=len(still_shown),
    )
    rig.report(line)
    found = secret_leaks(
        [canary], redis_dump=dump, redis_files=files, logs={}, telegram=rig.fake_telegram
    )
    # In memory, in the snapshot, and in the AOF both as written and as rewritten (Redis 6
    # keeps one appendonly.aof; Redis 7 and Valkey a manifest, a base and increments).
    places = {entry.split(": in ", 1)[1] for entry in found}
    assert {"a Redis key or value", "dump.rdb"} <= places, found
    assert any(place.endswith("(before the rewrite)") for place in places), found
    rewritten = places - {"a Redis key or value", "dump.rdb"}
    assert any(not place.endswith("(before the rewrite)") for place in rewritten), found
    assert not leaks, f"{line}\n{leaks}"
    assert not still_shown, f"{line}\n{still_shown}"
    assert not problems, line + "\n" + "\n".join(problems[:5])
