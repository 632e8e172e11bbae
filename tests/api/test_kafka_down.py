"""With Kafka unreachable the API still starts, stays alive, accepts (durably) and says it is not ready."""

from collections.abc import AsyncIterator, Awaitable, Callable

import httpx
import pytest
import sqlalchemy as sa
from sqlalchemy.ext.asyncio import create_async_engine

from api.app import create_app
from api.settings import ApiSettings
from devstack import processes
from tests.api.support import make_settings, serve, submit


@pytest.fixture
async def kafkaless(
    new_database: Callable[[], Awaitable[str]],
) -> AsyncIterator[tuple[httpx.AsyncClient, ApiSettings]]:
    """An API whose Kafka bootstrap address has no broker behind it, with a database of its own."""
    settings = make_settings(
        await new_database(), "tdown.", kafka_bootstrap=f"127.0.0.1:{processes.free_port()}"
    )
    async with serve(create_app(settings)) as url, httpx.AsyncClient(base_url=url, timeout=30) as client:
        yield client, settings


async def test_api_without_kafka_accepts_and_reports_not_ready(
    kafkaless: tuple[httpx.AsyncClient, ApiSettings],
) -> None:
    client, settings = kafkaless
    assert (await client.get("/healthz")).status_code == 200

    ready = await client.get("/readyz")
    assert ready.status_code == 503
    assert ready.json() == {
        "status": "unavailable",
        "checks": {"mysql": "ok", "kafka": "down", "results": "down"},
    }

    accepted = await submit(client)
    assert (await client.get(f"/api/v1/submissions/{accepted['id']}")).json()["status"] == "queued"
    engine = create_async_engine(settings.database_url)
    try:
        async with engine.connect() as conn:
            waiting = (await conn.execute(sa.text("SELECT msg_key FROM outbox"))).scalars().all()
    finally:
        await engine.dispose()
    assert waiting == [accepted["id"].encode()], "the job waits in the outbox until Kafka is back"
