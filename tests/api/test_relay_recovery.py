"""The relay outlives a Kafka outage: rows stay while sends fail, and after repeated failures it replaces
its producer (an aiokafka producer whose broker vanished does not always recover by itself).

The producer here is a stand-in that fails on cue; MySQL is real.
"""

import asyncio
from typing import Any

import sqlalchemy as sa
from aiokafka.errors import KafkaTimeoutError
from sqlalchemy.ext.asyncio import AsyncEngine

from api.outbox.relay import OutboxRelay
from tests.api.support import eventually


class FlakyProducer:
    """Acknowledges nothing while ``broken``; records what it delivered otherwise."""

    def __init__(self, broken: bool, delivered: list[bytes]) -> None:
        self.broken = broken
        self.delivered = delivered
        self.stopped = False

    async def start(self) -> None:
        pass

    async def stop(self) -> None:
        self.stopped = True

    async def send(
        self, topic: str, value: bytes, key: bytes, headers: list[tuple[str, bytes]]
    ) -> "asyncio.Future[Any]":
        ack: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
        if self.broken:
            ack.set_exception(KafkaTimeoutError("broker gone"))
        else:
            self.delivered.append(key)
            ack.set_result(None)
        return ack


async def _outbox_keys(engine: AsyncEngine) -> list[bytes]:
    async with engine.connect() as conn:
        return list((await conn.execute(sa.text("SELECT msg_key FROM outbox ORDER BY id"))).scalars())


async def test_relay_keeps_rows_through_failures_then_publishes_with_a_new_producer(
    outbox_engine: AsyncEngine,
) -> None:
    async with outbox_engine.begin() as conn:
        for key in (b"job-1", b"job-2"):
            await conn.execute(
                sa.text(
                    "INSERT INTO outbox (topic, msg_key, payload, created_at) VALUES ('t', :k, '{}', NOW(6))"
                ),
                {"k": key},
            )
    delivered: list[bytes] = []
    producers: list[FlakyProducer] = []

    def factory() -> Any:
        # The first producer stays broken, as one whose broker vanished; its replacement works.
        producers.append(FlakyProducer(broken=not producers, delivered=delivered))
        return producers[-1]

    ready = asyncio.Event()
    ready.set()
    relay = OutboxRelay(
        engine=outbox_engine,
        bootstrap="unused",
        topics_ready=ready,
        replace_producer_after=2,
        producer_factory=factory,
    )
    task = asyncio.create_task(relay.run())
    try:

        async def outbox_empty() -> bool | None:
            return True if not await _outbox_keys(outbox_engine) else None

        await eventually(outbox_empty)
    finally:
        relay.request_stop()
        await task

    assert delivered == [b"job-1", b"job-2"]
    assert len(producers) == 2 and producers[0].stopped, "the broken producer was replaced"
    assert producers[1].stopped, "stopping the relay stops its producer"
