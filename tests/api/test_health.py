"""Liveness, readiness, the languages list and the OpenAPI document."""

import httpx
import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncEngine


async def test_healthz_says_ok(client: httpx.AsyncClient) -> None:
    reply = await client.get("/healthz")
    assert reply.status_code == 200
    assert reply.json() == {"status": "ok"}


async def test_readyz_checks_mysql_and_kafka(client: httpx.AsyncClient) -> None:
    reply = await client.get("/readyz")
    assert reply.status_code == 200
    assert reply.json() == {"status": "ok", "checks": {"mysql": "ok", "kafka": "ok", "results": "ok"}}


async def test_languages_come_from_the_runtimes_with_versions_from_mysql(
    client: httpx.AsyncClient, engine: AsyncEngine
) -> None:
    before = {entry["id"]: entry for entry in (await client.get("/api/v1/languages")).json()}
    assert (before["python"]["name"], before["python"]["version"]) == ("Python 3", None)

    async with engine.begin() as conn:
        await conn.execute(
            sa.text(
                "INSERT INTO runtime_versions (language, image_id, version, updated_at)"
                " VALUES ('python', 'sha256:feed', 'Python 3.11.2', NOW(6))"
            )
        )
    try:
        after = {entry["id"]: entry for entry in (await client.get("/api/v1/languages")).json()}
    finally:
        async with engine.begin() as conn:
            await conn.execute(sa.text("DELETE FROM runtime_versions"))
    assert after["python"]["version"] == "Python 3.11.2"


async def test_openapi_documents_the_endpoints(client: httpx.AsyncClient) -> None:
    reply = await client.get("/schema/openapi.json")
    assert reply.status_code == 200
    paths = reply.json()["paths"]
    post = paths["/api/v1/submissions"]["post"]
    body = post["requestBody"]["content"]["application/json"]["schema"]
    assert body["required"] == ["language"] and {"source", "source_b64"} <= set(body["properties"])
    assert {"202", "400", "413", "422"} <= set(post["responses"])
    assert "/api/v1/submissions/{submission_id}/events" in paths
    assert "/readyz" in paths
