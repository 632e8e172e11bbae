"""Run jobs through one real worker container, configured exactly as the master configures one
(:func:`master.spec.worker_run_args`), in burst mode against the real Kafka.

Every job goes to a one-partition topic, so a pool of one runs them strictly in order. The container
exits when the queue is empty; its results are read back from the results topic.
"""

import asyncio
import json
import secrets
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import orjson
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer

from common.kafka import ensure_topics
from master.containers import create_container
from master.settings import MasterSettings
from master.spec import worker_name, worker_run_args
from schemas.codec import decode_result
from schemas.results import ResultEvent, StatusEvent
from schemas.topics import Topics

SMALL_LIMITS = {"time_ms": 1000, "wall_ms": 3000, "memory_mb": 128, "output_kb": 64}
"""Tight limits so that the attacks that run until a limit stops them keep the suite fast."""
RUN_TIMEOUT_S = 600


@dataclass(frozen=True)
class Job:
    """One job of a run, known by ``name``."""

    name: str
    source: str
    stdin: str = ""
    tests: list[dict[str, str]] | None = None
    limits: Mapping[str, int] = field(default_factory=lambda: dict(SMALL_LIMITS))
    compare: str | Mapping[str, Any] | None = None
    id: uuid.UUID = field(default_factory=uuid.uuid4)
    fields: Mapping[str, Any] = field(default_factory=dict)
    """More fields of the job message (``checker``, ``interactor``)."""

    def message(self, language: str) -> bytes:
        """The job as a version-1 message for the jobs topic."""
        body: dict[str, Any] = {
            "v": 1,
            "id": str(self.id),
            "language": language,
            "source": self.source,
            "stdin": self.stdin,
            "limits": dict(self.limits),
        }
        if self.tests is not None:
            body["tests"] = self.tests
        if self.compare is not None:
            body["compare"] = self.compare
        return orjson.dumps({**body, **self.fields})


OnRunning = Callable[[Any], None]
"""Called (in a thread) with the container when a job's ``running`` event arrives."""


@dataclass
class WorkerRun:
    """What one burst run of a worker container produced."""

    results: dict[str, ResultEvent]
    """Each job's result event, by job name."""
    exit_code: int
    logs: str

    def save(self, directory: Path, name: str) -> None:
        """Leave every outcome (``<name>.json``) and the worker's log (``<name>.log``) in ``directory``."""
        outcomes = {job: result.outcome.model_dump(mode="json") for job, result in self.results.items()}
        (directory / f"{name}.json").write_text(json.dumps(outcomes, indent=2))
        (directory / f"{name}.log").write_text(self.logs)


@dataclass
class WorkerHarness:
    """Starts worker containers of one test cluster (its containers are removed by the fixture)."""

    docker: Any
    kafka_bootstrap: str
    container_bootstrap: str
    cluster: str = field(default_factory=lambda: f"sandbox-{secrets.token_hex(4)}")

    def settings(self, topics: Topics, **overrides: Any) -> MasterSettings:
        """The master settings a worker of this cluster is configured from."""
        return MasterSettings(
            cluster=self.cluster,
            topic_prefix=topics.prefix,
            kafka_bootstrap=self.kafka_bootstrap,
            worker_kafka_bootstrap=self.container_bootstrap,
            jobs_partitions=1,
            **overrides,
        )

    async def run(
        self,
        language: str,
        jobs: list[Job],
        *,
        on_running: Mapping[str, OnRunning] | None = None,
        **settings: Any,
    ) -> WorkerRun:
        """Queue ``jobs`` in order, run one worker container in burst mode until it has done them all
        and exited, and return their results. ``settings`` override the master's worker settings."""
        topics = Topics(prefix=f"{self.cluster}-{secrets.token_hex(3)}.")
        await ensure_topics(
            self.kafka_bootstrap, {topics.jobs(language): 1, topics.results: 1, topics.dead_letter: 1}
        )
        producer = AIOKafkaProducer(bootstrap_servers=self.kafka_bootstrap)
        await producer.start()
        try:
            for job in jobs:
                await producer.send_and_wait(
                    topics.jobs(language), job.message(language), key=str(job.id).encode()
                )
        finally:
            await producer.stop()

        args = worker_run_args(
            self.settings(topics, **settings), language, worker_name(self.cluster, language)
        )
        args["environment"]["EXECUTIONER_BURST"] = "true"
        container = await asyncio.to_thread(create_container, self.docker, args)
        try:
            await asyncio.to_thread(container.start)
            by_id = {job.id: job.name for job in jobs}
            hooks = {job.id: on_running[job.name] for job in jobs if on_running and job.name in on_running}
            async with asyncio.timeout(RUN_TIMEOUT_S):
                results = await _collect(self.kafka_bootstrap, topics, by_id, hooks, container)
                status = await asyncio.to_thread(container.wait)
            logs = (await asyncio.to_thread(container.logs)).decode(errors="replace")
        finally:
            await asyncio.to_thread(container.remove, force=True)
        return WorkerRun(results=results, exit_code=int(status["StatusCode"]), logs=logs)


async def _collect(
    bootstrap: str,
    topics: Topics,
    names: Mapping[uuid.UUID, str],
    hooks: Mapping[uuid.UUID, OnRunning],
    container: Any,
) -> dict[str, ResultEvent]:
    consumer = AIOKafkaConsumer(topics.results, bootstrap_servers=bootstrap, auto_offset_reset="earliest")
    await consumer.start()
    results: dict[str, ResultEvent] = {}
    try:
        while len(results) < len(names):
            batch = await consumer.getmany(timeout_ms=1000)
            if not batch and await asyncio.to_thread(_has_exited, container):
                batch = await consumer.getmany(timeout_ms=3000)  # what it published before exiting
                if not batch:
                    missing = sorted(set(names.values()) - set(results))
                    logs = (await asyncio.to_thread(container.logs)).decode(errors="replace")
                    raise AssertionError(f"the worker exited without results for {missing}:\n{logs[-3000:]}")
            for record in (r for part in batch.values() for r in part):
                event = decode_result(record.value)
                if isinstance(event, StatusEvent) and event.id in hooks:
                    await asyncio.to_thread(hooks[event.id], container)
                elif isinstance(event, ResultEvent):
                    results[names[event.id]] = event
    finally:
        await consumer.stop()
    return results


def _has_exited(container: Any) -> bool:
    container.reload()
    return container.status in ("exited", "dead")
