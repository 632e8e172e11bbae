"""Cross-origin defences: request bodies must be declared JSON (so a page elsewhere cannot send them without
a CORS preflight), and CORS answers only the origins ``EXECUTIONER_CORS_ORIGINS`` lists."""

from collections.abc import AsyncIterator, Callable

import httpx
import pytest
import sqlalchemy as sa
from pydantic import ValidationError
from sqlalchemy.ext.asyncio import AsyncEngine

from api.app import create_app
from api.settings import ApiSettings
from tests.api.conftest import NewDatabase
from tests.api.support import make_settings, serve

BODY = b'{"language": "python", "source": "print(1)"}'
POOLS = "/api/v1/admin/pools/python"
ALLOWED = "https://grader.example"

NOT_JSON = [
    "text/plain",
    "text/plain;charset=UTF-8",
    "application/x-www-form-urlencoded",
    "multipart/form-data; boundary=x",
    "text/json",
    "application/jsonp",
    "application/+json",
    "application/json; charset=latin-1",
    "",
]


async def _submissions(engine: AsyncEngine) -> int:
    async with engine.connect() as conn:
        return int(await conn.scalar(sa.text("SELECT COUNT(*) FROM submissions")) or 0)


def _assert_415(reply: httpx.Response) -> None:
    assert reply.status_code == 415, reply.text
    assert reply.headers["content-type"].startswith("application/json")
    error = reply.json()["error"]
    assert (error["code"], error["field"]) == ("unsupported_media_type", "content-type")
    assert "application/json" in error["message"], "the error says what is accepted"


@pytest.mark.parametrize("content_type", NOT_JSON)
async def test_a_submission_not_declared_json_is_415_and_not_stored(
    client: httpx.AsyncClient, engine: AsyncEngine, content_type: str
) -> None:
    before = await _submissions(engine)
    headers = {"content-type": content_type} if content_type else {}
    # httpx adds no content-type of its own to raw content; "" means the header is absent.
    reply = await client.post("/api/v1/submissions", content=BODY, headers=headers)
    _assert_415(reply)
    assert await _submissions(engine) == before


@pytest.mark.parametrize(
    "content_type", ["application/json", "Application/JSON; charset=UTF-8", "application/vnd.grader+json"]
)
async def test_json_in_utf8_is_accepted(client: httpx.AsyncClient, content_type: str) -> None:
    reply = await client.post("/api/v1/submissions", content=BODY, headers={"content-type": content_type})
    assert reply.status_code == 202, reply.text


async def test_the_admin_api_wants_json_too(admin: httpx.AsyncClient) -> None:
    reply = await admin.put(POOLS, content=b'{"replicas": 1}', headers={"content-type": "text/plain"})
    _assert_415(reply)


async def test_without_configured_origins_there_are_no_cors_headers(client: httpx.AsyncClient) -> None:
    origin = {"origin": ALLOWED}
    preflight = await client.options(
        "/api/v1/submissions",
        headers={
            **origin,
            "access-control-request-method": "POST",
            "access-control-request-headers": "content-type",
        },
    )
    read = await client.get("/api/v1/languages", headers=origin)
    for reply in (preflight, read):
        assert not [h for h in reply.headers if h.startswith("access-control-")], reply.headers


@pytest.fixture(scope="module")
async def cors_api(new_database: NewDatabase, new_topic_prefix: Callable[[], str]) -> AsyncIterator[str]:
    """An API that lets ``ALLOWED``'s pages call it."""
    settings = make_settings(await new_database(), new_topic_prefix(), cors_origins=ALLOWED)
    async with serve(create_app(settings)) as url:
        yield url


async def test_a_listed_origin_may_submit_and_read(cors_api: str) -> None:
    async with httpx.AsyncClient(base_url=cors_api, timeout=30) as http:
        preflight = await http.options(
            "/api/v1/submissions",
            headers={
                "origin": ALLOWED,
                "access-control-request-method": "POST",
                "access-control-request-headers": "content-type",
            },
        )
        assert preflight.status_code in (200, 204), preflight.text
        assert preflight.headers["access-control-allow-origin"] == ALLOWED
        assert "POST" in preflight.headers["access-control-allow-methods"]
        assert "content-type" in preflight.headers["access-control-allow-headers"].lower()
        assert "access-control-allow-credentials" not in preflight.headers
        read = await http.get("/api/v1/languages", headers={"origin": ALLOWED})
        assert read.headers["access-control-allow-origin"] == ALLOWED


async def test_other_origins_and_the_admin_api_get_no_cors(cors_api: str) -> None:
    async with httpx.AsyncClient(base_url=cors_api, timeout=30) as http:
        stranger = await http.options(
            "/api/v1/submissions",
            headers={"origin": "https://evil.example", "access-control-request-method": "POST"},
        )
        assert stranger.headers.get("access-control-allow-origin") is None
        admin = await http.options(
            POOLS,
            headers={
                "origin": ALLOWED,
                "access-control-request-method": "PUT",
                "access-control-request-headers": "authorization, content-type",
            },
        )
        assert admin.status_code >= 400 or admin.headers.get("access-control-allow-origin") is None


@pytest.mark.parametrize(
    "origins",
    ["https://grader.example/", "https://*.example", "grader.example", "https://user@grader.example"],
)
def test_a_setting_that_is_not_an_origin_is_refused(origins: str) -> None:
    with pytest.raises(ValidationError, match="not an origin"):
        ApiSettings(cors_origins=origins)


def test_origins_are_comma_separated() -> None:
    settings = ApiSettings(cors_origins=" https://a.example, http://127.0.0.1:8080 ")
    assert settings.cors_origins == ["https://a.example", "http://127.0.0.1:8080"]
