"""Publishing what happens to jobs: status, per-test and result events to ``results``, rejected messages to
``dead-letter``.

Records are sent through a :class:`Batch` (``async with publisher.batch() as batch``): each send returns
once the producer took the record (so a job's events leave in order, and a pool process is not kept
waiting on Kafka), and leaving the block returns only once Kafka acknowledged every record sent in it.
So the caller still decides *when* to wait (the handler gives its pool slot back first), but cannot
forget to, nor wait for half of them: no acknowledgement is ever handed out.
"""

import asyncio
import contextlib
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, TypeVar
from uuid import UUID

from aiokafka import AIOKafkaProducer

from common.tracing import kafka_headers
from schemas.codec import encode
from schemas.deadletter import DeadLetterHeaders
from schemas.jobs import JobMessage
from schemas.results import SEQ_RUNNING, Outcome, ResultEvent, RunReport, StatusEvent, TestEvent, TestReport
from schemas.results import seq_for_test as test_seq
from schemas.topics import Topics
from schemas.verdicts import Status
from worker.job_start import JobRecord

R = TypeVar("R", bound=RunReport)
WORST_BYTES_PER_CHAR = 6
"""A control character is escaped as ``\\u00XX`` in JSON: the most one character can cost."""


def _cut(report: R, max_chars: int) -> R:
    stdout, stderr = report.stdout[:max_chars], report.stderr[:max_chars]
    return report.model_copy(
        update={
            "stdout": stdout,
            "stderr": stderr,
            "stdout_truncated": report.stdout_truncated or stdout != report.stdout,
            "stderr_truncated": report.stderr_truncated or stderr != report.stderr,
        }
    )


def _cut_event(event: TestEvent | ResultEvent, max_chars: int) -> tuple[TestEvent | ResultEvent, int]:
    """``event`` with every output cut to ``max_chars``, and how many output fields it has."""
    if isinstance(event, TestEvent):
        return event.model_copy(update={"test": _cut(event.test, max_chars)}), 2
    outcome: Outcome = event.outcome
    cut = outcome.model_copy(
        update={
            "run": _cut(outcome.run, max_chars) if outcome.run else None,
            "compile": _cut(outcome.compile, max_chars) if outcome.compile else None,
            "tests": [_cut(test, max_chars) for test in outcome.tests],
        }
    )
    fields = 2 * (len(outcome.tests) + (outcome.run is not None) + (outcome.compile is not None))
    return event.model_copy(update={"outcome": cut}), fields


def encode_within(event: TestEvent | ResultEvent, max_bytes: int) -> bytes:
    """Encode ``event``; if it is larger than ``max_bytes``, cut its outputs evenly (marking them
    truncated) so it fits: a result too big for Kafka would otherwise block the job forever."""
    data = encode(event)
    if len(data) <= max_bytes:
        return data
    bare, fields = _cut_event(event, 0)
    room = max_bytes - len(encode(bare))
    max_chars = max(room // (max(fields, 1) * WORST_BYTES_PER_CHAR), 0)
    return encode(_cut_event(event, max_chars)[0])


@dataclass(frozen=True)
class Publisher:
    """Sends one worker's records with an idempotent producer (same key → same partition → in order)."""

    producer: AIOKafkaProducer
    topics: Topics
    worker_id: str
    max_event_bytes: int

    @contextlib.asynccontextmanager
    async def batch(self) -> AsyncIterator["Batch"]:
        """A batch to send through; leaving the block waits for Kafka's acknowledgement of every record
        sent in it (and raises when one was refused). A block left by an exception does not wait."""
        batch = Batch(self)
        yield batch
        await batch._acknowledged()


class Batch:
    """Records sent together (usually one job's); made by :meth:`Publisher.batch` only."""

    def __init__(self, publisher: Publisher) -> None:
        self._producer = publisher.producer
        self._topics = publisher.topics
        self._worker_id = publisher.worker_id
        self._max_event_bytes = publisher.max_event_bytes
        self._pending: list[asyncio.Future[Any]] = []

    async def _send(self, topic: str, key: bytes | None, value: bytes | None, **extra: Any) -> None:
        self._pending.append(await self._producer.send(topic, key=key, value=value, **extra))

    async def _send_event(self, job_id: UUID, value: bytes) -> None:
        """A ``results`` record of job ``job_id``, with the current trace context in its headers."""
        await self._send(self._topics.results, str(job_id).encode(), value, headers=kafka_headers())

    async def _acknowledged(self) -> None:
        """Wait until Kafka acknowledged every record sent so far (only :meth:`Publisher.batch` does)."""
        await asyncio.gather(*self._pending)

    async def running(self, job: JobMessage) -> None:
        """``running`` (seq 1): this worker took the job."""
        event = StatusEvent(
            id=job.id, seq=SEQ_RUNNING, status=Status.RUNNING, worker=self._worker_id, at=datetime.now(UTC)
        )
        await self._send_event(job.id, encode(event))

    async def test(self, job: JobMessage, report: TestReport) -> None:
        """Test ``report.index`` finished (seq 2 + index)."""
        event = TestEvent(id=job.id, seq=test_seq(report.index), test=report, at=datetime.now(UTC))
        await self._send_event(job.id, encode_within(event, self._max_event_bytes))

    async def result(self, job: JobMessage, outcome: Outcome, seq: int) -> None:
        """The final ``result`` event; ``seq`` is one more than the last event published for the job."""
        event = ResultEvent(id=job.id, seq=seq, outcome=outcome, at=datetime.now(UTC), language=job.language)
        await self._send_event(job.id, encode_within(event, self._max_event_bytes))

    async def stored_result(self, event: ResultEvent) -> None:
        """A ``result`` event stored earlier, published again as it was (a retried job that finished)."""
        await self._send_event(event.id, encode_within(event, self._max_event_bytes))

    async def dead_letter(self, record: JobRecord, reason: str, *, result_published: bool = False) -> None:
        """Republish a rejected ``record`` unchanged (same key and bytes), the reason and where it came from
        in its headers (``result_published``: this worker publishes the job's final result itself)."""
        headers = DeadLetterHeaders.build(
            reason=reason,
            topic=record.topic,
            partition=record.partition,
            offset=record.offset,
            worker=self._worker_id,
            result_published=result_published,
        )
        await self._send(self._topics.dead_letter, record.key, record.value, headers=headers)
