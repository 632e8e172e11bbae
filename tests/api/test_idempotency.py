"""``Idempotency-Key`` on ``POST /api/v1/submissions``: a retried POST (in sequence, concurrently, or after
the client gave up waiting) creates one submission and one job on Kafka; a key reused for another body,
still in use, or malformed is refused naming the header. Real API, MariaDB and Kafka."""

import asyncio
import hashlib
import secrets
from collections.abc import Awaitable, Callable
from datetime import timedelta
from typing import Any

import httpx
import pytest
import sqlalchemy as sa
from aiokafka import AIOKafkaConsumer, TopicPartition
from sqlalchemy.ext.asyncio import AsyncEngine

from api.idempotency.purge import purge_expired
from api.lib.clock import utcnow
from api.settings import ApiSettings
from common.tables import idempotency_keys
from schemas import decode_job
from tests.api.support import eventually, kafka_bootstrap

ReadJob = Callable[[str], Awaitable[tuple[bytes, bytes]]]
SUBMISSIONS = "/api/v1/submissions"


def program() -> dict[str, Any]:
    """A submission no other test sends (its source carries a random marker)."""
    return {"language": "python", "source": f"print('{secrets.token_hex(8)}')"}


def fresh_key() -> str:
    return f'"{secrets.token_hex(16)}"'


async def post(client: httpx.AsyncClient, body: dict[str, Any], key: str | None, **kw: Any) -> httpx.Response:
    headers = {"idempotency-key": key} if key is not None else {}
    return await client.post(SUBMISSIONS, json=body, headers=headers, **kw)


async def submissions_with(engine: AsyncEngine, source: str) -> list[str]:
    """The ids of the stored submissions of ``source``."""
    query = sa.text("SELECT id FROM submissions WHERE source = :s")
    async with engine.connect() as conn:
        return [row.id for row in await conn.execute(query, {"s": source})]


async def jobs_on_kafka(engine: AsyncEngine, settings: ApiSettings, source: str) -> list[str]:
    """The ids of the jobs of ``source`` on ``jobs.python``, once the outbox is empty (so every job that
    will ever be published from it is there)."""

    async def outbox_empty() -> bool | None:
        async with engine.connect() as conn:
            return True if await conn.scalar(sa.text("SELECT COUNT(*) FROM outbox")) == 0 else None

    await eventually(outbox_empty)
    topic = settings.topics.jobs("python")
    consumer = AIOKafkaConsumer(bootstrap_servers=kafka_bootstrap(), group_id=None)
    await consumer.start()
    try:
        partitions = [TopicPartition(topic, p) for p in range(settings.jobs_partitions)]
        consumer.assign(partitions)
        await consumer.seek_to_beginning(*partitions)
        ends = await consumer.end_offsets(partitions)
        found: list[str] = []

        async def behind() -> bool:
            return any([await consumer.position(tp) < ends[tp] for tp in partitions])

        while await behind():
            for records in (await consumer.getmany(timeout_ms=1000)).values():
                for record in records:
                    job = decode_job(record.value)
                    if job.source == source:
                        found.append(str(job.id))
        return found
    finally:
        await consumer.stop()


async def test_a_retried_post_gets_the_first_submission_and_runs_once(
    client: httpx.AsyncClient, engine: AsyncEngine, settings: ApiSettings, read_job: ReadJob
) -> None:
    body, key = program(), fresh_key()
    first = await post(client, body, key)
    assert first.status_code == 202, first.text
    assert "idempotent-replayed" not in first.headers
    # The same submission spelled differently (key order, a default made explicit) is the same request.
    again = await post(client, {"compare": "trim", **dict(reversed(body.items()))}, key)
    assert again.status_code == 202, again.text
    assert again.json() == first.json()
    assert again.headers["idempotent-replayed"] == "true"

    submission_id = first.json()["id"]
    await read_job(submission_id)
    assert await submissions_with(engine, body["source"]) == [submission_id]
    assert await jobs_on_kafka(engine, settings, body["source"]) == [submission_id]


async def test_concurrent_posts_with_one_key_create_one_submission(
    client: httpx.AsyncClient, engine: AsyncEngine, settings: ApiSettings
) -> None:
    body, key = program(), fresh_key()
    replies = await asyncio.gather(*(post(client, body, key) for _ in range(6)))
    # Each is the one submission, or (the first transaction still open after the wait) a 409 to retry.
    assert {r.status_code for r in replies} <= {202, 409}, [r.text for r in replies]
    ids = {r.json()["id"] for r in replies if r.status_code == 202}
    assert len(ids) == 1
    assert await submissions_with(engine, body["source"]) == list(ids)
    assert await jobs_on_kafka(engine, settings, body["source"]) == list(ids)


async def test_the_same_key_with_another_body_is_422_naming_the_header(
    client: httpx.AsyncClient, engine: AsyncEngine
) -> None:
    body, key = program(), fresh_key()
    assert (await post(client, body, key)).status_code == 202
    other = {**body, "stdin": "something else"}
    reply = await post(client, other, key)
    assert reply.status_code == 422
    assert reply.json()["error"]["code"] == "idempotency_key_reused"
    assert reply.json()["error"]["field"] == "Idempotency-Key"
    assert len(await submissions_with(engine, body["source"])) == 1


@pytest.mark.parametrize(
    ("key", "problem"),
    [
        ("", "is empty"),
        ('""', "is empty"),
        ("k" * 256, "256 characters long"),
        ("tab\tinside", "printable ASCII"),
        ('"\tquoted tab"', "printable ASCII"),
        ("clé", "printable ASCII"),
        ('"unterminated', "does not end"),
    ],
)
async def test_a_malformed_key_is_400_naming_the_header(
    client: httpx.AsyncClient, engine: AsyncEngine, key: str, problem: str
) -> None:
    body = program()
    reply = await client.post(SUBMISSIONS, json=body, headers=[(b"idempotency-key", key.encode("latin-1"))])
    assert reply.status_code == 400, reply.text
    error = reply.json()["error"]
    assert (error["code"], error["field"]) == ("invalid_idempotency_key", "Idempotency-Key")
    assert problem in error["message"]
    assert await submissions_with(engine, body["source"]) == []


async def test_a_key_sent_twice_in_one_request_is_400(client: httpx.AsyncClient) -> None:
    headers = [("idempotency-key", "a"), ("idempotency-key", "b")]
    reply = await client.post(SUBMISSIONS, json=program(), headers=headers)
    assert reply.status_code == 400
    assert reply.json()["error"]["field"] == "Idempotency-Key"


async def _hold_key(engine: AsyncEngine, key: str) -> tuple[Any, Any]:
    """Open a transaction that has inserted ``key``'s row and not committed: the state of a request with
    that key still being processed. Returns (connection, transaction)."""
    conn = await engine.connect()
    transaction = await conn.begin()
    await conn.execute(
        idempotency_keys.insert().values(
            key_hash=hashlib.sha256(key.strip('"').encode()).digest(),
            fingerprint=b"\0" * 32,
            submission_id="00000000-0000-4000-8000-000000000000",
            created_at=utcnow(),
        )
    )
    return conn, transaction


async def test_a_key_still_being_processed_is_409(client: httpx.AsyncClient, engine: AsyncEngine) -> None:
    body, key = program(), fresh_key()
    conn, transaction = await _hold_key(engine, key)
    try:
        reply = await post(client, body, key)
        assert reply.status_code == 409, reply.text
        assert reply.json()["error"] == {
            "code": "idempotency_key_in_use",
            "message": reply.json()["error"]["message"],
            "field": "Idempotency-Key",
        }
    finally:
        await transaction.rollback()
        await conn.close()
    # The first request never committed: the key is free, and the retry creates the submission.
    retry = await post(client, body, key)
    assert retry.status_code == 202
    assert await submissions_with(engine, body["source"]) == [retry.json()["id"]]


async def test_a_post_whose_client_timed_out_then_retried_gets_the_first_submission(
    client: httpx.AsyncClient, engine: AsyncEngine, settings: ApiSettings
) -> None:
    body, key = program(), fresh_key()
    # A slow first attempt: the server waits on the key's lock (up to idempotency_wait_s), the client
    # gives up first. The lock is then released, so the server goes on and creates the submission.
    conn, transaction = await _hold_key(engine, key)
    try:
        with pytest.raises(httpx.ReadTimeout):
            await post(client, body, key, timeout=httpx.Timeout(30, read=0.3))
    finally:
        await transaction.rollback()
        await conn.close()

    async def created_by_the_first_attempt() -> list[str] | None:
        return await submissions_with(engine, body["source"]) or None

    first_ids = await eventually(created_by_the_first_attempt)
    retry = await post(client, body, key)
    assert retry.status_code == 202, retry.text
    assert [retry.json()["id"]] == first_ids
    assert await jobs_on_kafka(engine, settings, body["source"]) == first_ids


async def test_expired_keys_are_purged_in_batches_and_free_again(
    client: httpx.AsyncClient, engine: AsyncEngine, settings: ApiSettings
) -> None:
    body, key = program(), fresh_key()
    first = await post(client, body, key)
    fresh = await post(client, program(), fresh_key())
    assert first.status_code == fresh.status_code == 202
    expired = utcnow() - timedelta(seconds=settings.idempotency_ttl_s + 60)
    async with engine.begin() as conn:
        await conn.execute(
            idempotency_keys.update()
            .where(idempotency_keys.c.submission_id == first.json()["id"])
            .values(created_at=expired)
        )
    # Expired but not purged yet: the key no longer names the old submission.
    again = await post(client, body, key)
    assert again.status_code == 202 and again.json()["id"] != first.json()["id"]

    async with engine.begin() as conn:
        await conn.execute(
            idempotency_keys.update()
            .where(idempotency_keys.c.submission_id != fresh.json()["id"])
            .values(created_at=expired)
        )
        stored = await conn.scalar(sa.select(sa.func.count()).select_from(idempotency_keys))
    assert stored is not None and stored >= 3
    assert await purge_expired(engine, ttl_s=settings.idempotency_ttl_s, batch=2) == stored - 1
    async with engine.connect() as conn:
        left = (await conn.execute(sa.select(idempotency_keys.c.submission_id))).scalars().all()
    assert left == [fresh.json()["id"]]
