"""The real-time worker benchmark's bookkeeping: which sendMessage carried which code, and when.

The benchmark itself starts processes and takes minutes; what decides its "lost" and
"duplicated" figures is this matching, checked here on messages as both designs write them.
"""

from __future__ import annotations

from pathlib import Path

from bench.realtime import RunConfig, Stage, Workload, telegram_tally, user_id


async def test_codes_are_matched_to_their_chat_however_they_are_written(tmp_path: Path) -> None:
    config = RunConfig(activations=4, users=2, interval=5.0, provider="batching")
    workload = Workload(codes=["123456", "654321", "111222", "333444"], offsets=[0.0] * 4)
    stage = Stage(config, tmp_path)
    first, second = user_id(0), user_id(1)  # activations 0 and 2, and 1 and 3
    for user in (first, second):
        await stage.telegram.user(user).send("/start")

    async def send(chat: int, text: str) -> None:
        status, body = await stage.telegram.call_direct(
            "sendMessage", {"chat_id": str(chat), "text": text}
        )
        assert status == 200, body

    await send(first, "Your code: 123456")  # the naive poller
    await send(second, "🔑 Code for Telegram on +79001234567:\n<code>6 5 4 3 2 1</code>")
    await send(first, "Code for WhatsApp on +79001112223:\n111 222")
    await send(first, "Code again: 123456")  # a duplicate
    await send(first, "Your code: 333444")  # another chat's code: not a delivery
    await send(second, "Card of +79003334445")  # a phone, no code

    at, sent = telegram_tally(stage, workload, clock_offset=1000.0)

    assert sent == {0: 2, 1: 1, 2: 1}
    assert set(at) == {0, 1, 2}
    assert at[0] < at[2]  # the first sending counts, on the wall clock
    assert all(value > 1000.0 for value in at.values())
