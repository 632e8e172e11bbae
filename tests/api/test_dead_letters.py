"""Dead letters (produced here with the headers workers put on them) are recorded once each, counted per
pool in ``GET /api/v1/admin/pools`` and listed by ``GET /api/v1/admin/dead-letters``."""

import asyncio
import secrets
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Any
from uuid import uuid4

import httpx
import orjson
import pytest
import sqlalchemy as sa
from aiokafka import AIOKafkaProducer
from sqlalchemy.ext.asyncio import AsyncEngine

from api.deadletters.recorder import DeadLetters
from api.lib.consumer import MySQLConsumer
from api.settings import ApiSettings
from schemas import DeadLetterHeaders
from tests.api.support import kafka_bootstrap

CaughtUp = Callable[[], Awaitable[None]]
FetchRow = Callable[[str], Awaitable[dict[str, Any] | None]]
DEAD_LETTERS = "/api/v1/admin/dead-letters"

pytestmark = pytest.mark.usefixtures("topics_exist")


@dataclass(frozen=True)
class Worker:
    """Stands in for the workers: dead-letters records, and produces jobs as a grader would."""

    producer: AIOKafkaProducer
    settings: ApiSettings
    recorded: CaughtUp
    """Returns once the API has recorded every dead letter produced so far."""

    async def reject(
        self,
        key: bytes | None,
        value: bytes | None,
        reason: str,
        *,
        language: str = "python",
        offset: int = 7,
        result_published: bool = False,
    ) -> None:
        """Dead-letter a record of ``jobs.<language>`` (partition 1 at ``offset``), as worker-t does
        (``result_published``: as for a poison job, whose result the worker publishes itself)."""
        topic = self.settings.topics.jobs(language)
        headers = DeadLetterHeaders.build(
            reason=reason,
            topic=topic,
            partition=1,
            offset=offset,
            worker="worker-t",
            result_published=result_published,
        )
        await self.producer.send_and_wait(self.settings.topics.dead_letter, value, key=key, headers=headers)

    async def submit(self, job: dict[str, Any]) -> None:
        """Produce ``job`` to ``jobs.python``, keyed by its id."""
        await self.producer.send_and_wait(
            self.settings.topics.jobs("python"), orjson.dumps(job), key=job["id"].encode()
        )


@pytest.fixture
def worker(producer: AIOKafkaProducer, settings: ApiSettings, dead_letters_caught_up: CaughtUp) -> Worker:
    """Dead-letters to the session API's topics."""
    return Worker(producer, settings, dead_letters_caught_up)


async def pool_counts(admin: httpx.AsyncClient) -> dict[str, int]:
    """``dead_letters`` of every pool in ``GET /api/v1/admin/pools``."""
    reply = await admin.get("/api/v1/admin/pools")
    assert reply.status_code == 200, reply.text
    return {pool["language"]: pool["dead_letters"] for pool in reply.json()["pools"]}


async def listing(admin: httpx.AsyncClient, **params: Any) -> dict[str, Any]:
    """``GET /api/v1/admin/dead-letters`` with ``params``."""
    reply = await admin.get(DEAD_LETTERS, params=params)
    assert reply.status_code == 200, reply.text
    found: dict[str, Any] = reply.json()
    return found


def job(**fields: Any) -> dict[str, Any]:
    """A valid python job with a fresh id."""
    return {"v": 1, "id": str(uuid4()), "language": "python", "source": "print(1)", **fields}


async def test_dead_letters_are_recorded_counted_per_pool_and_listed_newest_first(
    admin: httpx.AsyncClient, worker: Worker
) -> None:
    before = await pool_counts(admin)
    await worker.reject(b"k-1", b"{not json", "not JSON: unexpected character", offset=11)
    await worker.reject(b"\xff\xfek", b"\xff" * 1000, "not JSON: invalid UTF-8", offset=12)
    await worker.reject(b"k-3", None, "empty message (no value)", offset=13)
    await worker.reject(b"k-4", b"{}", "language 'python' sent to the 'java' workers", language="java")
    await worker.recorded()

    after = await pool_counts(admin)
    assert {language: after[language] - before[language] for language in after} == {
        **dict.fromkeys(after, 0),
        "python": 3,
        "java": 1,
    }

    found = await listing(admin, language="python", limit=3)
    assert found["total"] == after["python"]
    tombstone, binary, garbage = found["dead_letters"]
    assert [tombstone["reason"], binary["reason"], garbage["reason"]] == [
        "empty message (no value)",
        "not JSON: invalid UTF-8",
        "not JSON: unexpected character",
    ]
    assert garbage["language"] == "python"
    assert garbage["worker"] == "worker-t"
    assert garbage["key"] == "k-1"
    assert (garbage["value_bytes"], garbage["preview"], garbage["job_id"]) == (9, "{not json", None)
    assert garbage["source"] == {"topic": worker.settings.topics.jobs("python"), "partition": 1, "offset": 11}
    assert garbage["position"]["partition"] == 0
    assert garbage["received_at"].endswith("Z")
    assert binary["key"] == "\\xff\\xfek"
    assert binary["value_bytes"] == 1000
    assert binary["preview"] == "\ufffd" * 300
    assert (tombstone["key"], tombstone["value_bytes"], tombstone["preview"]) == ("k-3", None, None)
    newest = await listing(admin)
    assert newest["dead_letters"][0]["language"] == "java"
    assert newest["total"] == sum(after.values())


async def test_a_limit_cuts_the_listing_but_not_the_total(admin: httpx.AsyncClient, worker: Worker) -> None:
    for offset in range(3):
        await worker.reject(b"k", b"x", f"reason {offset}", offset=offset)
    await worker.recorded()

    found = await listing(admin, language="python", limit=2)
    assert [d["reason"] for d in found["dead_letters"]] == ["reason 2", "reason 1"]
    assert found["total"] >= 3


async def test_replayed_dead_letters_are_recorded_once(
    worker: Worker,
    engine: AsyncEngine,
    group_caught_up: Callable[[str, Sequence[str]], Awaitable[None]],
) -> None:
    await worker.reject(b"replayed", b"{", "not JSON")
    await worker.recorded()
    count = sa.text("SELECT COUNT(*) FROM dead_letters")
    async with engine.connect() as conn:
        recorded = await conn.scalar(count)

    # A second group reads the whole topic again: every dead letter is delivered a second time.
    group, topic = f"replay-{secrets.token_hex(3)}", worker.settings.topics.dead_letter
    ready = asyncio.Event()
    ready.set()
    replay = MySQLConsumer(
        name="replay",
        sink=DeadLetters(worker.settings.topics),
        engine=engine,
        bootstrap=kafka_bootstrap(),
        topics=[topic],
        group_id=group,
        topics_ready=ready,
    )
    task = asyncio.create_task(replay.run())
    try:
        await group_caught_up(group, [topic])
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)

    async with engine.connect() as conn:
        assert await conn.scalar(count) == recorded


async def test_a_job_the_workers_gave_up_on_finishes_with_internal_error(
    client: httpx.AsyncClient, worker: Worker, intake_caught_up: CaughtUp, fetch_row: FetchRow
) -> None:
    poison = job()
    await worker.submit(poison)
    await intake_caught_up()
    await worker.reject(poison["id"].encode(), orjson.dumps(poison), "killed its worker 3 times")
    await worker.recorded()

    view = (await client.get(f"/api/v1/submissions/{poison['id']}")).json()
    assert (view["status"], view["verdict"], view["origin"]) == ("finished", "internal_error", "kafka")
    assert "killed its worker 3 times" in view["message"]
    row = await fetch_row(poison["id"])
    assert row is not None and row["last_seq"] == 1


async def test_a_dead_letter_recorded_before_its_job_still_ends_it(
    worker: Worker, intake_caught_up: CaughtUp, fetch_row: FetchRow
) -> None:
    rejected = job()
    await worker.reject(rejected["id"].encode(), orjson.dumps(rejected), "source is larger than 10 bytes")
    await worker.recorded()
    await worker.submit(rejected)
    await intake_caught_up()

    row = await fetch_row(rejected["id"])
    assert row is not None
    assert (row["status"], row["verdict"]) == ("finished", "internal_error")


async def test_a_poison_job_is_finished_by_its_result_alone(
    worker: Worker, intake_caught_up: CaughtUp, fetch_row: FetchRow
) -> None:
    """One owner of a poison job's final word: the worker's result, never the dead letter as well (which
    would race it with another message), whichever of the job and its dead letter is recorded first."""
    before, after = job(), job()
    await worker.reject(before["id"].encode(), orjson.dumps(before), "poison", result_published=True)
    await worker.recorded()
    for poison in (before, after):
        await worker.submit(poison)
    await intake_caught_up()
    await worker.reject(after["id"].encode(), orjson.dumps(after), "poison", result_published=True)
    await worker.recorded()

    for poison in (before, after):
        row = await fetch_row(poison["id"])
        assert row is not None and row["status"] == "queued", row


async def test_dead_letters_that_are_not_the_job_leave_it_alone(
    worker: Worker, intake_caught_up: CaughtUp, fetch_row: FetchRow
) -> None:
    valid = job()
    await worker.submit(valid)
    await intake_caught_up()
    key = valid["id"].encode()
    await worker.reject(key, b"garbage under its key", "not JSON")
    await worker.reject(
        key, orjson.dumps(valid), "language 'python' sent to the 'java' workers", language="java"
    )
    await worker.recorded()

    row = await fetch_row(valid["id"])
    assert row is not None and row["status"] == "queued"


async def test_the_route_needs_the_admin_token(api_url: str) -> None:
    async with httpx.AsyncClient(base_url=api_url) as http:
        missing = await http.get(DEAD_LETTERS)
        wrong = await http.get(DEAD_LETTERS, headers={"Authorization": "Bearer wrong"})
    assert (missing.status_code, missing.json()["error"]["code"]) == (401, "unauthorized")
    assert missing.headers["www-authenticate"].startswith("Bearer")
    assert (wrong.status_code, wrong.json()["error"]["code"]) == (403, "forbidden")


@pytest.mark.parametrize(
    ("params", "code", "field", "words"),
    [
        ({"limit": "0"}, "validation_error", "limit", "from 1 to 500"),
        ({"limit": "501"}, "validation_error", "limit", "from 1 to 500"),
        ({"limit": "-1"}, "validation_error", "limit", "whole number"),
        ({"limit": "2.0"}, "validation_error", "limit", "whole number"),
        ({"limit": "ten"}, "validation_error", "limit", "whole number"),
        ({"limit": ""}, "validation_error", "limit", "whole number"),
        # str.isdigit() is true for these; int() refuses the first and takes the second
        ({"limit": "\u00b2"}, "validation_error", "limit", "whole number"),
        ({"limit": "\uff15"}, "validation_error", "limit", "whole number"),
        ({"limit": "1_0"}, "validation_error", "limit", "whole number"),
        ({"limit": "9" * 5000}, "validation_error", "limit", "whole number"),
        ({"language": "cobol"}, "unknown_language", "language", "cobol"),
        ({"lang": "python"}, "validation_error", "lang", "unknown query parameter"),
    ],
)
async def test_invalid_queries_are_422_naming_the_field(
    admin: httpx.AsyncClient, params: dict[str, str], code: str, field: str, words: str
) -> None:
    reply = await admin.get(DEAD_LETTERS, params=params)
    assert reply.status_code == 422, reply.text
    error = reply.json()["error"]
    assert (error["code"], error["field"]) == (code, field)
    assert words in error["message"]


async def test_the_route_is_in_the_openapi_document(client: httpx.AsyncClient) -> None:
    operation = (await client.get("/schema/openapi.json")).json()["paths"][DEAD_LETTERS]["get"]
    assert {p["name"] for p in operation["parameters"]} == {"language", "limit"}
