"""Outbox leases on the real MySQL, with a stand-in producer whose acknowledgements the test holds back:
a relay waiting for Kafka locks nothing a new submission needs, no second relay takes its rows, and the
rows of a relay that died are taken over once their lease has ended."""

import asyncio

import pytest
import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncEngine

from api.outbox.leases import claim
from tests.api.outbox_support import HeldProducer, insert_row, leases, make_relay
from tests.api.support import eventually


async def test_a_relay_waiting_for_kafka_blocks_no_submission_and_no_other_relay_takes_its_rows(
    outbox_engine: AsyncEngine,
) -> None:
    for key in (b"job-1", b"job-2"):
        await insert_row(outbox_engine, key)
    delivered: list[bytes] = []
    producer = HeldProducer(delivered)
    relay = make_relay(outbox_engine, producer)
    task = asyncio.create_task(relay.run())
    try:

        async def both_sent() -> bool | None:
            return True if len(producer.sent) == 2 else None

        await eventually(both_sent)
        # Kafka has not acknowledged: a new submission's row goes in at once (a lock held by the relay
        # would make it fail after 1 s), and another relay finds nothing of the held rows to claim.
        await insert_row(outbox_engine, b"job-3", lock_wait_s=1)
        taken = await claim(outbox_engine, "another-replica", 100, 60)
        assert [row.key for row in taken] == [b"job-3"]
        assert await leases(outbox_engine) == {
            b"job-1": relay.name,
            b"job-2": relay.name,
            b"job-3": "another-replica",
        }

        producer.acks_allowed.set()

        async def only_the_other_replicas_row_left() -> bool | None:
            return True if list(await leases(outbox_engine)) == [b"job-3"] else None

        await eventually(only_the_other_replicas_row_left)
    finally:
        relay.request_stop()
        await task
    assert sorted(delivered) == [b"job-1", b"job-2"], "each held row was published once, by its holder"


async def test_rows_of_a_dead_relay_are_published_once_their_lease_ends(outbox_engine: AsyncEngine) -> None:
    await insert_row(outbox_engine, b"lease-ended", leased_to="dead-relay", lease_s=-1)
    await insert_row(outbox_engine, b"still-leased", leased_to="live-relay", lease_s=3600)
    delivered: list[bytes] = []
    producer = HeldProducer(delivered)
    producer.acks_allowed.set()
    relay = make_relay(outbox_engine, producer)
    task = asyncio.create_task(relay.run())
    try:

        async def only_the_live_lease_left() -> bool | None:
            return True if list(await leases(outbox_engine)) == [b"still-leased"] else None

        await eventually(only_the_live_lease_left)
    finally:
        relay.request_stop()
        await task
    # The relay's claim looked at both rows at once, so the live lease was seen and respected.
    assert delivered == [b"lease-ended"]


async def test_a_relay_stopped_mid_publish_hands_its_rows_back(outbox_engine: AsyncEngine) -> None:
    for key in (b"job-1", b"job-2"):
        await insert_row(outbox_engine, key)
    producer = HeldProducer([])  # Kafka never acknowledges
    relay = make_relay(outbox_engine, producer)
    task = asyncio.create_task(relay.run())

    async def both_sent() -> bool | None:
        return True if len(producer.sent) == 2 else None

    try:
        await eventually(both_sent)
    finally:
        task.cancel()  # as the API's shutdown does once the relay's drain time is over
        with pytest.raises(asyncio.CancelledError):
            await task
    assert await leases(outbox_engine) == {b"job-1": None, b"job-2": None}, "free for any relay at once"


async def test_a_job_is_published_in_the_trace_its_outbox_row_recorded(outbox_engine: AsyncEngine) -> None:
    traceparent = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"
    insert = sa.text(
        "INSERT INTO outbox (topic, msg_key, payload, created_at, traceparent)"
        " VALUES ('t', :key, '{}', NOW(6), :traceparent)"
    )
    async with outbox_engine.begin() as conn:
        await conn.execute(
            insert,
            [{"key": b"traced", "traceparent": traceparent}, {"key": b"untraced", "traceparent": None}],
        )
    producer = HeldProducer([])
    producer.acks_allowed.set()
    relay = make_relay(outbox_engine, producer)
    task = asyncio.create_task(relay.run())
    try:

        async def both_sent() -> bool | None:
            return True if len(producer.sent) == 2 else None

        await eventually(both_sent)
    finally:
        relay.request_stop()
        await task
    ((name, value),) = producer.headers[b"traced"]
    # The trace the POST started (the span is the relay's own when this process exports spans).
    assert name == "traceparent" and value.decode().startswith("00-4bf92f3577b34da6a3ce929d0e0e4736-"), value
    assert producer.headers[b"untraced"] == []
