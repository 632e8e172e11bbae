"""Poison jobs: a job whose workers keep dying while it runs is counted in the committed offsets'
metadata and, at ``max_deliveries``, dead-lettered with an ``internal_error`` result instead of run again;
the partition then carries on."""

import asyncio
import uuid
from pathlib import Path

import orjson
import pytest
from aiokafka import AIOKafkaConsumer, ConsumerRecord, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient

from common.kafka import ensure_topics
from schemas.deadletter import DeadLetterHeaders
from schemas.results import ResultEvent, StatusEvent
from schemas.topics import Topics
from schemas.verdicts import Verdict
from tests.worker.support import (
    Results,
    WorkerStarter,
    burst_settings,
    environment,
    kill_group,
    submit,
)
from worker.deliveries import decode
from worker.service import serve

PARTITIONS = 2
MAX_DELIVERIES = 2
# Long enough to be killed while it runs (the wall limit allows 30 s).
DEADLY = "import time; time.sleep(30)"
DEADLY_LIMITS = {"time_ms": 10_000, "wall_ms": 30_000}


@pytest.fixture
async def topics(kafka_bootstrap: str) -> Topics:
    topics = Topics(prefix=f"test-poison-{uuid.uuid4().hex[:12]}.")
    await ensure_topics(
        kafka_bootstrap,
        {topics.jobs("python"): PARTITIONS, topics.results: PARTITIONS, topics.dead_letter: 1},
    )
    return topics


async def committed(bootstrap: str, topics: Topics, partition: int) -> tuple[int, dict[int, int]]:
    """The worker group's committed offset of ``partition`` and the start counts in its metadata."""
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
    await admin.start()
    try:
        tp = TopicPartition(topics.jobs("python"), partition)
        found = await admin.list_consumer_group_offsets(topics.worker_group("python"), partitions=[tp])
    finally:
        await admin.close()
    return found[tp].offset, decode(found[tp].metadata)


async def dead_letters(bootstrap: str, topics: Topics) -> list[tuple[bytes, bytes, dict[str, str]]]:
    """Every record of the dead-letter topic: key, value and headers."""
    consumer = AIOKafkaConsumer(topics.dead_letter, bootstrap_servers=bootstrap, auto_offset_reset="earliest")
    await consumer.start()
    try:
        tp = TopicPartition(topics.dead_letter, 0)
        end = (await consumer.end_offsets([tp]))[tp]
        records: list[ConsumerRecord[bytes, bytes]] = []
        async with asyncio.timeout(30):
            while len(records) < end:
                records.append(await consumer.getone())
    finally:
        await consumer.stop()
    return [(r.key, r.value, {k: v.decode() for k, v in r.headers}) for r in records]


async def test_a_job_that_keeps_killing_its_workers_is_dead_lettered_and_the_partition_goes_on(
    kafka_bootstrap: str, topics: Topics, results: Results, tmp_path: Path, start_worker: WorkerStarter
) -> None:
    env = environment(kafka_bootstrap, topics, tmp_path, PARTITIONS) | {
        "EXECUTIONER_MAX_DELIVERIES": str(MAX_DELIVERIES)
    }
    deadly = await submit(kafka_bootstrap, topics, DEADLY, partition=0, limits=DEADLY_LIMITS)
    # Fetched with it (pool 1 + prefetch 1), it waits for the pool slot: never started, never counted.
    queued = await submit(kafka_bootstrap, topics, "print('queued')", partition=0)

    for attempt in range(1, MAX_DELIVERIES + 1):
        worker = await start_worker(env)
        running = await results.next(deadly)
        assert isinstance(running, StatusEvent), "the job should run until the limit is reached"
        # Its start was committed before it ran: the offset stays, the count grows; the queued job
        # behind it is no suspect.
        assert await committed(kafka_bootstrap, topics, 0) == (0, {0: attempt})
        kill_group(worker)  # the job "takes its worker down", pool and all
        await worker.wait()

    normal = await submit(kafka_bootstrap, topics, "print('still fine')", partition=0)
    settings = burst_settings(
        kafka_bootstrap,
        topics,
        tmp_path,
        PARTITIONS,
        worker_id="fresh-worker",
        max_deliveries=MAX_DELIVERIES,
        database_url=None,
    )
    assert await serve(settings, stop=asyncio.Event()) == 0

    verdict = await results.next(deadly)
    assert isinstance(verdict, ResultEvent)  # not run a third time: no `running` first
    assert verdict.outcome.verdict is Verdict.INTERNAL_ERROR
    assert verdict.outcome.message == (
        f"dead-lettered as poison: a worker died {MAX_DELIVERIES} times while running this job"
    )
    assert verdict.outcome.worker == "fresh-worker"
    assert verdict.seq == 2  # above the `running` events of the killed runs

    ((key, value, headers),) = await dead_letters(kafka_bootstrap, topics)
    assert key == deadly.encode()
    assert orjson.loads(value) == {
        "v": 1,
        "id": deadly,
        "language": "python",
        "source": DEADLY,
        "limits": DEADLY_LIMITS,
    }
    assert headers[DeadLetterHeaders.REASON] == (
        f"poison: a worker died {MAX_DELIVERIES} times while running this job"
    )
    assert headers[DeadLetterHeaders.SOURCE_TOPIC] == topics.jobs("python")
    assert (headers[DeadLetterHeaders.SOURCE_PARTITION], headers[DeadLetterHeaders.SOURCE_OFFSET]) == (
        "0",
        "0",
    )
    assert headers[DeadLetterHeaders.WORKER] == "fresh-worker"
    # The worker's result above is the job's one final word: the dead letter says so.
    assert headers[DeadLetterHeaders.RESULT] == DeadLetterHeaders.RESULT_PUBLISHED.decode()

    for job_id, stdout in ((queued, "queued\n"), (normal, "still fine\n")):
        assert isinstance(await results.next(job_id), StatusEvent)
        outcome = await results.next(job_id)
        assert isinstance(outcome, ResultEvent)
        assert outcome.outcome.run is not None and outcome.outcome.run.stdout == stdout
    assert await committed(kafka_bootstrap, topics, 0) == (3, {})  # all done, nothing left in flight
