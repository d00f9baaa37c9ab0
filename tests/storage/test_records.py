"""The per-user store of purchases: atomic adds, owner-only lookups, moves, and retention."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from decimal import Decimal
from typing import Any

import pytest
from fakeredis import FakeAsyncRedis

from bot.storage import keys
from bot.storage.activations import Activation, ActivationRepo, State
from bot.storage.mails import MailRepo, MailState
from bot.storage.records import RETENTION, RecordMissing, Stored
from bot.storage.rents import RentRepo, RentState
from tests.records import NOW
from tests.records import activation_record as activation
from tests.records import mailbox_record as mailbox
from tests.records import rent_record as rent

DAY = 24 * 3600
NINE = Decimal(9)


@pytest.fixture
async def redis() -> AsyncIterator[FakeAsyncRedis]:
    client = FakeAsyncRedis()
    yield client
    await client.aclose()


async def test_add_stores_record_index_and_open_set_together(redis: FakeAsyncRedis) -> None:
    repo = ActivationRepo(redis)
    assert await repo.add(activation(7)) is True
    assert await repo.get("sandbox:7") == activation(7)
    assert await redis.zscore(keys.user(1, "acts"), "sandbox:7") == NOW
    assert await redis.smembers(keys.user(1, "open_acts")) == {b"sandbox:7"}
    assert await repo.open_count(1) == 1


async def test_adding_a_known_record_changes_nothing(redis: FakeAsyncRedis) -> None:
    repo = ActivationRepo(redis)
    await repo.add(activation(7, cost=None))
    assert await repo.add(activation(7, user_id=2, at=NOW + 5)) is False
    stored = await repo.get("sandbox:7")
    assert stored is not None
    assert stored.user_id == 1
    assert await redis.zcard(keys.user(2, "acts")) == 0
    assert await repo.open_count(2) == 0


async def test_a_closed_record_is_added_outside_the_open_set(redis: FakeAsyncRedis) -> None:
    repo = ActivationRepo(redis)
    await repo.add(activation(8, state=State.FINISHED))
    assert await repo.open_count(1) == 0
    assert [a.id for a in await repo.of_user(1)] == [8]


async def test_find_resolves_only_through_the_owners_index(redis: FakeAsyncRedis) -> None:
    repo = ActivationRepo(redis)
    await repo.add(activation(7, user_id=1))
    assert (await repo.find(1, 7)) is not None
    assert await repo.find(2, 7) is None
    assert await repo.find(1, 8) is None


async def test_of_user_is_newest_first_and_limited(redis: FakeAsyncRedis) -> None:
    repo = ActivationRepo(redis)
    for n in range(5):
        await repo.add(activation(n, at=NOW + n))
    assert [a.id for a in await repo.of_user(1)] == [4, 3, 2, 1, 0]
    assert [a.id for a in await repo.of_user(1, limit=2)] == [4, 3]
    assert [a.id for a in await repo.get_many(["sandbox:1", "sandbox:99", "sandbox:3"])] == [1, 3]


async def test_closing_by_update_leaves_the_open_set(redis: FakeAsyncRedis) -> None:
    repo = ActivationRepo(redis)
    await repo.add(activation(7))
    before, after = await repo.update(
        "sandbox:7", lambda a: a.model_copy(update={"state": State.CANCELLED})
    )
    assert before.is_open
    assert not after.is_open
    assert await repo.open_count(1) == 0
    with pytest.raises(RecordMissing):
        await repo.update("sandbox:404", lambda a: a)


async def test_prune_forgets_only_old_closed_records(redis: FakeAsyncRedis) -> None:
    repo = ActivationRepo(redis)
    old = NOW - RETENTION - DAY
    await repo.add(activation(1, at=old, state=State.FINISHED))
    await repo.add(activation(2, at=old))  # still open: kept whatever its age
    await repo.add(activation(3, at=NOW - RETENTION + DAY, state=State.EXPIRED))  # recent: kept
    assert await repo.prune(1, NOW) == 1
    assert await repo.get("sandbox:1") is None
    assert sorted(a.id for a in await repo.of_user(1)) == [2, 3]
    assert await repo.open_count(1) == 1


async def test_adding_prunes_the_owners_old_closed_records(redis: FakeAsyncRedis) -> None:
    repo = MailRepo(redis)
    old = mailbox(1, at=NOW - RETENTION - DAY).model_copy(update={"state": MailState.EXPIRED})
    await repo.add(old)
    await repo.add(mailbox(2, user_id=2, at=NOW))  # another user's add leaves user 1 alone
    assert await repo.get("sandbox:1") is not None
    await repo.add(mailbox(3, at=NOW))
    assert await repo.get("sandbox:1") is None
    assert [m.id for m in await repo.of_user(1)] == [3]


async def test_a_moved_mailbox_is_found_by_its_earlier_id(redis: FakeAsyncRedis) -> None:
    repo = MailRepo(redis)
    await repo.add(mailbox(10))
    moved = await repo.move(
        "sandbox:10",
        lambda m: m.model_copy(update={"id": 11, "previous_ids": [10], "created_at": NOW + 60}),
    )
    assert moved.ref == "sandbox:11"
    assert await repo.get("sandbox:10") is None
    assert await repo.refs(1) == ["sandbox:11"]
    for mail_id in (10, 11):
        found = await repo.find(1, mail_id)
        assert found is not None
        assert found.id == 11
    assert await repo.find(2, 10) is None


async def test_a_reordered_rent_is_found_by_its_earlier_id(redis: FakeAsyncRedis) -> None:
    repo = RentRepo(redis)
    await repo.add(rent(20))
    renewed = rent(21).model_copy(update={"previous_ids": [20]})
    await repo.move("sandbox:20", renewed)
    assert await repo.refs(1) == ["sandbox:21"]
    found = await repo.find(1, 20)
    assert found is not None
    assert found.id == 21
    assert await repo.find(2, 20) is None
    await repo.update("sandbox:21", lambda r: r.model_copy(update={"state": RentState.FINISHED}))
    assert await repo.open_of_user(1) == []


class CountedGets(FakeAsyncRedis):
    """Counts the reads a record update makes before it writes."""

    gets = 0

    async def get(self, name: Any) -> Any:
        self.gets += 1
        return await super().get(name)


def rename(phone: str) -> Callable[[Activation], Activation]:
    def change(record: Activation) -> Activation:
        record.phone = phone
        return record

    return change


async def test_an_update_after_this_process_wrote_the_record_needs_no_read() -> None:
    redis = CountedGets()
    repo = ActivationRepo(redis)
    await repo.add(activation(7))
    await repo.update("sandbox:7", rename("100"))
    assert redis.gets == 1
    _, after = await repo.update("sandbox:7", rename("200"))
    assert redis.gets == 1  # started from its own write, which was still what is stored
    assert after.phone == "200"
    assert await repo.get("sandbox:7") == after


async def test_an_update_from_a_stale_record_goes_on_from_what_is_stored() -> None:
    redis = CountedGets()
    repo, elsewhere = ActivationRepo(redis), ActivationRepo(redis)
    await repo.add(activation(7))
    stale = Stored(await redis.get(keys.record("act", "sandbox:7")))
    await elsewhere.update("sandbox:7", lambda record: record.model_copy(update={"cost": NINE}))
    reads = redis.gets

    def mark(record: Activation) -> Activation:
        record.phone = "300"
        return record

    before, after = await repo.update("sandbox:7", mark, stale)
    assert redis.gets == reads  # the failed write handed back the stored record
    assert before.cost == Decimal(9)  # the other writer's change is kept, not overwritten
    assert (after.cost, after.phone) == (Decimal(9), "300")
    assert await repo.get("sandbox:7") == after


async def test_no_change_judged_on_a_record_the_caller_saw_is_checked_by_a_read() -> None:
    redis = CountedGets()
    repo = ActivationRepo(redis)
    await repo.add(activation(7))
    stale = Stored(await redis.get(keys.record("act", "sandbox:7")))
    await ActivationRepo(redis).update("sandbox:7", rename("100"))
    before, after = await repo.update("sandbox:7", rename(activation(7).phone), stale)
    # Against the stale copy the change was nothing; against the stored one it is a change.
    assert before.phone == "100"
    assert after.phone == activation(7).phone


async def test_an_update_of_a_record_gone_meanwhile_says_so() -> None:
    redis = FakeAsyncRedis()
    repo = ActivationRepo(redis)
    await repo.add(activation(7))
    known = Stored(await redis.get(keys.record("act", "sandbox:7")))
    await redis.delete(keys.record("act", "sandbox:7"))
    with pytest.raises(RecordMissing):
        await repo.update("sandbox:7", rename("100"), known)
