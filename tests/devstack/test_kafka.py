"""A real Kafka node (KRaft, from the cached Maven jars): serves both listeners, is reused while it runs,
and comes back after stop() with the same topics and messages. Runs on a scratch profile."""

import asyncio
from collections.abc import Iterator

import pytest
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition

from devstack import processes
from devstack.kafka import Kafka
from devstack.kafka_probe import broker_count, serves_clients
from devstack.profile import Profile, cache_dir, repo_root

TOPIC = "devstack-selftest"


@pytest.fixture(scope="module")
def kafka(scratch_profile: Profile) -> Iterator[Kafka]:
    node = Kafka(scratch_profile, repo=repo_root(), cache=cache_dir())
    yield node
    node.stop()


async def test_ensure_serves_the_host_and_the_container_listener(kafka: Kafka, gateway: str) -> None:
    host, container = await asyncio.to_thread(kafka.ensure, gateway)
    assert kafka.started
    assert host == f"127.0.0.1:{kafka.profile.kafka_port}"
    assert container == f"{gateway}:{kafka.profile.kafka_container_port}"
    assert broker_count("127.0.0.1", kafka.profile.kafka_port) == 1
    assert broker_count(gateway, kafka.profile.kafka_container_port) == 1


async def test_a_second_ensure_reuses_the_running_broker(kafka: Kafka, gateway: str) -> None:
    pid = processes.running_pid(kafka.pid_file)
    await asyncio.to_thread(kafka.ensure, gateway)
    assert not kafka.started and processes.running_pid(kafka.pid_file) == pid


async def test_messages_survive_a_stop_and_restart(kafka: Kafka, gateway: str) -> None:
    host, _ = await asyncio.to_thread(kafka.ensure, gateway)
    producer = AIOKafkaProducer(bootstrap_servers=host, acks="all")
    await producer.start()
    try:
        for n in range(3):
            await producer.send_and_wait(TOPIC, f"message {n}".encode(), partition=0)
    finally:
        await producer.stop()

    assert await asyncio.to_thread(kafka.stop) is True
    assert not serves_clients("127.0.0.1", kafka.profile.kafka_port)

    await asyncio.to_thread(kafka.ensure, gateway)
    assert kafka.started
    assert await read_partition(host, TopicPartition(TOPIC, 0), 3) == [
        b"message 0",
        b"message 1",
        b"message 2",
    ]


async def read_partition(bootstrap: str, partition: TopicPartition, count: int) -> list[bytes]:
    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap, enable_auto_commit=False)
    await consumer.start()
    try:
        consumer.assign([partition])
        await consumer.seek_to_beginning(partition)
        values: list[bytes] = []
        while len(values) < count:
            batch = await consumer.getmany(partition, timeout_ms=10_000)
            assert batch, "no messages came back after the restart"
            values += [record.value for record in batch[partition] if record.value is not None]
        return values
    finally:
        await consumer.stop()
