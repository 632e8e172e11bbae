"""Retention: finished submissions older than ``EXECUTIONER_RETENTION_DAYS`` are deleted in batches, in
the background, while new submissions keep being stored; queued and recent ones stay."""

import asyncio
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncEngine

from api.db.tombstones import KEPT, deleted_among
from api.retention.purge import purge_old_submissions
from common.tables import deleted_submissions, submissions
from tests.api.keys.conftest import ADMIN, StartKeysApi
from tests.api.support import eventually

OLD_FINISHED = 10_000


def rows(count: int, *, age: timedelta, status: str) -> list[dict[str, Any]]:
    created = datetime.now(UTC).replace(tzinfo=None) - age
    finished = created if status == "finished" else None
    return [
        {
            "id": str(uuid.uuid4()),
            "language": "python",
            "source": "print(1)",
            "stdin": "",
            "spec": "{}",
            "status": status,
            "verdict": "accepted" if finished else None,
            "last_seq": 2,
            "origin": "http",
            "created_at": created,
            "finished_at": finished,
        }
        for _ in range(count)
    ]


async def insert(engine: AsyncEngine, values: list[dict[str, Any]]) -> None:
    for start in range(0, len(values), 1000):
        async with engine.begin() as conn:
            await conn.execute(submissions.insert(), values[start : start + 1000])


async def count(engine: AsyncEngine, ids: list[str]) -> int:
    async with engine.connect() as conn:
        found = await conn.scalar(sa.select(sa.func.count()).where(submissions.c.id.in_(ids)))
    return int(found or 0)


async def test_old_finished_submissions_are_purged_in_batches_while_submissions_continue(
    start_keys_api: StartKeysApi,
) -> None:
    async with start_keys_api() as api:
        old = rows(OLD_FINISHED, age=timedelta(days=40), status="finished")
        old_queued = rows(5, age=timedelta(days=40), status="queued")
        recent = rows(5, age=timedelta(days=1), status="finished")
        await insert(api.engine, old + old_queued + recent)

        async def keep_submitting() -> list[str]:
            ids = []
            async with httpx.AsyncClient(
                base_url=api.url, headers={"Authorization": f"Bearer {ADMIN}"}
            ) as http:
                while not purge.done():
                    reply = await http.post(
                        "/api/v1/submissions", json={"language": "python", "source": "print(1)"}
                    )
                    assert reply.status_code == 202, reply.text
                    ids.append(reply.json()["id"])
            return ids

        purge = asyncio.create_task(purge_old_submissions(api.engine, days=30, batch=500))
        accepted = await keep_submitting()
        assert await purge == OLD_FINISHED
        assert accepted, "no submission was made while the purge ran"
        assert await count(api.engine, [row["id"] for row in old]) == 0
        assert await count(api.engine, [row["id"] for row in old_queued + recent]) == 10
        assert await count(api.engine, accepted) == len(accepted)


async def test_the_api_purges_in_the_background(start_keys_api: StartKeysApi) -> None:
    async with start_keys_api(retention_days=30, retention_interval_s=0.2, retention_batch=7) as api:
        old = rows(20, age=timedelta(days=31), status="finished")
        kept = rows(3, age=timedelta(days=29), status="finished")
        await insert(api.engine, old + kept)

        async def purged() -> bool | None:
            return True if await count(api.engine, [row["id"] for row in old]) == 0 else None

        await eventually(purged)
        assert await count(api.engine, [row["id"] for row in kept]) == 3


async def test_the_ids_of_deleted_submissions_are_forgotten_after_a_week(
    start_keys_api: StartKeysApi,
) -> None:
    async with start_keys_api(retention_interval_s=0.2) as api:  # no retention_days: the ids still go
        now = datetime.now(UTC).replace(tzinfo=None)
        ages = {str(uuid.uuid4()): age for age in (KEPT + timedelta(hours=1), KEPT - timedelta(hours=1))}
        async with api.engine.begin() as conn:
            await conn.execute(
                deleted_submissions.insert(), [{"id": i, "deleted_at": now - age} for i, age in ages.items()]
            )
        old, recent = ages

        async def remembered() -> set[str]:
            async with api.engine.connect() as conn:
                return await deleted_among(conn, set(ages))

        async def old_forgotten() -> bool | None:
            return True if await remembered() == {recent} else None

        await eventually(old_forgotten)
        assert old not in await remembered()
