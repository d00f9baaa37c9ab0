"""Scenario: forged provider webhooks reach no chat and change no card.

The bot runs with provider webhooks on (``PUBLIC_URL``, ``PROVIDER_WEBHOOK_SECRET``) and a slow
poll, so a code that arrives at once can only have come through a webhook. The victim pastes
the URL the bot shows into their provider profile and buys numbers; an attacker with an
account of their own, who knows the victim's activation ids, then posts forged codes and SMS:

(a) to the victim's own URL, for the victim's ids, while the provider still waits for the SMS;
(b) to the attacker's own URL, with the victim's ids;
(c) to made-up tokens (random ones, the victim's with another MAC, user id or provider);
(d) to malformed and non-ASCII paths, the old shared-secret URL among them.

Nothing forged may be pushed, no card may change, no answer may be a 5xx, and only (a) may
cost provider reads (one per event at most). Then a genuine code arrives through the
provider's own webhook, at once.
"""

from __future__ import annotations

import asyncio
import re
import string
import time
from collections import Counter
from random import Random
from typing import Any

import aiohttp
import pytest
from yarl import URL

from tests.chaos.helpers import (
    PROVIDER,
    Customer,
    Rig,
    assert_clean_finish,
    code_pushes,
    figures,
    free_port,
    onboard,
    quick_buy,
)

pytestmark = pytest.mark.e2e

SEED = 717
WEBHOOK_SECRET = "chaos-provider-webhook-secret-0123"
FORGED_CODE = "424242"
PHISHING = "Your bank: confirm at https://evil.example/login"
BUYS = 3
ROUNDS = 20  # forged events per id and kind
_URL = re.compile(r"http://127\.0\.0\.1:\d+/provider/[A-Za-z0-9._-]+")
_B64 = string.ascii_letters + string.digits + "_-"
EDITS = ("editMessageText", "editMessageReplyMarkup", "editMessageCaption")


def shown_url(customer: Customer) -> str:
    found = [u for m in customer.side.bot_messages for u in _URL.findall(m.text)]
    assert found, customer.side.transcript()
    return str(found[-1])


def forged_bodies(ids: list[int], rng: Random) -> list[dict[str, Any]]:
    bodies: list[dict[str, Any]] = []
    for activation_id in ids:
        for _ in range(ROUNDS):
            bodies.append(
                {
                    "activationId": activation_id,
                    "service": "tg",
                    "text": f"Telegram code {FORGED_CODE}",
                    "code": FORGED_CODE,
                    "country": 6,
                    "receivedAt": "2026-01-01 00:00:00",
                }
            )
            sms = {"phoneFrom": "BANK", "text": PHISHING, "date": "2026-01-01 00:00:00"}
            bodies.append({"rentId": activation_id, "sms": sms})
        bodies.append({"activationId": str(activation_id + rng.randint(1, 50))})
    return bodies


def made_up_tokens(victim: Customer, victim_url: str, rng: Random) -> list[str]:
    base, token = victim_url.rsplit("/", 1)
    uid, provider, tag, mac = token.split(".")
    flipped = mac[:-1] + ("A" if mac[-1] != "A" else "B")
    tokens = [
        f"{uid}.{provider}.{tag}.{flipped}",
        f"{uid}.smshub.{tag}.{mac}",
        f"{int(uid) + 1}.{provider}.{tag}.{mac}",
        f"{uid}.{provider}.{'A' * 8}.{mac}",
    ]
    for _ in range(40):
        random_uid = rng.choice([victim.id, rng.randint(1, 10**10)])
        tag = "".join(rng.choice(_B64) for _ in range(8))
        mac = "".join(rng.choice(_B64) for _ in range(22))
        tokens.append(f"{random_uid}.{PROVIDER}.{tag}.{mac}")
    return [f"{base}/{token}" for token in tokens]


def malformed_paths(base: str, victim_url: str) -> list[str]:
    path = victim_url.removeprefix(base)
    return [
        "/provider/%C3%A9",
        "/provider/%FF%FE",
        "/provider/" + "%C3%A9" * 40,
        path + "%C3%A9",
        path + "/herosms",
        path + "%00",
        "/provider/" + "9" * 5000,
        "/provider/..%2F..%2Fetc%2Fpasswd",
        "/provider/1.herosms..",
        f"/provider/{WEBHOOK_SECRET}/{PROVIDER}",  # the old shared-secret URL
        "/provider/",
    ]


async def raw_post(port: int, target: bytes) -> int:
    """A request whose path bytes no client library would send (raw UTF-8, invalid UTF-8)."""
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    body = b'{"activationId": 1, "code": "1"}'
    writer.write(
        b"POST " + target + b" HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
        b"Content-Length: " + str(len(body)).encode() + b"\r\nConnection: close\r\n\r\n" + body
    )
    await writer.drain()
    status_line = await reader.readline()
    writer.close()
    return int(status_line.split()[1])


async def test_forged_webhooks_push_nothing_and_change_no_card(rig: Rig) -> None:
    rng = Random(SEED)
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    rig.fleet.add(
        "bot",
        HTTP_PORT=str(port),
        PUBLIC_URL=base,
        PROVIDER_WEBHOOK_SECRET=WEBHOOK_SECRET,
        POLL_INTERVAL="60",  # only a webhook brings a code within seconds
    )
    await rig.fleet.start_all()
    victim, attacker = rig.customers(2, rng)
    await onboard(victim)
    await onboard(attacker)
    victim_url, attacker_url = shown_url(victim), shown_url(attacker)
    assert WEBHOOK_SECRET not in victim_url + attacker_url
    assert victim_url != attacker_url
    rig.provider.emulator.set_webhooks(victim.key, [victim_url])  # pasted into the profile
    for _ in range(BUYS):
        await quick_buy(victim)
    ids = victim.activations
    await asyncio.sleep(1.0)  # the cards' first edits and reads are done
    cards = {victim.cards[a]: victim.side.message(victim.cards[a]).text for a in ids}
    bot_api_before = len(rig.fake_telegram.calls)
    pushes_before = len(code_pushes(rig.fake_telegram))

    def reads() -> int:
        """Provider reads naming one of the victim's activations."""
        return sum(
            1
            for call in rig.provider.emulator.calls
            if call.params.get("id") in {str(a) for a in ids}
        )

    statuses: dict[str, Counter[int]] = {}
    provider_reads: dict[str, int] = {}
    events = 0
    async with aiohttp.ClientSession() as http:

        async def post(kind: str, url: str, body: dict[str, Any]) -> None:
            nonlocal events
            events += 1
            async with http.post(URL(url, encoded=True), json=body) as answer:
                statuses.setdefault(kind, Counter())[answer.status] += 1
                if answer.status == 200:
                    assert await answer.json() == {"ok": True}, kind

        bodies = forged_bodies(ids, rng)
        plan = {
            "a_victim_url": [victim_url],
            "b_attacker_url": [attacker_url],
            "c_made_up_token": made_up_tokens(victim, victim_url, rng),
        }
        for kind, urls in plan.items():
            before = reads()
            for url in urls:
                for body in bodies if kind != "c_made_up_token" else bodies[:: len(ids) * 4]:
                    await post(kind, url, body)
            await asyncio.sleep(0.5)
            provider_reads[kind] = reads() - before
        before = reads()
        for path in malformed_paths(base, victim_url):
            await post("d_malformed", base + path, bodies[0])
        raw = victim_url.removeprefix(base).encode()
        for target in (b"/provider/\xc3\xa9", b"/provider/\xff\xfe", raw + b"\xc3\xa9"):
            status = await raw_post(port, target)
            statuses.setdefault("d_malformed", Counter())[status] += 1
            events += 1
        provider_reads["d_malformed"] = reads() - before

    await asyncio.sleep(1.0)
    forged_calls = rig.fake_telegram.calls[bot_api_before:]
    forged_pushes = [p for p in code_pushes(rig.fake_telegram) if p.code == FORGED_CODE]
    phishing = [c for c in forged_calls if "evil.example" in str(c.params.get("text", ""))]
    card_edits = [
        c for c in forged_calls if c.method in EDITS and c.params.get("message_id") in cards
    ]
    changed = [mid for mid, text in cards.items() if victim.side.message(mid).text != text]
    a_events = sum(statuses["a_victim_url"].values())

    # The genuine code, through the provider's own webhook to the victim's URL.
    genuine = f"{rng.randint(100_000, 999_999)}"
    started = time.monotonic()
    rig.provider.send_code(ids[0], genuine)
    await victim.side.wait_for(lambda m: "Code for" in m.text, timeout=20)
    latency = time.monotonic() - started
    pushes = code_pushes(rig.fake_telegram)[pushes_before:]

    line = figures(
        "forged webhooks",
        events=events,
        by_kind={k: sum(v.values()) for k, v in statuses.items()},
        statuses={k: dict(v) for k, v in statuses.items()},
        provider_reads=provider_reads,
        forged_pushes=len(forged_pushes),
        phishing_messages=len(phishing),
        cards_changed=len(changed) + len(card_edits),
        genuine_code_s=f"{latency:.2f}",
        pushes=len(pushes),
    )
    rig.report(line)
    assert not forged_pushes, line
    assert not phishing, line
    assert not changed, line
    assert not card_edits, line
    assert all(s < 500 for counter in statuses.values() for s in counter), line
    assert set(statuses["d_malformed"]) <= {400, 404}, line
    assert set(statuses["b_attacker_url"]) == {200}, line
    assert set(statuses["c_made_up_token"]) == {200}, line
    # Only the victim's own URL may cost reads, one per event at most.
    assert provider_reads["a_victim_url"] <= a_events, line
    assert provider_reads["b_attacker_url"] == 0, line
    assert provider_reads["c_made_up_token"] == 0, line
    assert provider_reads["d_malformed"] == 0, line
    assert [(p.chat_id, p.code) for p in pushes] == [(victim.id, genuine)], line
    assert latency < 10, line  # the poll interval is 60 s: the webhook brought it
    await assert_clean_finish(rig.fleet, rig.redis_server, rig.fake_telegram, [victim, attacker])
