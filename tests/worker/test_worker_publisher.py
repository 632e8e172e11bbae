"""The publisher's batches: leaving one waits for Kafka's acknowledgement of every record sent in it (and
raises when one was refused), and a dead letter is the fetched record itself. The producer is a stand-in
whose acknowledgements the test gives (the real one is driven in test_worker_kafka.py)."""

import asyncio
import uuid
from typing import Any

import pytest
from aiokafka.errors import KafkaError
from opentelemetry import trace
from opentelemetry.trace import NonRecordingSpan, SpanContext, TraceFlags

from schemas.deadletter import DeadLetterHeaders
from schemas.jobs import JobMessage
from schemas.results import Outcome
from schemas.topics import Topics
from schemas.verdicts import Verdict
from tests.worker.records import FetchedRecord
from worker.publisher import Publisher

pytestmark = pytest.mark.unit

TOPICS = Topics(prefix="t.")


class Producer:
    """Takes records at once and acknowledges each one on the event loop's next turn (or refuses it),
    logging the acknowledgement."""

    def __init__(self, log: list[str], refuse: bool = False) -> None:
        self.log = log
        self.refuse = refuse
        self.sent: list[tuple[str, bytes | None, bytes | None, dict[str, Any]]] = []

    async def send(self, topic: str, key: bytes | None, value: bytes | None, **extra: Any) -> Any:
        self.sent.append((topic, key, value, extra))
        ack: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        asyncio.get_running_loop().call_soon(self._acknowledge, ack)
        return ack

    def _acknowledge(self, ack: asyncio.Future[None]) -> None:
        self.log.append("acknowledged")
        if self.refuse:
            ack.set_exception(KafkaError("refused"))
        else:
            ack.set_result(None)


def publisher(producer: Producer) -> Publisher:
    return Publisher(producer, TOPICS, "w-1", max_event_bytes=100_000)


def a_job() -> JobMessage:
    return JobMessage(id=uuid.uuid4(), language="python", source="print(1)")


async def test_leaving_a_batch_waits_for_every_acknowledgement() -> None:
    log: list[str] = []
    producer = Producer(log)
    async with publisher(producer).batch() as batch:
        await batch.running(a_job())
        await batch.dead_letter(FetchedRecord(b"{oops"), "not JSON")
        log.append("sent")
    log.append("left")
    assert log == ["sent", "acknowledged", "acknowledged", "left"]


async def test_a_refused_record_fails_the_batch() -> None:
    producer = Producer([], refuse=True)
    with pytest.raises(KafkaError):
        async with publisher(producer).batch() as batch:
            await batch.running(a_job())


async def test_a_dead_letter_is_the_record_as_fetched_with_where_it_came_from() -> None:
    producer = Producer([])
    async with publisher(producer).batch() as batch:
        await batch.dead_letter(
            FetchedRecord(b"\x00raw", topic="t.jobs.python", partition=2, offset=9),
            "poison",
            result_published=True,
        )

    ((topic, key, value, extra),) = producer.sent
    assert (topic, key, value) == (TOPICS.dead_letter, b"k", b"\x00raw")
    assert dict(extra["headers"]) == {
        DeadLetterHeaders.REASON: b"poison",
        DeadLetterHeaders.SOURCE_TOPIC: b"t.jobs.python",
        DeadLetterHeaders.SOURCE_PARTITION: b"2",
        DeadLetterHeaders.SOURCE_OFFSET: b"9",
        DeadLetterHeaders.WORKER: b"w-1",
        DeadLetterHeaders.RESULT: DeadLetterHeaders.RESULT_PUBLISHED,
    }


async def test_result_events_carry_the_trace_context_they_were_published_in() -> None:
    producer = Producer([])
    job = a_job()
    span = NonRecordingSpan(SpanContext(0xABC, 0xDEF, is_remote=False, trace_flags=TraceFlags(1)))
    async with publisher(producer).batch() as batch:
        await batch.running(job)  # outside any trace: no header
        with trace.use_span(span):
            await batch.result(job, Outcome(verdict=Verdict.ACCEPTED, limits=job.limits.effective()), 2)
    (_, _, _, untraced), (_, _, _, traced) = producer.sent
    assert untraced["headers"] == []
    assert traced["headers"] == [("traceparent", f"00-{0xABC:032x}-{0xDEF:016x}-01".encode())]
