"""The worker process as it runs in production (a subprocess): SIGTERM drains a running job, kill -9
leaves it uncommitted for the next worker."""

import asyncio
import os
import signal
import sys
import uuid
from collections import defaultdict, deque
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path

import orjson
import pytest
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition

from common.kafka import ensure_topics
from schemas.codec import decode_result
from schemas.results import ResultEvent, StatusEvent, TestEvent
from schemas.topics import Topics
from worker.service import serve
from worker.settings import WorkerSettings

REPO = Path(__file__).resolve().parents[2]
PARTITIONS = 2
SLOW_JOB = "import time; time.sleep(1.5); print('done')"


@pytest.fixture
async def topics(kafka_bootstrap: str) -> Topics:
    topics = Topics(prefix=f"test-worker-{uuid.uuid4().hex[:12]}.")
    await ensure_topics(kafka_bootstrap, {topics.jobs("python"): PARTITIONS})
    return topics


class Results:
    """Reads the results topic, keeping each job's events in order until the test asks for them."""

    def __init__(self, consumer: AIOKafkaConsumer) -> None:
        self._consumer = consumer
        self._pending: dict[str, deque[StatusEvent | TestEvent | ResultEvent]] = defaultdict(deque)

    async def next(self, job_id: str) -> StatusEvent | TestEvent | ResultEvent:
        """The next event of ``job_id`` (fails after 30 s)."""
        async with asyncio.timeout(30):
            while not self._pending[job_id]:
                record = await self._consumer.getone()
                self._pending[record.key.decode()].append(decode_result(record.value))
        return self._pending[job_id].popleft()


@pytest.fixture
async def results(kafka_bootstrap: str, topics: Topics) -> AsyncIterator[Results]:
    await ensure_topics(kafka_bootstrap, {topics.results: PARTITIONS})
    consumer = AIOKafkaConsumer(
        topics.results, bootstrap_servers=kafka_bootstrap, auto_offset_reset="earliest"
    )
    await consumer.start()
    yield Results(consumer)
    await consumer.stop()


def environment(kafka_bootstrap: str, topics: Topics, tmp_path: Path) -> dict[str, str]:
    return {
        "PATH": os.environ["PATH"],
        "EXECUTIONER_KAFKA_BOOTSTRAP": kafka_bootstrap,
        "EXECUTIONER_TOPIC_PREFIX": topics.prefix,
        "EXECUTIONER_JOBS_PARTITIONS": str(PARTITIONS),
        "EXECUTIONER_RUNTIME_FILE": str(REPO / "runtimes" / "python" / "runtime.toml"),
        "EXECUTIONER_SCRATCH_DIR": str(tmp_path),
        "EXECUTIONER_POOL_SIZE": "1",
        "EXECUTIONER_WORKER_ID": "lifecycle-test",
    }


WorkerStarter = Callable[[dict[str, str]], Awaitable[asyncio.subprocess.Process]]


@pytest.fixture
async def start_worker(tmp_path: Path) -> AsyncIterator[WorkerStarter]:
    """Starts ``python -m worker`` subprocesses (logging to ``worker.log``); kills any still running when
    the test ends, failed or not."""
    started: list[asyncio.subprocess.Process] = []

    async def start(env: dict[str, str]) -> asyncio.subprocess.Process:
        with (tmp_path / "worker.log").open("ab") as log:
            process = await asyncio.create_subprocess_exec(
                sys.executable, "-m", "worker", cwd=REPO, env=env, stdout=log, stderr=log
            )
        started.append(process)
        return process

    yield start
    for process in started:
        if process.returncode is None:
            process.kill()
            await process.wait()


async def submit(producer_bootstrap: str, topics: Topics, source: str, partition: int | None = None) -> str:
    job_id = str(uuid.uuid4())
    producer = AIOKafkaProducer(bootstrap_servers=producer_bootstrap)
    await producer.start()
    try:
        value = orjson.dumps({"v": 1, "id": job_id, "language": "python", "source": source})
        await producer.send_and_wait(
            topics.jobs("python"), key=job_id.encode(), value=value, partition=partition
        )
    finally:
        await producer.stop()
    return job_id


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


async def test_sigterm_finishes_the_running_job_then_exits(
    kafka_bootstrap: str, topics: Topics, results: Results, tmp_path: Path, start_worker: WorkerStarter
) -> None:
    worker = await start_worker(environment(kafka_bootstrap, topics, tmp_path))
    job_id = await submit(kafka_bootstrap, topics, SLOW_JOB)
    assert isinstance(await results.next(job_id), StatusEvent)  # it is running now

    worker.send_signal(signal.SIGTERM)
    async with asyncio.timeout(30):
        assert await worker.wait() == 0
    result = await results.next(job_id)
    assert isinstance(result, ResultEvent)
    assert result.outcome.run is not None
    assert result.outcome.run.stdout == "done\n"
    committed, ends = await committed_offsets(kafka_bootstrap, topics)
    assert committed == {p: end or None for p, end in ends.items()}


async def test_a_killed_worker_leaves_its_job_to_the_next_one(
    kafka_bootstrap: str, topics: Topics, results: Results, tmp_path: Path, start_worker: WorkerStarter
) -> None:
    worker = await start_worker(environment(kafka_bootstrap, topics, tmp_path))
    job_id = await submit(kafka_bootstrap, topics, SLOW_JOB)
    assert isinstance(await results.next(job_id), StatusEvent)

    worker.kill()
    await worker.wait()
    committed, _ = await committed_offsets(kafka_bootstrap, topics)
    assert set(committed.values()) == {None}

    settings = WorkerSettings(
        kafka_bootstrap=kafka_bootstrap,
        topic_prefix=topics.prefix,
        jobs_partitions=PARTITIONS,
        runtime_file=REPO / "runtimes" / "python" / "runtime.toml",
        scratch_dir=tmp_path,
        pool_size=1,
        burst=True,
    )
    assert await serve(settings, stop=asyncio.Event()) == 0
    while not isinstance(event := await results.next(job_id), ResultEvent):
        assert event.seq == 1  # the re-run's own running event
    assert event.outcome.run is not None
    assert event.outcome.run.stdout == "done\n"
    committed, ends = await committed_offsets(kafka_bootstrap, topics)
    assert committed == {p: end or None for p, end in ends.items()}


async def test_a_rebalance_lets_running_jobs_finish_and_commits_them(
    kafka_bootstrap: str, topics: Topics, results: Results, tmp_path: Path, start_worker: WorkerStarter
) -> None:
    env = environment(kafka_bootstrap, topics, tmp_path) | {"EXECUTIONER_POOL_SIZE": "2"}
    first = await start_worker(env)
    slow = "import time; time.sleep(4); print('done')"
    # One job on each partition: whichever partition the newcomer gets, it holds a running job.
    job_ids = [await submit(kafka_bootstrap, topics, slow, partition=p) for p in range(PARTITIONS)]
    for job_id in job_ids:
        assert isinstance(await results.next(job_id), StatusEvent)

    newcomer = WorkerSettings(
        kafka_bootstrap=kafka_bootstrap,
        topic_prefix=topics.prefix,
        jobs_partitions=PARTITIONS,
        runtime_file=REPO / "runtimes" / "python" / "runtime.toml",
        scratch_dir=tmp_path,
        pool_size=1,
        burst=True,
    )
    # Joining forces a rebalance: the first worker finishes and commits both jobs before it lets go, so
    # the newcomer finds nothing left to do and re-runs nothing.
    assert await serve(newcomer, stop=asyncio.Event()) == 0
    first.send_signal(signal.SIGTERM)
    async with asyncio.timeout(30):
        assert await first.wait() == 0

    for job_id in job_ids:
        result = await results.next(job_id)
        assert isinstance(result, ResultEvent), "the job ran twice"
        assert result.outcome.worker == "lifecycle-test"
    committed, ends = await committed_offsets(kafka_bootstrap, topics)
    assert committed == {p: end or None for p, end in ends.items()}
