"""The results fan-out of an API replica, on the real Kafka: once it says it is live (``/readyz`` waits
for that), every event produced afterwards reaches the replica's streams."""

import asyncio
import os
import threading
import uuid

import pytest
from aiokafka import AIOKafkaProducer

from api.events.broker import Broker
from api.events.fanout import ResultsFanout
from common.kafka import ensure_topics
from schemas.codec import encode
from tests.api.support import running


async def produce(bootstrap: str, topic: str, ids: list[uuid.UUID]) -> None:
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap)
    await producer.start()
    try:
        for sid in ids:  # keyed by submission: spread over the partitions
            await producer.send_and_wait(topic, encode(running(sid)), key=str(sid).encode())
    finally:
        await producer.stop()


async def test_an_event_produced_once_the_fanout_is_live_reaches_its_stream() -> None:
    bootstrap = os.environ["EXECUTIONER_KAFKA_BOOTSTRAP"]
    topic = f"test-fanout-{uuid.uuid4().hex[:12]}.results"
    await ensure_topics(bootstrap, {topic: 3})
    broker, topics_ready = Broker(), asyncio.Event()
    topics_ready.set()
    fanout = ResultsFanout(bootstrap=bootstrap, topic=topic, broker=broker, topics_ready=topics_ready)
    reading = asyncio.create_task(fanout.run())
    try:
        await asyncio.wait_for(fanout.live.wait(), 60)
        ids = [uuid.uuid4() for _ in range(3)]
        subscriptions = [broker.subscribe(sid) for sid in ids]
        # Produced from another thread while this loop is blocked: the fan-out cannot fetch (and so
        # cannot resolve a position it left unresolved) before the events are on Kafka.
        producing = threading.Thread(target=asyncio.run, args=(produce(bootstrap, topic, ids),))
        producing.start()
        producing.join()
        assert [await s.next(10) for s in subscriptions] == [running(sid) for sid in ids]
    finally:
        reading.cancel()
        with pytest.raises(asyncio.CancelledError):
            await reading
    assert not fanout.live.is_set()
