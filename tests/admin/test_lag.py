"""Queue lag as the master measures it, on the real Kafka."""

import os
import secrets
from collections.abc import AsyncIterator

import pytest
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from aiokafka.structs import OffsetAndMetadata

from master.lag import LagProbe, lag_of
from schemas.topics import Topics


@pytest.fixture
async def topics() -> AsyncIterator[Topics]:
    """A fresh prefix with a two-partition ``jobs.python`` and a one-partition ``checks.go``; its topics
    are deleted afterwards."""
    bootstrap = os.environ["EXECUTIONER_KAFKA_BOOTSTRAP"]
    names = Topics(f"tlag{secrets.token_hex(3)}.")
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
    await admin.start()
    try:
        await admin.create_topics([NewTopic(names.jobs("python"), 2, 1), NewTopic(names.checks("go"), 1, 1)])
        yield names
        await admin.delete_topics([names.jobs("python"), names.checks("go")])
    finally:
        await admin.close()


def test_a_partition_never_committed_counts_from_its_first_offset() -> None:
    a, b = TopicPartition("t", 0), TopicPartition("t", 1)
    assert lag_of([a, b], committed={a: 7}, beginning={a: 0, b: 4}, end={a: 10, b: 9}) == 3 + 5
    assert lag_of([a], committed={a: -1}, beginning={a: 2}, end={a: 2}) == 0


async def test_lag_is_what_the_worker_group_has_not_committed(topics: Topics) -> None:
    bootstrap = os.environ["EXECUTIONER_KAFKA_BOOTSTRAP"]
    topic = topics.jobs("python")
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap)
    await producer.start()
    try:
        for partition, count in ((0, 5), (1, 3)):
            for n in range(count):
                await producer.send_and_wait(topic, b"job", key=str(n).encode(), partition=partition)
        for n in range(4):  # python workers asking the go workers to check four tests
            await producer.send_and_wait(topics.checks("go"), b"check", key=str(n).encode())
    finally:
        await producer.stop()
    # The workers' group finished three jobs of partition 0 and none of partition 1.
    group = AIOKafkaConsumer(
        bootstrap_servers=bootstrap, group_id=topics.worker_group("python"), enable_auto_commit=False
    )
    await group.start()
    try:
        group.assign([TopicPartition(topic, 0)])
        await group.commit({TopicPartition(topic, 0): OffsetAndMetadata(3, "")})
    finally:
        await group.stop()

    probe = LagProbe(bootstrap, topics)
    try:
        # No jobs.cpp topic: absent. The go workers have only checks to do (no jobs.go topic yet).
        assert await probe.measure(["python", "cpp", "go"]) == {"python": 2 + 3, "go": 4}
    finally:
        await probe.close()
