"""The worker against the real Kafka: valid jobs get running → tests → result, bad messages go to the
dead-letter topic unchanged, and every offset is committed when a burst run ends."""

import asyncio
import uuid
from collections import defaultdict
from collections.abc import AsyncIterator
from pathlib import Path

import orjson
import pytest
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, ConsumerRecord, TopicPartition

from common.kafka import ensure_topics
from schemas.codec import decode_result
from schemas.deadletter import DeadLetterHeaders
from schemas.results import ResultEvent, StatusEvent, TestEvent
from schemas.topics import Topics
from schemas.verdicts import Verdict
from worker.service import serve
from worker.settings import WorkerSettings

REPO = Path(__file__).resolve().parents[2]
PARTITIONS = 3


@pytest.fixture
async def topics(kafka_bootstrap: str) -> Topics:
    """Fresh topics for one test; the jobs topic is created up front with a known partition count (the
    broker would otherwise auto-create it with its own default when the test produces)."""
    topics = Topics(prefix=f"test-worker-{uuid.uuid4().hex[:12]}.")
    await ensure_topics(kafka_bootstrap, {topics.jobs("python"): PARTITIONS})
    return topics


@pytest.fixture
def settings(topics: Topics, kafka_bootstrap: str, tmp_path: Path) -> WorkerSettings:
    return WorkerSettings(
        kafka_bootstrap=kafka_bootstrap,
        topic_prefix=topics.prefix,
        jobs_partitions=PARTITIONS,
        runtime_file=REPO / "runtimes" / "python" / "runtime.toml",
        worker_id="kafka-test-worker",
        pool_size=2,
        max_source_bytes=1000,
        scratch_dir=tmp_path,
        burst=True,
        drain_timeout_s=30,
    )


@pytest.fixture
async def producer(kafka_bootstrap: str) -> AsyncIterator[AIOKafkaProducer]:
    producer = AIOKafkaProducer(bootstrap_servers=kafka_bootstrap)
    await producer.start()
    yield producer
    await producer.stop()


async def read_all(bootstrap: str, topic: str, count: int) -> list[ConsumerRecord[bytes, bytes]]:
    """The first ``count`` records of ``topic`` (fails after 30 s)."""
    consumer = AIOKafkaConsumer(topic, bootstrap_servers=bootstrap, auto_offset_reset="earliest")
    await consumer.start()
    records: list[ConsumerRecord[bytes, bytes]] = []
    try:
        async with asyncio.timeout(30):
            while len(records) < count:
                batch = await consumer.getmany(timeout_ms=1000)
                records.extend(r for part in batch.values() for r in part)
    finally:
        await consumer.stop()
    return records


def job(**fields: object) -> tuple[bytes, bytes]:
    job_id = str(uuid.uuid4())
    return job_id.encode(), orjson.dumps({"v": 1, "id": job_id, "language": "python", **fields})


async def test_burst_worker_runs_jobs_and_dead_letters_bad_messages(
    settings: WorkerSettings, topics: Topics, producer: AIOKafkaProducer, kafka_bootstrap: str
) -> None:
    echo = job(source="print(input())", stdin="hello\n")
    crash = job(source="raise SystemExit(2)")
    graded = job(
        source="print(int(input()) + 1)",
        tests=[{"stdin": "1", "expected_output": "2"}, {"stdin": "2", "expected_output": "4"}],
    )
    valid = {echo[0]: echo, crash[0]: crash, graded[0]: graded}
    invalid = {
        b"not-json": (b"not-json", b"{oops"),
        b"wrong-language": job(source="fn main() {}", language="rust"),
        b"too-big": job(source="#" * 1001),
        b"no-source": job(stdin="x"),
        b"future-version": (b"future-version", orjson.dumps({"v": 2, "id": str(uuid.uuid4())})),
    }
    # Re-key the invalid ones so each can be found by its key on the dead-letter topic.
    invalid = {name: (name, value) for name, (_, value) in invalid.items()}
    for key, value in [*valid.values(), *invalid.values()]:
        await producer.send_and_wait(topics.jobs("python"), key=key, value=value)

    assert await serve(settings, stop=asyncio.Event()) == 0

    events: dict[bytes, list[StatusEvent | TestEvent | ResultEvent]] = defaultdict(list)
    for record in await read_all(kafka_bootstrap, topics.results, count=2 + 2 + 4):
        events[record.key].append(decode_result(record.value))
    assert set(events) == set(valid)
    for key, stream in events.items():
        assert isinstance(stream[0], StatusEvent)
        assert stream[0].worker == "kafka-test-worker"
        assert [e.seq for e in stream] == list(range(1, len(stream) + 1))
        assert isinstance(stream[-1], ResultEvent)
        assert str(stream[-1].id) == key.decode()
        assert stream[-1].language == "python"  # the recorder counts a result under it

    echo_result = events[echo[0]][-1]
    assert isinstance(echo_result, ResultEvent)
    assert echo_result.outcome.verdict is Verdict.ACCEPTED
    assert echo_result.outcome.run is not None
    assert echo_result.outcome.run.stdout == "hello\n"
    crash_result = events[crash[0]][-1]
    assert isinstance(crash_result, ResultEvent)
    assert crash_result.outcome.verdict is Verdict.RUNTIME_ERROR
    graded_events = events[graded[0]]
    assert [e.event for e in graded_events] == ["status", "test", "test", "result"]
    assert isinstance(graded_events[-1], ResultEvent)
    assert graded_events[-1].outcome.verdict is Verdict.WRONG_ANSWER

    dead = await read_all(kafka_bootstrap, topics.dead_letter, count=len(invalid))
    assert {r.key for r in dead} == set(invalid)
    for record in dead:
        assert record.value == invalid[record.key][1]  # the original bytes, untouched
        headers = {name: value.decode() for name, value in record.headers}
        assert headers[DeadLetterHeaders.SOURCE_TOPIC] == topics.jobs("python")
        assert headers[DeadLetterHeaders.WORKER] == "kafka-test-worker"
        assert DeadLetterHeaders.RESULT not in headers  # a rejected record gets no result
        assert headers[DeadLetterHeaders.REASON]
    reasons = {r.key: dict(r.headers)[DeadLetterHeaders.REASON].decode() for r in dead}
    assert "rust" in reasons[b"wrong-language"]
    assert "larger than 1000 bytes" in reasons[b"too-big"]

    await assert_all_committed(kafka_bootstrap, topics)


async def assert_all_committed(bootstrap: str, topics: Topics) -> None:
    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap, group_id=topics.worker_group("python"))
    await consumer.start()
    try:
        partitions = [TopicPartition(topics.jobs("python"), p) for p in range(PARTITIONS)]
        ends = await consumer.end_offsets(partitions)
        committed = {tp: await consumer.committed(tp) or 0 for tp in partitions}
        assert committed == ends
        assert sum(ends.values()) == 8
    finally:
        await consumer.stop()


async def test_a_worker_whose_selftest_fails_consumes_nothing(
    settings: WorkerSettings, topics: Topics, producer: AIOKafkaProducer, tmp_path: Path, kafka_bootstrap: str
) -> None:
    runtime_dir = tmp_path / "python"
    runtime_dir.mkdir()
    text = (REPO / "runtimes" / "python" / "runtime.toml").read_text()
    (runtime_dir / "runtime.toml").write_text(
        text.split("[selftest]")[0] + '[selftest]\nsource = "print(1)"\n'
    )
    key, value = job(source="print(1)")
    await producer.send_and_wait(topics.jobs("python"), key=key, value=value)

    broken = settings.model_copy(update={"runtime_file": runtime_dir / "runtime.toml"})
    assert await serve(broken, stop=asyncio.Event()) == 1

    consumer = AIOKafkaConsumer(bootstrap_servers=kafka_bootstrap, group_id=topics.worker_group("python"))
    await consumer.start()
    try:
        partitions = [TopicPartition(topics.jobs("python"), p) for p in range(PARTITIONS)]
        assert [await consumer.committed(tp) for tp in partitions] == [None] * PARTITIONS
    finally:
        await consumer.stop()
