"""Helpers of the API tests: the services to use, serving an app, waiting for state, and result events
as a worker would publish them."""

import asyncio
import contextlib
import os
import socket
from collections.abc import AsyncIterator, Iterator
from dataclasses import replace
from datetime import UTC, datetime
from typing import Any, TypeVar
from uuid import UUID

import httpx
import orjson
import uvicorn
from litestar import Litestar

from api.settings import ApiSettings
from api.submissions.repository import SubmissionRow
from schemas import (
    Limits,
    Outcome,
    ResultEvent,
    RunReport,
    Status,
    StatusEvent,
    TestEvent,
    TestReport,
    Verdict,
)
from tests.fixtures.waiting import eventually

T = TypeVar("T")

ADMIN_TOKEN = "api-test-admin-token"
"""The admin token of the session API (``tests/api/conftest.py``)."""

__all__ = ["eventually"]


def database_url() -> str:
    """The test MariaDB (tests/conftest.py exports it when the session starts, after this is imported)."""
    return os.environ["EXECUTIONER_DATABASE_URL"]


"""Any database on the test server; the tests create their own databases next to it."""


def kafka_bootstrap() -> str:
    """The test Kafka (exported by tests/conftest.py)."""
    return os.environ["EXECUTIONER_KAFKA_BOOTSTRAP"]


def make_settings(database_url: str, topic_prefix: str, **overrides: Any) -> ApiSettings:
    """Settings for a test API: short timers so the tests do not wait on them."""
    values: dict[str, Any] = {
        "database_url": database_url,
        "kafka_bootstrap": kafka_bootstrap(),
        "topic_prefix": topic_prefix,
        "jobs_partitions": 2,
        "relay_poll_interval_s": 0.5,
        "sse_recheck_s": 1.0,
        "sse_ping_s": 5.0,
        "db_pool_size": 4,
    }
    return ApiSettings(**(values | overrides))


class _QuietServer(uvicorn.Server):
    """uvicorn without signal handlers: several test servers share the process, and sse-starlette takes
    a server's SIGTERM handling to mean that the whole process shuts down."""

    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        yield


@contextlib.asynccontextmanager
async def serve(app: Litestar) -> AsyncIterator[str]:
    """Serve ``app`` with uvicorn on an ephemeral port for the duration of the block; yields its URL."""
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    server = _QuietServer(uvicorn.Config(app, log_level="warning", timeout_graceful_shutdown=5))
    task = asyncio.create_task(server.serve(sockets=[sock]), name=f"uvicorn-{port}")
    try:
        # uvicorn offers no "started" event to await: watch its flag (and fail if serve() died).
        async with asyncio.timeout(90):
            while not server.started:
                if task.done():
                    task.result()
                    raise RuntimeError("uvicorn stopped before it started")
                await asyncio.sleep(0.02)
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        await task
        sock.close()


async def submit(client: httpx.AsyncClient, **body: Any) -> dict[str, str]:
    """POST a python submission (``print(42)`` unless ``body`` says otherwise); assert it was accepted."""
    reply = await client.post(
        "/api/v1/submissions", json={"language": "python", "source": "print(42)", **body}
    )
    assert reply.status_code == 202, reply.text
    accepted: dict[str, str] = reply.json()
    return accepted


def queued_row(sid: UUID) -> SubmissionRow:
    """A freshly accepted submission's row, as the repository returns it."""
    return SubmissionRow(
        id=str(sid),
        language="python",
        status=Status.QUEUED,
        verdict=None,
        spec={},
        outcome=None,
        last_seq=0,
        worker=None,
        origin="http",
        created_at=datetime(2025, 1, 1),
        started_at=None,
        finished_at=None,
    )


NOW = datetime(2025, 1, 2, 3, 4, 5, 678901, tzinfo=UTC)


def running(submission_id: UUID, worker: str = "worker-a") -> StatusEvent:
    """The ``running`` status event (seq 1)."""
    return StatusEvent(id=submission_id, seq=1, status=Status.RUNNING, worker=worker, at=NOW)


def finished_test(submission_id: UUID, index: int, verdict: Verdict = Verdict.ACCEPTED) -> TestEvent:
    """Test ``index`` finished (seq 2 + index)."""
    report = TestReport(index=index, verdict=verdict, exit_code=0, time_ms=10 + index, memory_kb=1000 + index)
    return TestEvent(id=submission_id, seq=2 + index, test=report, at=NOW)


def single_run_result(
    submission_id: UUID, *, seq: int = 2, stdout: str = "42\n", verdict: Verdict = Verdict.ACCEPTED
) -> ResultEvent:
    """The final result of a job without tests."""
    run = RunReport(verdict=verdict, exit_code=0, time_ms=12, wall_ms=30, memory_kb=9000, stdout=stdout)
    outcome = Outcome(verdict=verdict, run=run, limits=Limits().effective(), worker="worker-a")
    return ResultEvent(id=submission_id, seq=seq, outcome=outcome, at=NOW)


def graded_result(submission_id: UUID, verdicts: list[Verdict]) -> ResultEvent:
    """The final result of a job with one test per verdict (seq one past the last test's)."""
    reports = [finished_test(submission_id, i, v).test for i, v in enumerate(verdicts)]
    overall = next((v for v in verdicts if v is not Verdict.ACCEPTED), Verdict.ACCEPTED)
    outcome = Outcome(verdict=overall, tests=reports, limits=Limits().effective(), worker="worker-b")
    return ResultEvent(id=submission_id, seq=2 + len(verdicts), outcome=outcome, at=NOW)


def recorded_row(row: SubmissionRow, final: ResultEvent) -> SubmissionRow:
    """``row`` once the recorder has stored ``final``, as the repository returns it."""
    return replace(
        row,
        status=Status.FINISHED,
        verdict=final.outcome.verdict.value,
        outcome=orjson.loads(orjson.dumps(final.outcome.model_dump(mode="json"))),
        last_seq=final.seq,
        worker=final.outcome.worker,
        finished_at=final.at.replace(tzinfo=None),
    )
