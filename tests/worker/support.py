"""Helpers of the worker tests that run real worker processes against the test Kafka."""

import asyncio
import os
import signal
import sys
import uuid
from collections import defaultdict, deque
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any

import orjson
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer

from schemas.codec import decode_result
from schemas.results import ResultEvent, StatusEvent, TestEvent
from schemas.topics import Topics
from worker.settings import WorkerSettings

REPO = Path(__file__).resolve().parents[2]
PYTHON_RUNTIME = REPO / "runtimes" / "python" / "runtime.toml"


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


def environment(kafka_bootstrap: str, topics: Topics, tmp_path: Path, partitions: int) -> dict[str, str]:
    """The environment of a worker process: a pool of one, no sandbox, nothing inherited."""
    return {
        "PATH": os.environ["PATH"],
        "EXECUTIONER_KAFKA_BOOTSTRAP": kafka_bootstrap,
        "EXECUTIONER_TOPIC_PREFIX": topics.prefix,
        "EXECUTIONER_JOBS_PARTITIONS": str(partitions),
        "EXECUTIONER_RUNTIME_FILE": str(PYTHON_RUNTIME),
        "EXECUTIONER_SCRATCH_DIR": str(tmp_path),
        "EXECUTIONER_POOL_SIZE": "1",
        "EXECUTIONER_WORKER_ID": "lifecycle-test",
    }


def burst_settings(
    kafka_bootstrap: str, topics: Topics, tmp_path: Path, partitions: int, **overrides: Any
) -> WorkerSettings:
    """In-process burst worker settings matching :func:`environment` (python, a pool of one, no sandbox)."""
    fields: dict[str, Any] = {
        "kafka_bootstrap": kafka_bootstrap,
        "topic_prefix": topics.prefix,
        "jobs_partitions": partitions,
        "runtime_file": PYTHON_RUNTIME,
        "scratch_dir": tmp_path,
        "pool_size": 1,
        "burst": True,
    }
    return WorkerSettings(**(fields | overrides))


WorkerStarter = Callable[[dict[str, str]], Awaitable[asyncio.subprocess.Process]]


async def worker_processes(log_dir: Path) -> AsyncIterator[WorkerStarter]:
    """Starts ``python -m worker`` subprocesses, each in a process group of its own (its pool and jobs
    included) and logging to ``worker.log``; kills any still running at the end."""
    started: list[asyncio.subprocess.Process] = []

    async def start(env: dict[str, str]) -> asyncio.subprocess.Process:
        with (log_dir / "worker.log").open("ab") as log:
            process = await asyncio.create_subprocess_exec(
                sys.executable,
                "-m",
                "worker",
                cwd=REPO,
                env=env,
                stdout=log,
                stderr=log,
                start_new_session=True,
            )
        started.append(process)
        return process

    yield start
    for process in started:
        if process.returncode is None:
            kill_group(process)
            await process.wait()


def kill_group(process: asyncio.subprocess.Process) -> None:
    """SIGKILL a worker with its whole process group (pool processes and the jobs they run), as the
    kernel's OOM killer or a crash of the container would."""
    os.killpg(process.pid, signal.SIGKILL)


async def submit(
    bootstrap: str, topics: Topics, source: str, partition: int | None = None, **fields: Any
) -> str:
    """Produce a python job to ``topics``; returns its id."""
    job_id = str(uuid.uuid4())
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap)
    await producer.start()
    try:
        value = orjson.dumps({"v": 1, "id": job_id, "language": "python", "source": source, **fields})
        await producer.send_and_wait(
            topics.jobs("python"), key=job_id.encode(), value=value, partition=partition
        )
    finally:
        await producer.stop()
    return job_id
