"""What the handler decides for one record: reject, answer from the stored result, dead-letter as poison,
or run. Kafka, MySQL and the pool are stand-ins here (their real behaviour is tested elsewhere)."""

import contextlib
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from typing import Any
from uuid import UUID

import orjson
import pytest

from common.contract import AdmissionLimits
from schemas.jobs import JobMessage, Limits
from schemas.results import Outcome, ResultEvent
from schemas.verdicts import Verdict
from tests.worker.records import FetchedRecord
from worker.handler import Admission, JobHandler
from worker.job_start import JobRecord
from worker.pool import OnTest
from worker.retries import RetryPolicy

pytestmark = pytest.mark.unit

MAX_DELIVERIES = 3


class Recorder:
    """Stands in for the publisher, the pool and the stored results; records what happened, in order."""

    def __init__(self, stored: dict[UUID, ResultEvent] | None = None) -> None:
        self.stored = stored or {}
        self.calls: list[tuple[str, Any]] = []

    async def lookup(self, job_id: UUID) -> ResultEvent | None:
        return self.stored.get(job_id)

    async def key_refusal(self, key_id: str) -> str | None:
        return None

    @contextlib.asynccontextmanager
    async def batch(self) -> AsyncIterator["Recorder"]:
        yield self
        self.calls.append(("acknowledged", None))

    @contextlib.asynccontextmanager
    async def slot(self) -> AsyncIterator["Recorder"]:
        self.calls.append(("slot", None))
        yield self
        self.calls.append(("slot released", None))

    async def stored_result(self, event: ResultEvent) -> None:
        self.calls.append(("stored_result", event))

    async def dead_letter(self, record: JobRecord, reason: str, *, result_published: bool = False) -> None:
        self.calls.append(("dead_letter", (record, reason, result_published)))

    async def running(self, job: JobMessage) -> None:
        self.calls.append(("running", job.id))

    async def result(self, job: JobMessage, outcome: Outcome, seq: int) -> None:
        self.calls.append(("result", (outcome, seq)))

    async def run(self, job: JobMessage, on_test: OnTest) -> Outcome:
        self.calls.append(("run", job.id))
        return Outcome(verdict=Verdict.ACCEPTED, limits=job.limits.effective())


def handler(recorder: Recorder) -> JobHandler:
    return JobHandler(
        Admission("python", AdmissionLimits()),
        recorder,  # type: ignore[arg-type]
        recorder,  # type: ignore[arg-type]
        RetryPolicy(max_attempts=1),
        worker_id="w-1",
        max_deliveries=MAX_DELIVERIES,
        finished=recorder,
    )


def record(job_id: UUID, **fields: Any) -> bytes:
    return orjson.dumps({"v": 1, "id": str(job_id), "language": "python", "source": "print(1)", **fields})


async def handle(recorder: Recorder, value: bytes, started_before: int) -> list[str]:
    """Handle one record whose job was started ``started_before`` times; the calls made, with ``start``
    when the job went through the consumer's gate."""

    @contextlib.asynccontextmanager
    async def start() -> AsyncIterator[int]:
        recorder.calls.append(("start", None))
        yield started_before

    await handler(recorder).handle(FetchedRecord(value), start)
    return [name for name, _ in recorder.calls]


def earlier_result(job_id: UUID) -> ResultEvent:
    outcome = Outcome(verdict=Verdict.WRONG_ANSWER, limits=Limits().effective(), worker="w-0")
    return ResultEvent(id=job_id, seq=4, outcome=outcome, at=datetime(2024, 1, 1, tzinfo=UTC))


async def test_a_job_below_the_limit_starts_once_a_pool_process_is_reserved_and_runs() -> None:
    recorder = Recorder()
    assert await handle(recorder, record(uuid.uuid4()), MAX_DELIVERIES - 1) == [
        "slot",  # the one capacity gate comes first: a recorded start never waits for a process
        "start",
        "running",
        "run",
        "result",
        "slot released",  # before Kafka's acknowledgements are awaited: they keep no process idle
        "acknowledged",
    ]


async def test_a_finished_job_is_answered_from_its_stored_result_even_at_the_limit() -> None:
    job_id = uuid.uuid4()
    recorder = Recorder({job_id: earlier_result(job_id)})
    assert await handle(recorder, record(job_id), MAX_DELIVERIES) == ["stored_result", "acknowledged"]
    assert recorder.calls[0][1] == earlier_result(job_id)


async def test_at_the_limit_a_job_is_dead_lettered_with_an_internal_error_result() -> None:
    value = record(uuid.uuid4(), tests=[{"stdin": "", "expected_output": "1"}] * 2)
    recorder = Recorder()
    assert await handle(recorder, value, MAX_DELIVERIES) == [
        "slot",
        "start",
        "dead_letter",
        "result",
        "slot released",
        "acknowledged",
    ]
    calls = dict(recorder.calls)
    reason = "poison: a worker died 3 times while running this job"
    # The record itself, as fetched; True: the result below is the job's one final word.
    assert calls["dead_letter"] == (FetchedRecord(value), reason, True)
    outcome, seq = calls["result"]
    assert (outcome.verdict, outcome.message, outcome.worker) == (
        Verdict.INTERNAL_ERROR,
        f"dead-lettered as {reason}",
        "w-1",
    )
    assert seq == 4  # running was 1, the two tests 2 and 3


async def test_an_invalid_message_at_the_limit_keeps_its_own_reason() -> None:
    recorder = Recorder()
    assert await handle(recorder, b"{oops", MAX_DELIVERIES) == ["dead_letter", "acknowledged"]
    dead_record, reason, result_published = recorder.calls[0][1]
    assert dead_record == FetchedRecord(b"{oops")
    assert reason.startswith("not JSON")
    assert result_published is False  # a rejected record gets no result
