"""A submission's outbox row handed to the relay in memory (api/outbox/handoff.py), on the real MySQL
with a stand-in producer: stored through the POST's own insert under the relay's lease, published by
that relay though no claim can see it, never starving the free rows, and given back when it stops."""

import asyncio
from uuid import uuid4

import pytest
import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncEngine

from api.outbox.handoff import Handoffs, RowLease
from api.outbox.leases import OutboxRecord, claim
from api.outbox.relay import LEASE_S, OutboxRelay
from api.submissions.repository import insert_submission
from schemas import JobMessage
from schemas.codec import encode
from tests.api.outbox_support import HeldProducer, insert_row, leases, make_relay
from tests.api.support import eventually


async def store(engine: AsyncEngine, relay: OutboxRelay) -> bytes:
    """Store a submission as ``POST /api/v1/submissions`` does and tell ``relay``; its outbox key."""
    job = JobMessage(id=uuid4(), language="python", source="print(1)")
    stored = await insert_submission(engine, job, encode(job), "t", lease=relay.lease_new_row())
    relay.publish_soon(stored.outbox)
    return str(job.id).encode()


async def store_and_see_sent(engine: AsyncEngine, relay: OutboxRelay, producer: HeldProducer) -> None:
    """:func:`store` a row and wait until ``relay`` sent it."""
    key = await store(engine, relay)

    async def sent() -> bool | None:
        return True if key in producer.sent else None

    await eventually(sent)


async def seconds_left_of_lease(engine: AsyncEngine, key: bytes) -> float:
    query = sa.text("SELECT TIMESTAMPDIFF(MICROSECOND, NOW(6), lease_until) FROM outbox WHERE msg_key = :key")
    async with engine.connect() as conn:
        return float((await conn.execute(query, {"key": key})).scalar_one()) / 1e6


async def test_a_row_stored_under_the_relays_lease_is_published_by_it_though_no_claim_sees_it(
    outbox_engine: AsyncEngine,
) -> None:
    delivered: list[bytes] = []
    producer = HeldProducer(delivered)
    relay = make_relay(outbox_engine, producer)
    task = asyncio.create_task(relay.run())
    try:
        key = await store(outbox_engine, relay)

        async def sent() -> bool | None:
            return True if producer.sent == [key] else None

        await eventually(sent)
        # Leased to the relay in the submission's own transaction, on MySQL's clock: no claim, the
        # relay's or another replica's, can take it; if the process died now, it would wait LEASE_S.
        assert await leases(outbox_engine) == {key: relay.name}
        assert LEASE_S - 5 < await seconds_left_of_lease(outbox_engine, key) <= LEASE_S
        assert await claim(outbox_engine, "another-replica", 100, 60) == []

        producer.acks_allowed.set()

        async def outbox_empty() -> bool | None:
            return True if not await leases(outbox_engine) else None

        await eventually(outbox_empty)
    finally:
        relay.request_stop()
        await task
    assert delivered == [key]


async def test_free_rows_are_claimed_while_handed_rows_keep_coming(outbox_engine: AsyncEngine) -> None:
    producer = HeldProducer([])
    producer.acks_allowed.set()
    relay = make_relay(outbox_engine, producer)
    task = asyncio.create_task(relay.run())
    try:
        # A steady stream of handed rows, each stored once the one before went out: the relay is never
        # idle, so only its claim once per poll interval can find the free row inserted meanwhile.
        for _ in range(3):
            await store_and_see_sent(outbox_engine, relay, producer)
        await insert_row(outbox_engine, b"free")
        handed = 0
        while b"free" not in producer.sent:
            await store_and_see_sent(outbox_engine, relay, producer)
            handed += 1
            assert handed < 200, "the free row starved behind the handed ones"
    finally:
        relay.request_stop()
        await task


async def test_a_stopping_relay_gives_back_the_rows_handed_to_it(outbox_engine: AsyncEngine) -> None:
    producer = HeldProducer([])
    relay = make_relay(outbox_engine, producer, topics_ready=False)  # it waits: nothing gets published
    task = asyncio.create_task(relay.run())
    keys = [await store(outbox_engine, relay) for _ in range(2)]
    assert await leases(outbox_engine) == dict.fromkeys(keys, relay.name)
    relay.request_stop()
    await task
    assert await leases(outbox_engine) == dict.fromkeys(keys), "free for any relay at once"
    assert relay.lease_new_row() is None, "a stopped relay takes no more rows"
    assert producer.sent == []


@pytest.mark.unit
def test_handed_rows_too_old_to_outlast_a_publish_are_to_be_given_back() -> None:
    rows = [OutboxRecord(n, "t", b"k%d" % n, b"{}", None) for n in range(3)]
    fresh = Handoffs("me", lease_s=60, fresh_for_s=3600, limit=2)
    for row in rows[:2]:
        assert fresh.lease() == RowLease("me", 60)
        fresh.hand_over(row)
    assert fresh.lease() is None, "full: the next row goes in free"
    assert fresh.take(1) == ([rows[0]], [])
    assert fresh.lease() is not None
    old = Handoffs("me", lease_s=60, fresh_for_s=0, limit=2)
    old.hand_over(rows[2])
    assert old.take(5) == ([], [rows[2]])
    assert fresh.close() == [rows[1]]
    fresh.hand_over(rows[2])
    assert fresh.lease() is None and len(fresh) == 0, "closed: it takes nothing more"
