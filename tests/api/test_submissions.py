"""Accepting a submission is durable (row + outbox in one transaction) and the relay publishes the job."""

from collections.abc import Awaitable, Callable
from typing import Any
from uuid import UUID

import httpx
import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncEngine

from api.settings import ApiSettings
from schemas import JobMessage, Limits, decode_job
from tests.api.support import eventually, submit

ReadJob = Callable[[str], Awaitable[tuple[bytes, bytes]]]
FetchRow = Callable[[UUID | str], Awaitable[dict[str, Any] | None]]


async def test_accepted_submission_is_stored_and_published_as_its_job(
    client: httpx.AsyncClient, fetch_row: FetchRow, read_job: ReadJob, api_url: str
) -> None:
    body = {
        "language": "python",
        "source": "print(input())",
        "tests": [{"stdin": "1\n", "expected_output": "1\n"}, {"expected_output": "\n"}],
        "limits": {"time_ms": 500, "memory_mb": 64},
        "compare": {"mode": "float", "tolerance": 0.001},
        "stop_on_first_failure": True,
    }
    accepted = await submit(client, **body)
    assert accepted["status"] == "queued"
    assert accepted["events"] == f"{api_url}/api/v1/submissions/{accepted['id']}/events"

    row = await fetch_row(accepted["id"])
    assert row is not None
    assert (row["language"], row["source"], row["status"], row["origin"]) == (
        "python",
        body["source"],
        "queued",
        "http",
    )

    key, value = await read_job(accepted["id"])
    assert key == accepted["id"].encode()
    job = decode_job(value)
    assert job == JobMessage.model_validate({**body, "id": accepted["id"]})
    assert job.limits == Limits(time_ms=500, memory_mb=64)


async def test_outbox_row_is_deleted_once_kafka_acknowledged_it(
    client: httpx.AsyncClient, engine: AsyncEngine, read_job: ReadJob
) -> None:
    accepted = await submit(client)
    await read_job(accepted["id"])

    async def outbox_empty() -> bool | None:
        async with engine.connect() as conn:
            left = await conn.scalar(sa.text("SELECT COUNT(*) FROM outbox"))
        return True if left == 0 else None

    assert await eventually(outbox_empty)


async def test_get_shows_a_queued_submission(client: httpx.AsyncClient) -> None:
    accepted = await submit(client, limits={"time_ms": 1000})
    reply = await client.get(f"/api/v1/submissions/{accepted['id']}")
    assert reply.status_code == 200
    assert reply.headers["content-type"].startswith("application/json")
    view = reply.json()
    assert view["id"] == accepted["id"]
    assert (view["status"], view["verdict"], view["finished_at"], view["stdout"], view["tests"]) == (
        "queued",
        None,
        None,
        None,
        None,
    )
    assert view["created_at"].endswith("Z")
    assert view["limits"] == {"time_ms": 1000, "wall_ms": 3000, "memory_mb": 256, "output_kb": 64}


async def test_unknown_and_malformed_ids_are_404_in_the_error_shape(client: httpx.AsyncClient) -> None:
    for path in (
        "/api/v1/submissions/00000000-0000-4000-8000-000000000000",
        "/api/v1/submissions/not-a-uuid",
        "/api/v1/submissions/00000000-0000-4000-8000-000000000000/events",
        "/api/v1/nothing-here",
    ):
        reply = await client.get(path)
        assert reply.status_code == 404, path
        assert reply.json()["error"]["code"] == "not_found", path


async def test_only_the_canonical_spelling_of_an_id_names_a_submission(client: httpx.AsyncClient) -> None:
    sid = (await submit(client))["id"]
    assert (await client.get(f"/api/v1/submissions/{sid.upper()}")).status_code == 200
    hexdigits = sid.replace("-", "")
    # UUID() takes all of these as the same id; the API hands out one spelling and answers only to it.
    for alias in (
        hexdigits,
        f"{{{sid}}}",
        f"urn:uuid:{sid}",
        "_".join(hexdigits[i : i + 2] for i in range(0, 32, 2)),
    ):
        reply = await client.get(f"/api/v1/submissions/{alias}")
        assert reply.status_code == 404, alias
        assert reply.json()["error"]["code"] == "not_found"


async def test_wrong_method_is_405_in_the_error_shape(client: httpx.AsyncClient) -> None:
    reply = await client.delete("/api/v1/submissions")
    assert reply.status_code == 405
    assert reply.json()["error"]["code"] == "method_not_allowed"


async def test_unpublishable_job_finishes_as_internal_error_and_others_still_flow(
    client: httpx.AsyncClient,
    engine: AsyncEngine,
    settings: ApiSettings,
    fetch_row: FetchRow,
    read_job: ReadJob,
) -> None:
    # A job larger than any Kafka message (the API refuses those; the relay must survive one anyway).
    huge = JobMessage(id=UUID(int=7), language="python", source="print(1)", stdin="x" * 1_100_000)
    async with engine.begin() as conn:
        await conn.execute(
            sa.text(
                "INSERT INTO submissions (id, language, source, stdin, spec, status, origin, created_at)"
                " VALUES (:id, 'python', 'print(1)', '', '{}', 'queued', 'http', NOW(6))"
            ),
            {"id": str(huge.id)},
        )
        await conn.execute(
            sa.text("INSERT INTO outbox (topic, msg_key, payload, created_at) VALUES (:t, :k, :p, NOW(6))"),
            {
                "t": settings.topics.jobs("python"),
                "k": str(huge.id).encode(),
                "p": huge.model_dump_json().encode(),
            },
        )
    after = await submit(client)

    await read_job(after["id"])
    poisoned = await eventually(lambda: _finished(fetch_row, huge.id))
    assert poisoned["verdict"] == "internal_error"
    view = (await client.get(f"/api/v1/submissions/{huge.id}")).json()
    assert view["status"] == "finished" and view["verdict"] == "internal_error"
    assert "could not be queued" in view["message"]


async def _finished(fetch_row: FetchRow, submission_id: UUID) -> dict[str, Any] | None:
    row = await fetch_row(submission_id)
    return row if row and row["status"] == "finished" else None
