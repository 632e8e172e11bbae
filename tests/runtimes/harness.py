"""How the runtime suite gets its cases run: the :class:`JobRunner` protocol, and the runner used today,
which drives each language's REAL worker image in burst mode against the real Kafka.

:class:`BurstWorkerRunner` puts every case's job on ``jobs.<language>`` (a fresh topic prefix per run),
then starts one ``executioner/worker-<language>`` container per language, confined as the master
confines workers (read-only root, a tmpfs ``/tmp``, no capabilities, our seccomp profile, bubblewrap
sandboxes), with ``EXECUTIONER_BURST=true``: it consumes everything and exits. The results topic then
holds every job's events. Pointing the same table at the whole HTTP pipeline needs only another runner
(submit :meth:`Case.submission`, follow the events), returned by an overriding ``job_runner`` fixture.
"""

import asyncio
import contextlib
import os
import tempfile
import uuid
from collections import defaultdict
from collections.abc import AsyncIterator, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

import pytest
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer

from common.kafka import ensure_topics
from master.seccomp import worker_profile_json
from schemas.codec import decode_result, encode
from schemas.results import Outcome, ResultEvent, TestEvent, TestReport
from schemas.topics import Topics
from tests.runtimes.cases import CASES, Case

WORKER_UID = "10001"
POOL_SIZE = 1
CONTAINER_CPUS = "1"
CONTAINER_MEMORY = "1024m"
CONCURRENT_WORKERS = 2
"""Worker containers running at once, one job and one CPU each: on a 2-core machine no job waits for a
CPU, so time limits are about the program, not about its neighbours."""
WORKER_TIMEOUT_S = 900
"""A guard against a hung worker, not a speed target: a JVM language's dozen compiles on a loaded 2-core
machine took over 300 s."""
RESULTS_TIMEOUT_S = 60


def kafka_bootstrap() -> str:
    """Kafka as this process reaches it (tests/conftest.py exports the test profile's)."""
    return os.environ["EXECUTIONER_KAFKA_BOOTSTRAP"]


def container_network() -> tuple[str, str]:
    """(Docker network, Kafka bootstrap) for worker containers: the bridge and the address devstack
    publishes for containers when it is known, else the host's network and the host's address."""
    bridge_bootstrap = os.environ.get("EXECUTIONER_WORKER_KAFKA_BOOTSTRAP")
    if bridge_bootstrap:
        return "bridge", bridge_bootstrap
    return "host", kafka_bootstrap()


@dataclass
class Finished:
    """What came back for one job: its test events in arrival order and its final outcome."""

    outcome: Outcome
    tests: list[TestReport] = field(default_factory=list)


@dataclass(frozen=True)
class WorkerExit:
    """How a worker container ended."""

    returncode: int
    logs: str


@dataclass(frozen=True)
class WorkerFailed:
    """A case whose language's worker failed: no result; its cases fail, other languages' still run."""

    language: str
    logs: str


Ran = Finished | WorkerFailed


class JobRunner(Protocol):
    """Runs a batch of cases and returns what came back, by case name."""

    async def run(self, cases: Sequence[Case]) -> Mapping[str, Ran]: ...


async def run_worker(
    image: str, topics: Topics, *, extra_args: Iterable[str] = (), env: dict[str, str] | None = None
) -> WorkerExit:
    """Run one burst worker container of ``image`` until it exits; its logs are its stdout and stderr."""
    network, bootstrap = container_network()
    name = f"executioner-runtime-suite-{uuid.uuid4().hex[:12]}"
    settings = {
        "EXECUTIONER_KAFKA_BOOTSTRAP": bootstrap,
        "EXECUTIONER_TOPIC_PREFIX": topics.prefix,
        "EXECUTIONER_BURST": "true",
        "EXECUTIONER_POOL_SIZE": str(POOL_SIZE),
        "EXECUTIONER_SANDBOX": "bwrap",
        "EXECUTIONER_WORKER_ID": f"runtime-suite-{uuid.uuid4().hex[:8]}",
        **(env or {}),
    }
    with tempfile.NamedTemporaryFile("w", suffix=".json", prefix="seccomp-") as profile:
        profile.write(worker_profile_json())
        profile.flush()
        os.chmod(profile.name, 0o644)
        # The confinement of master/spec.py, in docker CLI terms (the CLI also turns
        # systempaths=unconfined into the unmasked /proc bubblewrap needs).
        argv = [
            "docker", "run", "--rm", "--name", name, "--network", network, "--user", WORKER_UID,
            "--read-only", "--tmpfs", "/tmp:rw,noexec,nosuid,nodev,size=256m",
            "--cap-drop", "ALL", "--security-opt", "no-new-privileges",
            "--security-opt", f"seccomp={profile.name}", "--security-opt", "systempaths=unconfined",
            "--memory", CONTAINER_MEMORY, "--memory-swap", CONTAINER_MEMORY, "--cpus", CONTAINER_CPUS,
            "--pids-limit", "512", "--label", "org.executioner.role=runtime-suite",
            *(arg for name, value in settings.items() for arg in ("-e", f"{name}={value}")),
            *extra_args, image,
        ]  # fmt: skip
        process = await asyncio.create_subprocess_exec(
            *argv, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT
        )
        try:
            async with asyncio.timeout(WORKER_TIMEOUT_S):
                output, _ = await process.communicate()
        except TimeoutError:
            # The container, not only the CLI: killing `docker run` leaves its container running.
            quiet = asyncio.subprocess.DEVNULL
            remover = await asyncio.create_subprocess_exec(
                "docker", "rm", "-f", name, stdout=quiet, stderr=quiet
            )
            await remover.wait()
            with contextlib.suppress(ProcessLookupError):
                process.kill()  # in case the CLI outlives its container
            output, _ = await process.communicate()
            return WorkerExit(-1, f"timed out after {WORKER_TIMEOUT_S} s\n{output.decode(errors='replace')}")
    assert process.returncode is not None
    return WorkerExit(process.returncode, output.decode(errors="replace"))


async def read_results(topics: Topics, job_ids: set[str]) -> dict[str, list[TestEvent | ResultEvent]]:
    """Every test and result event of ``job_ids`` (by id), read until each has its result."""
    consumer = AIOKafkaConsumer(
        topics.results, bootstrap_servers=kafka_bootstrap(), auto_offset_reset="earliest"
    )
    events: dict[str, list[TestEvent | ResultEvent]] = defaultdict(list)
    finished: set[str] = set()
    await consumer.start()
    try:
        async with asyncio.timeout(RESULTS_TIMEOUT_S):
            while finished != job_ids:
                batch = await consumer.getmany(timeout_ms=1000)
                for record in (r for records in batch.values() for r in records):
                    event = decode_result(record.value)
                    key = str(event.id)
                    if key in job_ids and isinstance(event, TestEvent | ResultEvent):
                        events[key].append(event)
                        if isinstance(event, ResultEvent):
                            finished.add(key)
    finally:
        await consumer.stop()
    return events


class BurstWorkerRunner:
    """Runs cases through burst worker containers of the real images (one per language)."""

    def __init__(self, image: str = "executioner/worker-{language}:latest") -> None:
        self.image = image
        self.topics = Topics(prefix=f"test-runtimes-{uuid.uuid4().hex[:12]}.")

    async def run(self, cases: Sequence[Case]) -> dict[str, Ran]:
        """Produce every case's job, run each language's worker until its queue is empty, collect (a
        language whose worker failed has its failure for each of its cases)."""
        jobs = {case.name: case.job() for case in cases}
        languages = sorted({case.language for case in cases})
        bootstrap = kafka_bootstrap()
        await ensure_topics(bootstrap, {self.topics.jobs(language): 1 for language in languages})
        producer = AIOKafkaProducer(bootstrap_servers=bootstrap, acks="all")
        await producer.start()
        try:
            for case in cases:
                job = jobs[case.name]
                await producer.send(
                    self.topics.jobs(case.language), key=str(job.id).encode(), value=encode(job)
                )
            await producer.flush()
        finally:
            await producer.stop()

        slots = asyncio.Semaphore(CONCURRENT_WORKERS)

        async def one_language(language: str) -> tuple[str, WorkerExit]:
            async with slots:
                return language, await run_worker(self.image.format(language=language), self.topics)

        exits = await asyncio.gather(*(one_language(language) for language in languages))
        failed = {language: exit.logs[-4000:] for language, exit in exits if exit.returncode != 0}
        ran: dict[str, Ran] = {
            case.name: WorkerFailed(case.language, failed[case.language])
            for case in cases
            if case.language in failed
        }
        ids = {case.name: str(jobs[case.name].id) for case in cases if case.name not in ran}
        ran.update(collect_finished(ids, await read_results(self.topics, set(ids.values()))))
        return ran


def collect_finished(
    ids: dict[str, str], events: dict[str, list[TestEvent | ResultEvent]]
) -> dict[str, Finished]:
    """Each case's outcome and streamed test reports, by case name (``ids``: case name → job id)."""
    finished = {}
    for name, job_id in ids.items():
        stream = events[job_id]
        result = stream[-1]
        assert isinstance(result, ResultEvent)
        finished[name] = Finished(result.outcome, [e.test for e in stream if isinstance(e, TestEvent)])
    return finished


@pytest.fixture(scope="session")
def job_runner() -> JobRunner:
    """How the suite runs its cases; override this fixture to run the same table another way."""
    return BurstWorkerRunner()


@pytest.fixture(scope="session")
async def finished_cases(job_runner: JobRunner) -> AsyncIterator[Mapping[str, Ran]]:
    """Every case of the table, run once per session (all languages in one batch)."""
    yield await job_runner.run(CASES)


def image_of(language: str) -> str:
    """The worker image of ``language``."""
    return f"executioner/worker-{language}:latest"


def write_runtime_file(directory: Path, text: str) -> Path:
    """A runtime file the worker user of a container can read, for mounting over the image's."""
    path = directory / "runtime.toml"
    path.write_text(text)
    path.chmod(0o644)
    directory.chmod(0o755)
    return path
