"""What the handler decides for one record: reject, answer from the stored result, dead-letter as poison,
or run. Kafka, MySQL and the pool are stand-ins here (their real behaviour is tested elsewhere)."""

import asyncio
import contextlib
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from typing import Any
from uuid import UUID

import orjson

from common.contract import AdmissionLimits
from schemas.jobs import JobMessage, Limits
from schemas.results import Outcome, ResultEvent
from schemas.verdicts import Verdict
from worker.handler import Admission, JobHandler
from worker.pool import OnTest
from worker.publisher import Ack

MAX_DELIVERIES = 3


class Recorder:
    """Stands in for the publisher, the pool and the stored results; records what happened."""

    def __init__(self, stored: dict[UUID, ResultEvent] | None = None) -> None:
        self.stored = stored or {}
        self.calls: list[tuple[str, Any]] = []

    def _ack(self) -> Ack:
        ack: Ack = asyncio.get_running_loop().create_future()
        ack.set_result(None)
        return ack

    async def lookup(self, job_id: UUID) -> ResultEvent | None:
        return self.stored.get(job_id)

    async def stored_result(self, event: ResultEvent) -> Ack:
        self.calls.append(("stored_result", event))
        return self._ack()

    async def dead_letter(self, **fields: Any) -> Ack:
        self.calls.append(("dead_letter", fields))
        return self._ack()

    async def running(self, job: JobMessage) -> Ack:
        self.calls.append(("running", job.id))
        return self._ack()

    async def result(self, job: JobMessage, outcome: Outcome, seq: int) -> Ack:
        self.calls.append(("result", (outcome, seq)))
        return self._ack()

    async def run(self, job: JobMessage, on_test: OnTest) -> Outcome:
        self.calls.append(("run", job.id))
        return Outcome(verdict=Verdict.ACCEPTED, limits=job.limits.effective())


def handler(recorder: Recorder) -> JobHandler:
    return JobHandler(
        Admission("python", AdmissionLimits()),
        recorder,  # type: ignore[arg-type]
        recorder,  # type: ignore[arg-type]
        worker_id="w-1",
        max_attempts=1,
        max_deliveries=MAX_DELIVERIES,
        finished=recorder,
    )


def record(job_id: UUID, **fields: Any) -> bytes:
    return orjson.dumps({"v": 1, "id": str(job_id), "language": "python", "source": "print(1)", **fields})


async def handle(recorder: Recorder, value: bytes, started_before: int) -> list[str]:
    """Handle one record whose job was started ``started_before`` times; the calls made, and ``start``
    when the job went through the consumer's gate."""

    @contextlib.asynccontextmanager
    async def start() -> AsyncIterator[int]:
        recorder.calls.append(("start", None))
        yield started_before

    await handler(recorder).handle(
        key=b"k", value=value, topic="jobs.python", partition=1, offset=7, start=start
    )
    return [name for name, _ in recorder.calls]


def earlier_result(job_id: UUID) -> ResultEvent:
    outcome = Outcome(verdict=Verdict.WRONG_ANSWER, limits=Limits().effective(), worker="w-0")
    return ResultEvent(id=job_id, seq=4, outcome=outcome, at=datetime(2024, 1, 1, tzinfo=UTC))


async def test_a_job_below_the_limit_runs() -> None:
    recorder = Recorder()
    assert await handle(recorder, record(uuid.uuid4()), MAX_DELIVERIES - 1) == [
        "start",
        "running",
        "run",
        "result",
    ]


async def test_a_finished_job_is_answered_from_its_stored_result_even_at_the_limit() -> None:
    job_id = uuid.uuid4()
    recorder = Recorder({job_id: earlier_result(job_id)})
    assert await handle(recorder, record(job_id), MAX_DELIVERIES) == ["stored_result"]
    assert recorder.calls[0][1] == earlier_result(job_id)


async def test_at_the_limit_a_job_is_dead_lettered_with_an_internal_error_result() -> None:
    value = record(uuid.uuid4(), tests=[{"stdin": "", "expected_output": "1"}] * 2)
    recorder = Recorder()
    assert sorted(await handle(recorder, value, MAX_DELIVERIES)) == ["dead_letter", "result", "start"]
    calls = dict(recorder.calls)
    reason = "poison: a worker died 3 times while running this job"
    assert calls["dead_letter"] == {
        "key": b"k",
        "value": value,
        "reason": reason,
        "topic": "jobs.python",
        "partition": 1,
        "offset": 7,
        "result_published": True,  # the result below is the job's one final word
    }
    outcome, seq = calls["result"]
    assert (outcome.verdict, outcome.message, outcome.worker) == (
        Verdict.INTERNAL_ERROR,
        f"dead-lettered as {reason}",
        "w-1",
    )
    assert seq == 4  # running was 1, the two tests 2 and 3


async def test_an_invalid_message_at_the_limit_keeps_its_own_reason() -> None:
    recorder = Recorder()
    assert await handle(recorder, b"{oops", MAX_DELIVERIES) == ["dead_letter"]
    assert recorder.calls[0][1]["reason"].startswith("not JSON")
    assert recorder.calls[0][1]["result_published"] is False  # a rejected record gets no result
