"""With ``EXECUTIONER_AUTH=keys``, a job produced straight to Kafka for a submitter key (``key_id``) runs
only while that key may be used: a job of an unknown, revoked or expired key is dead-lettered with the
reason, by a real worker reading the real ``api_keys`` table."""

import asyncio
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

import orjson
import sqlalchemy as sa
from aiokafka import AIOKafkaProducer
from sqlalchemy.ext.asyncio import AsyncEngine

from common.tables import api_keys
from schemas.deadletter import DeadLetterHeaders
from schemas.topics import Topics
from tests.worker.test_worker_finished import all_results, database, ran_here, topics, worker_settings
from tests.worker.test_worker_kafka import read_all
from worker.service import serve

__all__ = ["database", "topics"]  # fixtures, imported to be used here


async def add_key(engine: AsyncEngine, key_id: str, **values: object) -> None:
    row = {
        "id": key_id,
        "name": key_id,
        "token_hash": uuid.uuid4().bytes * 2,
        "scopes": "submit read",
        "created_at": datetime.now(UTC).replace(tzinfo=None),
    }
    async with engine.begin() as conn:
        await conn.execute(sa.insert(api_keys).values(row | values))


async def test_jobs_of_unknown_revoked_or_expired_keys_are_dead_lettered(
    database: tuple[AsyncEngine, str], topics: Topics, kafka_bootstrap: str, tmp_path: Path
) -> None:
    engine, worker_url = database
    now = datetime.now(UTC).replace(tzinfo=None)
    await add_key(engine, "key_valid")
    await add_key(engine, "key_later", expires_at=now + timedelta(days=1))
    await add_key(engine, "key_revoked", revoked_at=now)
    await add_key(engine, "key_expired", expires_at=now - timedelta(seconds=1))
    jobs = {
        name: uuid.uuid4() for name in ("key_valid", "key_later", "key_revoked", "key_expired", "key_none")
    }
    producer = AIOKafkaProducer(bootstrap_servers=kafka_bootstrap)
    await producer.start()
    try:
        for key_id, job_id in jobs.items():
            value = {
                "v": 1,
                "id": str(job_id),
                "language": "python",
                "source": "print('ran')",
                "key_id": key_id,
            }
            await producer.send_and_wait(
                topics.jobs("python"), key=str(job_id).encode(), value=orjson.dumps(value)
            )
    finally:
        await producer.stop()

    settings = worker_settings(topics, kafka_bootstrap, tmp_path, database_url=worker_url, auth="keys")
    assert await serve(settings, stop=asyncio.Event()) == 0

    dead = await read_all(kafka_bootstrap, topics.dead_letter, count=3)
    reasons = {
        record.key.decode(): dict(record.headers)[DeadLetterHeaders.REASON].decode() for record in dead
    }
    assert reasons == {
        str(jobs["key_revoked"]): "key key_revoked was revoked",
        str(jobs["key_expired"]): "key key_expired expired",
        str(jobs["key_none"]): "unknown key key_none",
    }
    events = await all_results(kafka_bootstrap, topics)
    assert set(events) == {jobs["key_valid"], jobs["key_later"]}
    assert all(ran_here(events[job_id]) for job_id in events)
