"""Jobs a batch grader produces straight to ``jobs.<language>`` (a plain aiokafka producer, as
docs/kafka-contract.md describes) are recorded in full by the API's intake group, no worker needed."""

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from uuid import UUID, uuid4

import httpx
import orjson
import pytest
from aiokafka import AIOKafkaProducer, ConsumerRecord
from sqlalchemy.ext.asyncio import AsyncEngine

from api.intake import admission
from api.intake.sink import JobIntake
from api.settings import ApiSettings
from schemas import JobMessage, Verdict, decode_job
from tests.api.support import NOW, graded_result, running, single_run_result, submit

FetchRow = Callable[[UUID | str], Awaitable[dict[str, Any] | None]]
CaughtUp = Callable[[], Awaitable[None]]
Publish = Callable[..., Awaitable[None]]

pytestmark = pytest.mark.usefixtures("topics_exist")


@dataclass(frozen=True)
class Grader:
    """Produces to ``jobs.python`` like a batch grader, and waits for the intake to have seen it all."""

    producer: AIOKafkaProducer
    topic: str
    recorded: CaughtUp
    """Returns once the intake has recorded (and committed) every job produced so far."""

    async def produce(self, job: dict[str, Any] | bytes, key: bytes | None = None) -> None:
        """Produce a job message: JSON value, the id as key (unless ``key`` is given)."""
        value = job if isinstance(job, bytes) else orjson.dumps(job)
        if key is None and isinstance(job, dict):
            key = str(job["id"]).encode()
        await self.producer.send_and_wait(self.topic, value, key=key)


@pytest.fixture
def grader(producer: AIOKafkaProducer, settings: ApiSettings, intake_caught_up: CaughtUp) -> Grader:
    """A grader producing to the session API's ``jobs.python``."""
    return Grader(producer, settings.topics.jobs("python"), intake_caught_up)


def grader_job(**fields: Any) -> dict[str, Any]:
    """A valid job message with a fresh id."""
    return {"v": 1, "id": str(uuid4()), "language": "python", "source": "print(input())", **fields}


async def test_a_job_produced_to_kafka_is_recorded_and_readable_over_http(
    client: httpx.AsyncClient,
    grader: Grader,
    fetch_row: FetchRow,
) -> None:
    job = grader_job(
        stdin="hi\n",
        tests=[{"stdin": "1\n", "expected_output": "1\n"}],
        limits={"time_ms": 500},
        compare="tokens",
        future_field="ignored within v1",
    )
    await grader.produce(job)
    await grader.recorded()

    row = await fetch_row(job["id"])
    assert row is not None
    assert (row["origin"], row["language"], row["source"], row["stdin"], row["status"]) == (
        "kafka",
        "python",
        "print(input())",
        "hi\n",
        "queued",
    )
    view = (await client.get(f"/api/v1/submissions/{job['id']}")).json()
    assert (view["status"], view["origin"], view["language"]) == ("queued", "kafka", "python")
    assert view["limits"] == {"time_ms": 500, "wall_ms": 1500, "memory_mb": 256, "output_kb": 64}
    assert view["submitted"] == {
        "source": "print(input())",
        "stdin": "hi\n",
        "tests": [{"stdin": "1\n", "expected_output": "1\n"}],
        "compare": "tokens",
        "stop_on_first_failure": False,
        "args": [],
        "compiler_options": [],
        "files": [],
        "redirect_stderr_to_stdout": False,
        "runs": 1,
    }


async def test_spec_is_stored_as_for_http_submissions(
    client: httpx.AsyncClient,
    grader: Grader,
    fetch_row: FetchRow,
) -> None:
    options = {
        "tests": [{"expected_output": "3"}],
        "limits": {"memory_mb": 64},
        "compare": {"mode": "float", "tolerance": 0.01},
        "stop_on_first_failure": True,
    }
    over_http = await submit(client, source="print(input())", **options)
    job = grader_job(**options)
    await grader.produce(job)
    await grader.recorded()

    from_kafka, from_http = await fetch_row(job["id"]), await fetch_row(over_http["id"])
    assert from_kafka is not None and from_http is not None
    assert orjson.loads(from_kafka["spec"]) == orjson.loads(from_http["spec"])


async def test_a_result_that_arrives_before_the_job_keeps_its_results_and_gets_the_job(
    client: httpx.AsyncClient,
    grader: Grader,
    publish_results: Publish,
    recorder_caught_up: CaughtUp,
    fetch_row: FetchRow,
) -> None:
    job = grader_job(tests=[{"expected_output": "1"}, {"expected_output": "2"}])
    sid = UUID(job["id"])
    final = graded_result(sid, [Verdict.ACCEPTED, Verdict.WRONG_ANSWER])
    await publish_results(running(sid), final)
    await recorder_caught_up()
    early = await fetch_row(sid)
    assert early is not None and (early["language"], early["source"], early["status"]) == ("", "", "finished")

    await grader.produce(job)
    await grader.recorded()

    row = await fetch_row(sid)
    assert row is not None
    assert (row["origin"], row["language"], row["source"]) == ("kafka", "python", "print(input())")
    assert (row["status"], row["verdict"], row["last_seq"], row["worker"]) == (
        "finished",
        "wrong_answer",
        final.seq,
        final.outcome.worker,
    )
    assert orjson.loads(row["outcome"]) == final.outcome.model_dump(mode="json")
    assert row["finished_at"] == NOW.replace(tzinfo=None)
    view = (await client.get(f"/api/v1/submissions/{sid}")).json()
    assert (view["status"], view["verdict"]) == ("finished", "wrong_answer")
    assert view["submitted"]["tests"] == [
        {"stdin": "", "expected_output": "1"},
        {"stdin": "", "expected_output": "2"},
    ]


async def test_invalid_messages_are_not_recorded(
    grader: Grader, settings: ApiSettings, fetch_row: FetchRow
) -> None:
    not_json, wrong_version, missing_source, wrong_language, oversize = (str(uuid4()) for _ in range(5))
    await grader.produce(b"{not json", key=not_json.encode())
    await grader.produce({**grader_job(), "id": wrong_version, "v": 2})
    await grader.produce({"v": 1, "id": missing_source, "language": "python"})
    await grader.produce({**grader_job(), "id": wrong_language, "language": "java"})
    source = "#" * (settings.max_source_bytes + 1)
    await grader.produce({**grader_job(), "id": oversize, "source": source})
    await grader.produce(b"", key=None)
    valid = grader_job()  # after all of them: the intake got past every one
    await grader.produce(valid)
    await grader.recorded()

    for sid in (not_json, wrong_version, missing_source, wrong_language, oversize):
        assert await fetch_row(sid) is None, sid
    assert await fetch_row(valid["id"]) is not None


async def test_a_job_without_a_key_is_recorded_under_its_id(grader: Grader, fetch_row: FetchRow) -> None:
    job = grader_job()
    await grader.producer.send_and_wait(grader.topic, orjson.dumps(job), key=None)
    await grader.recorded()

    row = await fetch_row(job["id"])
    assert row is not None and (row["origin"], row["source"]) == ("kafka", job["source"])


async def test_existing_rows_are_never_overwritten(
    client: httpx.AsyncClient,
    grader: Grader,
    fetch_row: FetchRow,
) -> None:
    over_http = await submit(client, source="print('over http')")
    first = grader_job(source="print('first')")
    await grader.produce(first)
    # The same ids again with other programs: a grader retrying, or reusing an id it should not.
    await grader.produce({**first, "source": "print('second')"})
    await grader.produce(grader_job(id=over_http["id"], source="print('hijack')"))
    await grader.recorded()

    http_row, kafka_row = await fetch_row(over_http["id"]), await fetch_row(first["id"])
    assert http_row is not None and (http_row["origin"], http_row["source"]) == ("http", "print('over http')")
    assert kafka_row is not None and kafka_row["source"] == "print('first')"


def job_record(settings: ApiSettings, key: bytes, value: bytes, offset: int) -> ConsumerRecord[bytes, bytes]:
    """A record of ``jobs.python`` as the intake's consumer hands it over."""
    topic = settings.topics.jobs("python")
    return ConsumerRecord(topic, 0, offset, 1_700_000_000_000, 0, key, value, None, len(key), len(value), [])


async def test_jobs_the_api_published_are_not_decoded(
    client: httpx.AsyncClient,
    settings: ApiSettings,
    engine: AsyncEngine,
    fetch_row: FetchRow,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    decoded: list[bytes] = []

    def counting_decode(raw: bytes) -> JobMessage:
        decoded.append(raw)
        return decode_job(raw)

    monkeypatch.setattr(admission, "decode_job", counting_decode)
    sink = JobIntake(admission.JobAdmission({settings.topics.jobs("python"): "python"}, settings))
    ours = (await submit(client))["id"]
    theirs = grader_job()
    records = [
        job_record(settings, ours.encode(), b"never decoded", 1),
        job_record(settings, theirs["id"].encode(), orjson.dumps(theirs), 2),
    ]
    async with engine.begin() as conn:
        await sink.write(conn, records)

    assert decoded == [orjson.dumps(theirs)]
    row = await fetch_row(theirs["id"])
    assert row is not None and row["created_at"] == datetime(2023, 11, 14, 22, 13, 20)


async def test_a_deleted_submission_stays_deleted_when_its_events_and_its_job_come_late(
    client: httpx.AsyncClient,
    grader: Grader,
    publish_results: Publish,
    recorder_caught_up: CaughtUp,
    fetch_row: FetchRow,
) -> None:
    job = grader_job()
    sid = UUID(job["id"])
    await grader.produce(job)
    await grader.recorded()
    await publish_results(running(sid), single_run_result(sid))
    await recorder_caught_up()
    assert (await client.delete(f"/api/v1/submissions/{sid}")).status_code == 204
    # Read again after the delete, as the recorder's and the intake's batches can be.
    await publish_results(running(sid), single_run_result(sid))
    await grader.produce(job)
    await recorder_caught_up()
    await grader.recorded()
    assert await fetch_row(sid) is None
    assert (await client.get(f"/api/v1/submissions/{sid}")).status_code == 404
