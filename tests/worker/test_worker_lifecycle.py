"""The worker process as it runs in production (a subprocess): SIGTERM drains a running job, kill -9
leaves it uncommitted for the next worker."""

import asyncio
import signal
import uuid
from pathlib import Path

import pytest
from aiokafka import AIOKafkaConsumer, TopicPartition

from common.kafka import ensure_topics
from schemas.results import ResultEvent, StatusEvent
from schemas.topics import Topics
from tests.fixtures.gate import Gate
from tests.fixtures.waiting import eventually
from tests.worker.support import Results, WorkerStarter, burst_settings, submit
from tests.worker.support import environment as worker_environment
from worker.service import serve

PARTITIONS = 2
HELD = {"wall_ms": 30_000}
"""A held job's limits: it may wait at its gate that long before the worker ends it."""


@pytest.fixture
def gate(tmp_path_factory: pytest.TempPathFactory) -> Gate:
    """Where a held job waits (outside the worker's scratch space)."""
    return Gate(tmp_path_factory.mktemp("gate"))


@pytest.fixture
async def topics(kafka_bootstrap: str) -> Topics:
    topics = Topics(prefix=f"test-worker-{uuid.uuid4().hex[:12]}.")
    await ensure_topics(kafka_bootstrap, {topics.jobs("python"): PARTITIONS, topics.results: PARTITIONS})
    return topics


def environment(kafka_bootstrap: str, topics: Topics, tmp_path: Path) -> dict[str, str]:
    return worker_environment(kafka_bootstrap, topics, tmp_path, PARTITIONS)


async def committed_offsets(bootstrap: str, topics: Topics) -> tuple[dict[int, int | None], dict[int, int]]:
    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap, group_id=topics.worker_group("python"))
    await consumer.start()
    try:
        partitions = [TopicPartition(topics.jobs("python"), p) for p in range(PARTITIONS)]
        ends = await consumer.end_offsets(partitions)
        committed = {tp.partition: await consumer.committed(tp) for tp in partitions}
        return committed, {tp.partition: end for tp, end in ends.items()}
    finally:
        await consumer.stop()


async def held_job(
    kafka_bootstrap: str, topics: Topics, results: Results, gate: Gate, partition: int | None = None
) -> str:
    """Submit a job that holds at its gate, and return its id once it is running there."""
    job_id = await submit(kafka_bootstrap, topics, gate.program("print('done')"), partition, limits=HELD)
    assert isinstance(await results.next(job_id), StatusEvent)
    await gate.reached()  # it is running now, and stays so until the gate opens
    return job_id


async def drains(worker: asyncio.subprocess.Process, held: Gate | None = None) -> None:
    """SIGTERM (while the ``held`` job still waits, then let it go): the worker must exit cleanly."""
    worker.send_signal(signal.SIGTERM)
    if held is not None:
        held.open()
    async with asyncio.timeout(30):
        assert await worker.wait() == 0


async def assert_all_committed(bootstrap: str, topics: Topics) -> None:
    """Every partition's committed offset is its end: nothing is left to run again."""
    committed, ends = await committed_offsets(bootstrap, topics)
    assert committed == {p: end or None for p, end in ends.items()}


async def test_sigterm_finishes_the_running_job_then_exits(
    kafka_bootstrap: str,
    topics: Topics,
    results: Results,
    tmp_path: Path,
    start_worker: WorkerStarter,
    *,
    gate: Gate,
) -> None:
    worker = await start_worker(environment(kafka_bootstrap, topics, tmp_path))
    job_id = await held_job(kafka_bootstrap, topics, results, gate)

    await drains(worker, held=gate)
    result = await results.next(job_id)
    assert isinstance(result, ResultEvent)
    assert result.outcome.run is not None
    assert result.outcome.run.stdout == "done\n"
    await assert_all_committed(kafka_bootstrap, topics)


async def test_sigterm_leaves_a_job_that_has_not_started_to_the_next_worker(
    kafka_bootstrap: str,
    topics: Topics,
    results: Results,
    tmp_path: Path,
    start_worker: WorkerStarter,
    *,
    gate: Gate,
) -> None:
    worker = await start_worker(environment(kafka_bootstrap, topics, tmp_path))
    slow = await held_job(kafka_bootstrap, topics, results, gate, partition=0)
    # Fetched ahead while the only pool slot is busy (or not fetched at all): either way it must not start
    # once the worker drains.
    queued = await submit(kafka_bootstrap, topics, "print('queued')", partition=0)

    await drains(worker, held=gate)
    assert isinstance(await results.next(slow), ResultEvent)
    committed, _ = await committed_offsets(kafka_bootstrap, topics)
    assert committed[0] == 1  # the slow job is done; the queued one is not

    settings = burst_settings(kafka_bootstrap, topics, tmp_path, PARTITIONS, worker_id="next-worker")
    assert await serve(settings, stop=asyncio.Event()) == 0
    running = await results.next(queued)
    assert isinstance(running, StatusEvent) and running.worker == "next-worker"  # its first run
    result = await results.next(queued)
    assert isinstance(result, ResultEvent) and result.outcome.worker == "next-worker"


async def test_a_killed_worker_leaves_its_job_to_the_next_one(
    kafka_bootstrap: str,
    topics: Topics,
    results: Results,
    tmp_path: Path,
    start_worker: WorkerStarter,
    *,
    gate: Gate,
) -> None:
    worker = await start_worker(environment(kafka_bootstrap, topics, tmp_path))
    job_id = await held_job(kafka_bootstrap, topics, results, gate)

    worker.kill()
    await worker.wait()
    gate.open()  # the re-run passes straight through
    committed, _ = await committed_offsets(kafka_bootstrap, topics)
    # Never past the job: its own offset at most, committed to record that it started.
    assert set(committed.values()) <= {None, 0}

    settings = burst_settings(kafka_bootstrap, topics, tmp_path, PARTITIONS)
    assert await serve(settings, stop=asyncio.Event()) == 0
    while not isinstance(event := await results.next(job_id), ResultEvent):
        assert event.seq == 1  # the re-run's own running event
    assert event.outcome.run is not None
    assert event.outcome.run.stdout == "done\n"
    await assert_all_committed(kafka_bootstrap, topics)


async def test_a_rebalance_lets_running_jobs_finish_and_commits_them(
    kafka_bootstrap: str,
    topics: Topics,
    results: Results,
    tmp_path: Path,
    start_worker: WorkerStarter,
    *,
    tmp_path_factory: pytest.TempPathFactory,
) -> None:
    env = environment(kafka_bootstrap, topics, tmp_path) | {"EXECUTIONER_POOL_SIZE": "2"}
    first = await start_worker(env)
    # One held job on each partition: whichever partition the newcomer gets, it holds a running job.
    gates = [Gate(tmp_path_factory.mktemp("gate"), f"partition-{p}") for p in range(PARTITIONS)]
    job_ids = [
        await held_job(kafka_bootstrap, topics, results, gates[p], partition=p) for p in range(PARTITIONS)
    ]

    newcomer = burst_settings(kafka_bootstrap, topics, tmp_path, PARTITIONS)
    # Joining forces a rebalance: the first worker finishes and commits both jobs before it lets go, so
    # the newcomer finds nothing left to do and re-runs nothing.
    joining = asyncio.create_task(serve(newcomer, stop=asyncio.Event()))
    try:

        async def first_worker_waits_for_its_jobs() -> bool | None:
            return True if "rebalance: waiting for" in (tmp_path / "worker.log").read_text() else None

        await eventually(first_worker_waits_for_its_jobs, within_s=60)
    finally:
        for gate in gates:
            gate.open()
    assert await joining == 0
    await drains(first)

    for job_id in job_ids:
        result = await results.next(job_id)
        assert isinstance(result, ResultEvent), "the job ran twice"
        assert result.outcome.worker == "lifecycle-test"
    await assert_all_committed(kafka_bootstrap, topics)
