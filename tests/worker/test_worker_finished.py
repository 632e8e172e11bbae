"""A job whose id already finished is not run again: the worker finds the stored result in MySQL (as the
read-only workers' user) and publishes it again. Unfinished or unknown ids run, and so does everything
while MySQL is unreachable or silent."""

import asyncio
import logging
import secrets
import uuid
from collections import defaultdict
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path
from uuid import UUID

import orjson
import pytest
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

from api.db.migrate import migrate
from api.results.apply import apply_events
from api.settings import default_migrations_dir
from common.kafka import ensure_topics
from devstack.processes import free_port
from schemas.codec import decode_result
from schemas.jobs import Limits
from schemas.results import Outcome, ResultEvent, RunReport, StatusEvent, TestEvent
from schemas.topics import Topics
from schemas.verdicts import Status, Verdict
from tests.fixtures.services import Services
from tests.worker.support import PYTHON_RUNTIME
from worker.finished import connect_options, stored_result
from worker.service import serve
from worker.settings import WorkerSettings

PARTITIONS = 2
Event = StatusEvent | TestEvent | ResultEvent


@pytest.fixture
async def database(services: Services) -> AsyncIterator[tuple[AsyncEngine, str]]:
    """A migrated database of its own: the app's engine on it and the workers' read-only URL of it."""
    name = f"executioner_w_{secrets.token_hex(4)}"
    url = await asyncio.to_thread(services.mysql.create_database, name)
    engine = create_async_engine(url)
    try:
        await migrate(engine, default_migrations_dir())
        yield engine, services.mysql.worker_url(name)
    finally:
        await engine.dispose()
        await asyncio.to_thread(services.mysql.drop_database, name)


@pytest.fixture
async def topics(kafka_bootstrap: str) -> Topics:
    topics = Topics(prefix=f"test-finished-{uuid.uuid4().hex[:12]}.")
    await ensure_topics(kafka_bootstrap, {topics.jobs("python"): PARTITIONS, topics.results: PARTITIONS})
    return topics


def worker_settings(
    topics: Topics, kafka_bootstrap: str, tmp_path: Path, **overrides: object
) -> WorkerSettings:
    values: dict[str, object] = {
        "kafka_bootstrap": kafka_bootstrap,
        "topic_prefix": topics.prefix,
        "jobs_partitions": PARTITIONS,
        "runtime_file": PYTHON_RUNTIME,
        "scratch_dir": tmp_path,
        "pool_size": 2,
        "worker_id": "retry-worker",
        "burst": True,
    }
    return WorkerSettings.model_validate(values | overrides)


async def produce(bootstrap: str, topics: Topics, job_ids: list[UUID]) -> None:
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap)
    await producer.start()
    try:
        for job_id in job_ids:
            value = {"v": 1, "id": str(job_id), "language": "python", "source": "print('ran')"}
            await producer.send_and_wait(
                topics.jobs("python"), key=str(job_id).encode(), value=orjson.dumps(value)
            )
    finally:
        await producer.stop()


async def all_results(bootstrap: str, topics: Topics) -> dict[UUID, list[Event]]:
    """Every event on the results topic (read up to its end), by job."""
    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap, enable_auto_commit=False)
    await consumer.start()
    try:
        partitions = [TopicPartition(topics.results, p) for p in range(PARTITIONS)]
        consumer.assign(partitions)
        await consumer.seek_to_beginning(*partitions)
        ends = await consumer.end_offsets(partitions)
        events: dict[UUID, list[Event]] = defaultdict(list)
        async with asyncio.timeout(30):
            for partition in partitions:
                while await consumer.position(partition) < ends[partition]:
                    for record in (await consumer.getmany(partition, timeout_ms=1000)).get(partition, []):
                        event = decode_result(record.value)
                        events[event.id].append(event)
        return events
    finally:
        await consumer.stop()


def stored(job_id: UUID) -> ResultEvent:
    """A result as an earlier run published it (and the recorder stored it)."""
    outcome = Outcome(
        verdict=Verdict.ACCEPTED,
        run=RunReport(verdict=Verdict.ACCEPTED, exit_code=0, time_ms=12, wall_ms=30, stdout="first run\n"),
        limits=Limits().effective(),
        worker="earlier-worker",
    )
    at = datetime(2024, 5, 1, 12, 30, 15, 123456, tzinfo=UTC)
    return ResultEvent(id=job_id, seq=2, outcome=outcome, at=at)


def ran_here(events: list[Event]) -> bool:
    match events:
        case [StatusEvent(status=Status.RUNNING), ResultEvent(outcome=outcome)]:
            return (
                outcome.worker == "retry-worker" and outcome.run is not None and outcome.run.stdout == "ran\n"
            )
    return False


async def test_a_finished_job_is_answered_from_the_stored_result_others_run(
    database: tuple[AsyncEngine, str], topics: Topics, kafka_bootstrap: str, tmp_path: Path
) -> None:
    engine, worker_url = database
    finished, running, unknown = uuid.uuid4(), uuid.uuid4(), uuid.uuid4()
    the_result = stored(finished)
    async with engine.begin() as conn:
        # Recorded exactly as the API's recorder records results read from Kafka.
        started = datetime(2024, 5, 1, 12, 30, tzinfo=UTC)
        await apply_events(
            conn, [StatusEvent(id=finished, seq=1, status=Status.RUNNING, at=started), the_result]
        )
        await apply_events(conn, [StatusEvent(id=running, seq=1, status=Status.RUNNING, at=started)])
    await produce(kafka_bootstrap, topics, [finished, running, unknown])

    settings = worker_settings(topics, kafka_bootstrap, tmp_path, database_url=worker_url)
    assert await serve(settings, stop=asyncio.Event()) == 0

    events = await all_results(kafka_bootstrap, topics)
    assert events[finished] == [the_result]  # republished unchanged; no `running`: it did not run
    assert ran_here(events[running])  # started before (a crash?) but never finished: runs
    assert ran_here(events[unknown])  # a job the API never saw
    assert set(events) == {finished, running, unknown}


class SilentServer:
    """Accepts TCP connections and never says a word: a MySQL that hangs."""

    def __init__(self) -> None:
        self.port = 0
        self._server: asyncio.Server | None = None
        self._held: list[asyncio.StreamWriter] = []

    async def __aenter__(self) -> "SilentServer":
        async def hold(_reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
            self._held.append(writer)

        self._server = await asyncio.start_server(hold, "127.0.0.1", 0)
        self.port = self._server.sockets[0].getsockname()[1]
        return self

    async def __aexit__(self, *_: object) -> None:
        for writer in self._held:
            writer.close()
        assert self._server is not None
        self._server.close()
        await self._server.wait_closed()


@pytest.mark.parametrize("failure", ["refused", "silent"])
async def test_jobs_run_when_mysql_cannot_answer_and_the_outage_is_logged_once(
    failure: str, topics: Topics, kafka_bootstrap: str, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    job_ids = [uuid.uuid4() for _ in range(3)]
    await produce(kafka_bootstrap, topics, job_ids)
    async with SilentServer() as silent:
        port = silent.port if failure == "silent" else free_port()
        url = f"mysql+asyncmy://executioner_worker:x@127.0.0.1:{port}/executioner"
        settings = worker_settings(
            topics, kafka_bootstrap, tmp_path, database_url=url, database_timeout_s=0.5
        )
        with caplog.at_level(logging.WARNING, logger="worker.finished"):
            assert await serve(settings, stop=asyncio.Event()) == 0

    events = await all_results(kafka_bootstrap, topics)
    assert all(ran_here(events[job_id]) for job_id in job_ids)
    outage = [
        r
        for r in caplog.records
        if r.name == "worker.finished" and "cannot look up finished jobs" in r.getMessage()
    ]
    assert len(outage) == 1, [r.message for r in outage]


def test_database_urls_become_connection_options() -> None:
    options = connect_options("mysql+asyncmy://executioner_worker:p%40ss@db.internal:3307/executioner_e2e_1")
    assert options == {
        "host": "db.internal",
        "port": 3307,
        "user": "executioner_worker",
        "password": "p@ss",
        "database": "executioner_e2e_1",
    }
    assert connect_options("mysql://u:p@db/executioner")["port"] == 3306
    for wrong in ("postgresql://u:p@db/x", "mysql+asyncmy://u:p@db:3306/", "not a url"):
        with pytest.raises(ValueError, match="expected mysql"):
            connect_options(wrong)


def test_only_a_finished_row_with_an_outcome_is_a_stored_result() -> None:
    job_id = uuid.uuid4()
    outcome = stored(job_id).outcome.model_dump_json()
    at = datetime(2024, 1, 2, 3, 4, 5, 6)
    assert stored_result(job_id, None) is None
    assert stored_result(job_id, ("running", None, 1, None)) is None
    assert stored_result(job_id, ("queued", None, 0, None)) is None
    result = stored_result(job_id, ("finished", outcome, 7, at))
    assert result == ResultEvent(id=job_id, seq=7, outcome=stored(job_id).outcome, at=at.replace(tzinfo=UTC))
