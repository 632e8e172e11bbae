"""What the recorder counts, on the real MySQL and Kafka: a batch whose transaction MySQL rolls back is
written again item by item (api/lib/consumer.py), and what it counts is counted once, after the commit
that kept it; a result recorded before its job is counted under the language it names,
when the cluster runs that language."""

import asyncio
import secrets
from collections.abc import Awaitable, Callable, Sequence
from uuid import UUID, uuid4

import sqlalchemy as sa
from aiokafka import AIOKafkaProducer
from prometheus_client import REGISTRY
from sqlalchemy.ext.asyncio import AsyncEngine

from api.lib.consumer import MySQLConsumer
from api.results.recorder import ResultEvents
from api.submissions.repository import insert_submission
from common.kafka import ensure_topics
from schemas import JobMessage, Topics, Verdict
from schemas.codec import encode
from tests.api.support import kafka_bootstrap, running, single_run_result

LANGUAGES = ("ocaml", "racket")
"""The runtimes of the recorder's cluster."""

REFUSE_A_WORKER = """
CREATE TRIGGER refuse_a_worker BEFORE UPDATE ON submissions FOR EACH ROW
BEGIN
    IF NEW.worker = 'refused' THEN
        SIGNAL SQLSTATE '45000' SET MESSAGE_TEXT = 'this worker is refused by the test';
    END IF;
END
"""


async def submission_state(engine: AsyncEngine, job: JobMessage) -> tuple[str, str | None]:
    query = sa.text("SELECT status, verdict FROM submissions WHERE id = :id")
    async with engine.connect() as conn:
        status, verdict = (await conn.execute(query, {"id": str(job.id)})).one()
    return status, verdict


async def test_a_result_recorded_after_its_batch_rolled_back_is_counted_once(
    outbox_engine: AsyncEngine,
    producer: AIOKafkaProducer,
    group_caught_up: Callable[[str, Sequence[str]], Awaitable[None]],
    new_topic_prefix: Callable[[], str],
) -> None:
    engine = outbox_engine
    async with engine.begin() as conn:
        await conn.execute(sa.text(REFUSE_A_WORKER))
    # The good one first in the batch, which is applied in the order of the ids.
    good, refused = (
        JobMessage(id=UUID(f"{first}-0000-4000-8000-{secrets.token_hex(6)}"), language="ocaml", source="x")
        for first in ("00000000", "ffffffff")
    )
    for job in (good, refused):
        await insert_submission(engine, job, encode(job), "unused")
    topics = Topics(new_topic_prefix())
    await ensure_topics(kafka_bootstrap(), {topics.results: 1})
    # Both on the topic before the consumer starts: one batch, whose transaction the trigger rolls back
    # after the good result was applied in it.
    await producer.send_and_wait(topics.results, encode(single_run_result(good.id)), key=b"good")
    await producer.send_and_wait(topics.results, encode(running(refused.id, worker="refused")), key=b"bad")
    labels = {"language": "ocaml", "verdict": "accepted"}
    before = recorded_count(labels)
    await record_all(engine, topics, group_caught_up)
    assert await submission_state(engine, good) == ("finished", "accepted")
    assert await submission_state(engine, refused) == ("queued", None), "the refused event was skipped"
    assert recorded_count(labels) == before + 1


async def test_a_result_recorded_before_its_job_is_counted_under_the_language_it_names(
    outbox_engine: AsyncEngine,
    producer: AIOKafkaProducer,
    group_caught_up: Callable[[str, Sequence[str]], Awaitable[None]],
    new_topic_prefix: Callable[[], str],
) -> None:
    topics = Topics(new_topic_prefix())
    await ensure_topics(kafka_bootstrap(), {topics.results: 1})
    # A batch grader's job: its result is the first the API hears of it (no row, no language yet).
    # A language the cluster does not run is no label: whoever can produce results could mint them.
    for language in ("racket", "not-a-runtime"):
        result = single_run_result(uuid4(), verdict=Verdict.WRONG_ANSWER)
        graded = result.model_copy(update={"language": language})
        await producer.send_and_wait(topics.results, encode(graded), key=language.encode())
    racket = {"language": "racket", "verdict": "wrong_answer"}
    unknown = {"language": "unknown", "verdict": "wrong_answer"}
    before, unknown_before = recorded_count(racket), recorded_count(unknown)
    await record_all(outbox_engine, topics, group_caught_up)
    assert recorded_count(racket) == before + 1
    assert recorded_count(unknown) == unknown_before + 1
    assert recorded_count({**racket, "language": "not-a-runtime"}) == 0


def recorded_count(labels: dict[str, str]) -> float:
    return REGISTRY.get_sample_value("executioner_results_recorded_total", labels) or 0.0


async def record_all(
    engine: AsyncEngine, topics: Topics, group_caught_up: Callable[[str, Sequence[str]], Awaitable[None]]
) -> None:
    """Run the recorder's consumer and sink until it committed everything on ``topics.results``."""
    ready = asyncio.Event()
    ready.set()
    recorder = MySQLConsumer(
        name="count-test",
        sink=ResultEvents(LANGUAGES),
        engine=engine,
        bootstrap=kafka_bootstrap(),
        topics=[topics.results],
        group_id=topics.recorder_group,
        topics_ready=ready,
    )
    task = asyncio.create_task(recorder.run())
    try:
        await group_caught_up(topics.recorder_group, [topics.results])  # committed after the writes
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
