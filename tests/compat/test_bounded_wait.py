"""The synchronous requests' server-side bound, on a real API with no workers (every job stays queued):
after ``EXECUTIONER_COMPAT_WAIT_S`` the native ``wait=true`` answers 202 as without it, Judge0's
``wait=true`` with the unfinished submission (status 1), Piston's execute with a 504 naming the
submission, which is kept."""

import secrets
from collections.abc import AsyncIterator

import httpx
import pytest
import sqlalchemy as sa
from aiokafka.admin import AIOKafkaAdminClient
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import create_async_engine

from api.app import create_app
from tests.api.support import database_url, kafka_bootstrap, make_settings, serve
from tests.fixtures.waiting import eventually

WAIT_S = 1.5


@pytest.fixture(scope="module")
async def api_without_workers() -> AsyncIterator[str]:
    name, prefix = f"executioner_t_{secrets.token_hex(4)}", f"tcompat{secrets.token_hex(3)}."
    admin = create_async_engine(database_url())
    async with admin.begin() as conn:
        await conn.execute(sa.text(f"CREATE DATABASE `{name}` CHARACTER SET utf8mb4"))
    url = make_url(database_url()).set(database=name).render_as_string(hide_password=False)
    settings = make_settings(url, prefix, compat_wait_s=WAIT_S)
    try:
        async with serve(create_app(settings)) as api, httpx.AsyncClient(base_url=api) as http:

            async def ready() -> bool | None:
                return True if (await http.get("/readyz")).status_code == 200 else None

            await eventually(ready, within_s=60)
            yield api
    finally:
        async with admin.begin() as conn:
            await conn.execute(sa.text(f"DROP DATABASE IF EXISTS `{name}`"))
        await admin.dispose()
        kafka = AIOKafkaAdminClient(bootstrap_servers=kafka_bootstrap())
        await kafka.start()
        try:
            ours = [t for t in await kafka.list_topics() if t.startswith(prefix)]
            if ours:
                await kafka.delete_topics(ours)
        finally:
            await kafka.close()


async def test_judge0_wait_gives_up_after_the_bound_with_the_queued_submission(
    api_without_workers: str,
) -> None:
    async with httpx.AsyncClient(base_url=f"{api_without_workers}/judge0", timeout=30) as judge0:
        reply = await judge0.post(
            "/submissions", json={"source_code": "print(1)", "language_id": 71}, params={"wait": "true"}
        )
        assert reply.status_code == 201
        view = reply.json()
        assert view["status"] == {"id": 1, "description": "In Queue"} and view["stdout"] is None
        assert reply.elapsed.total_seconds() >= WAIT_S
        again = await judge0.get(f"/submissions/{view['token']}")
        assert again.json()["status"]["id"] == 1


async def test_piston_execute_gives_up_after_the_bound_naming_the_submission(
    api_without_workers: str,
) -> None:
    async with httpx.AsyncClient(base_url=api_without_workers, timeout=30) as http:
        body = {"language": "python", "version": "*", "files": [{"content": "print(1)"}]}
        reply = await http.post("/api/v2/execute", json=body)
        assert reply.status_code == 504
        message = reply.json()["message"]
        assert f"within {WAIT_S:g} s" in message
        submission_id = message.rsplit(" ", 1)[-1]
        stored = await http.get(f"/api/v1/submissions/{submission_id}")
        assert stored.status_code == 200 and stored.json()["status"] == "queued"


async def test_native_wait_gives_up_after_the_bound_with_the_accepted_answer(
    api_without_workers: str,
) -> None:
    async with httpx.AsyncClient(base_url=api_without_workers, timeout=30) as http:
        body = {"language": "python", "source": "print(1)"}
        reply = await http.post("/api/v1/submissions", json=body, params={"wait": "true"})
        assert reply.status_code == 202, reply.text
        accepted = reply.json()
        assert accepted["status"] == "queued" and accepted["events"].endswith("/events")
        assert reply.elapsed.total_seconds() >= WAIT_S
        stored = await http.get(f"/api/v1/submissions/{accepted['id']}")
        assert stored.json()["status"] == "queued"


async def test_native_wait_must_be_true_or_false(api_without_workers: str) -> None:
    async with httpx.AsyncClient(base_url=api_without_workers, timeout=30) as http:
        body = {"language": "python", "source": "print(1)"}
        reply = await http.post("/api/v1/submissions", json=body, params={"wait": "yes"})
    assert reply.status_code == 400
    assert reply.json()["error"]["field"] == "wait"
