"""Submitter keys on a real API and MariaDB (``EXECUTIONER_AUTH=keys``): their lifecycle through the
admin API, and every submission route refusing a missing, wrong, revoked or expired key, or one
without the route's scope."""

import hashlib
import hmac
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
import sqlalchemy as sa

from tests.api.keys.conftest import ADMIN, AUTH_SECRET, KEYS, Key, KeysApi, NewKey, make_key

SUBMISSION = {"language": "python", "source": "print(42)"}
JUDGE0 = {"source_code": "print(1)", "language_id": 71}
PISTON = {"language": "python", "version": "*", "files": [{"content": "print(1)"}]}

# (method, path, scope it needs, body); {id} is a submission of the key that owns it.
ENDPOINTS: list[tuple[str, str, str, Any]] = [
    ("POST", "/api/v1/submissions", "submit", SUBMISSION),
    ("GET", "/api/v1/submissions/{id}", "read", None),
    ("GET", "/api/v1/submissions/{id}/events", "read", None),
    ("GET", "/api/v1/submissions/{id}/share", "read", None),
    ("DELETE", "/api/v1/submissions/{id}", "submit", None),
    ("GET", "/s/{id}", "read", None),
    ("POST", "/judge0/submissions", "submit", JUDGE0),
    ("POST", "/judge0/submissions/batch", "submit", {"submissions": [JUDGE0]}),
    ("GET", "/judge0/submissions/{id}", "read", None),
    ("GET", "/judge0/submissions/batch?tokens={id}", "read", None),
    ("POST", "/api/v2/execute", "submit", PISTON),
]


@pytest.fixture(scope="module")
async def owner(keys_api: KeysApi) -> tuple[Key, str]:
    """A key with every scope, and a submission of its own."""
    key = await make_key(keys_api.url, ["submit", "read"], name="owner")
    async with keys_api.client(key.token) as http:
        reply = await http.post("/api/v1/submissions", json=SUBMISSION)
    assert reply.status_code == 202, reply.text
    return key, reply.json()["id"]


async def call(
    api: KeysApi, endpoint: tuple[str, str, str, Any], submission_id: str, **client: Any
) -> httpx.Response:
    """One request to ``endpoint``; an event stream's body is not read (it would not end)."""
    method, path, _scope, body = endpoint
    async with api.client(**client) as http:
        reply = await http.send(
            http.build_request(method, path.format(id=submission_id), json=body), stream=True
        )
        try:
            if not reply.headers.get("content-type", "").startswith("text/event-stream"):
                await reply.aread()
        finally:
            await reply.aclose()
        return reply


async def test_a_key_is_shown_once_stored_hashed_listed_and_revoked(keys_api: KeysApi) -> None:
    async with keys_api.client(ADMIN) as admin:
        created = await admin.post(KEYS, json={"name": "grader-1", "scopes": ["submit", "read"]})
        assert created.status_code == 201, created.text
        key = created.json()
        assert key["token"].startswith(f"exk_{key['id']}_")
        assert key["scopes"] == ["read", "submit"] and key["revoked_at"] is None

        listed = (await admin.get(KEYS)).json()["keys"]
        mine = next(item for item in listed if item["id"] == key["id"])
        assert "token" not in mine and mine["name"] == "grader-1"

        async with keys_api.engine.connect() as conn:
            stored = (
                await conn.execute(
                    sa.text("SELECT token_hash FROM api_keys WHERE id = :id"), {"id": key["id"]}
                )
            ).scalar_one()
        expected = hmac.new(AUTH_SECRET.encode(), b"key:" + key["token"].encode(), hashlib.sha256).digest()
        assert stored == expected and key["token"].encode() not in stored

        async with keys_api.client(key["token"]) as http:
            assert (await http.post("/api/v1/submissions", json=SUBMISSION)).status_code == 202
            revoked = await admin.delete(f"{KEYS}/{key['id']}")
            assert revoked.status_code == 200 and revoked.json()["revoked_at"] is not None
            refused = await http.post("/api/v1/submissions", json=SUBMISSION)
        assert refused.status_code == 401 and "revoked" in refused.json()["error"]["message"]
        listed = (await admin.get(KEYS)).json()["keys"]
        assert next(item for item in listed if item["id"] == key["id"])["revoked_at"] is not None
        assert (await admin.delete(f"{KEYS}/key_000000000000")).status_code == 404


async def test_the_keys_api_needs_the_admin_token(keys_api: KeysApi, new_key: NewKey) -> None:
    key = await new_key()
    for token in (None, key.token):
        async with keys_api.client(token) as http:
            assert (await http.get(KEYS)).status_code in (401, 403)
            assert (await http.post(KEYS, json={"name": "x", "scopes": ["read"]})).status_code in (401, 403)


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"scopes": ["read"]}, "name"),
        ({"name": "", "scopes": ["read"]}, "name"),
        ({"name": "x", "scopes": []}, "scopes"),
        ({"name": "x", "scopes": ["admin"]}, "scopes"),
        ({"name": "x", "scopes": ["read"], "expires_at": "2030-01-01T00:00:00"}, "expires_at"),
        ({"name": "x", "scopes": ["read"], "limits": {"active_jobs": -1}}, "limits.active_jobs"),
        ({"name": "x", "scopes": ["read"], "limits": {"per_hour": 1}}, "limits.per_hour"),
        ({"name": "x", "scopes": ["read"], "colour": "red"}, "colour"),
    ],
)
async def test_a_bad_key_request_is_a_422_naming_the_field(
    keys_api: KeysApi, body: dict[str, Any], field: str
) -> None:
    async with keys_api.client(ADMIN) as admin:
        reply = await admin.post(KEYS, json=body)
    assert reply.status_code == 422, reply.text
    assert reply.json()["error"]["field"] == field


@pytest.mark.parametrize("endpoint", ENDPOINTS, ids=lambda e: f"{e[0]} {e[1]}")
async def test_every_route_refuses_a_missing_wrong_revoked_or_expired_key(
    keys_api: KeysApi, owner: tuple[Key, str], endpoint: tuple[str, str, str, Any]
) -> None:
    _key, sid = owner
    revoked = await make_key(keys_api.url, ["submit", "read"])
    expired = await make_key(keys_api.url, ["submit", "read"])
    async with keys_api.client(ADMIN) as admin:
        assert (await admin.delete(f"{KEYS}/{revoked.id}")).status_code == 200
    async with keys_api.engine.begin() as conn:
        past = datetime.now(UTC).replace(tzinfo=None) - timedelta(seconds=1)
        await conn.execute(
            sa.text("UPDATE api_keys SET expires_at = :t WHERE id = :id"), {"t": past, "id": expired.id}
        )

    missing = await call(keys_api, endpoint, sid)
    assert missing.status_code == 401, missing.text
    assert missing.json()["error"]["code"] == "unauthorized"
    assert missing.headers["www-authenticate"].startswith("Bearer")
    for token, words in (
        (revoked.token + "x", "not valid"),
        (revoked.token, "revoked"),
        (expired.token, "expired"),
    ):
        reply = await call(keys_api, endpoint, sid, token=token)
        assert reply.status_code == 401, reply.text
        assert reply.json()["error"]["code"] == "invalid_key" and words in reply.json()["error"]["message"]


@pytest.mark.parametrize("endpoint", ENDPOINTS, ids=lambda e: f"{e[0]} {e[1]}")
async def test_every_route_refuses_a_key_without_its_scope(
    keys_api: KeysApi, owner: tuple[Key, str], endpoint: tuple[str, str, str, Any]
) -> None:
    _key, sid = owner
    scope = endpoint[2]
    other = await make_key(keys_api.url, ["read" if scope == "submit" else "submit", "problems:write"])
    reply = await call(keys_api, endpoint, sid, token=other.token)
    assert reply.status_code == 403, reply.text
    assert (
        reply.json()["error"]["code"] == "insufficient_scope"
        and repr(scope) in reply.json()["error"]["message"]
    )


@pytest.mark.parametrize(
    "endpoint", [e for e in ENDPOINTS if e[1] != "/api/v2/execute"], ids=lambda e: f"{e[0]} {e[1]}"
)
async def test_every_route_lets_the_owning_key_through(
    keys_api: KeysApi, owner: tuple[Key, str], endpoint: tuple[str, str, str, Any]
) -> None:
    key, _sid = owner
    async with keys_api.client(key.token) as http:
        sid = (await http.post("/api/v1/submissions", json=SUBMISSION)).json()["id"]
    reply = await call(keys_api, endpoint, sid, token=key.token)
    # DELETE of a queued submission is refused for being unfinished, not for its key.
    assert reply.status_code in (200, 201, 202, 409), reply.text
    if endpoint[1] == "/api/v1/submissions/{id}/events":
        assert reply.headers["content-type"].startswith("text/event-stream")


async def test_the_judge0_api_takes_the_key_in_x_auth_token(
    keys_api: KeysApi, owner: tuple[Key, str]
) -> None:
    key, _sid = owner
    async with keys_api.client(key.token, header="X-Auth-Token") as http:
        created = await http.post("/judge0/submissions", json=JUDGE0)
        assert created.status_code == 201, created.text
        token = created.json()["token"]
        read = await http.get(f"/judge0/submissions/{token}")
    assert read.status_code == 200 and read.json()["token"] == token
    async with keys_api.engine.connect() as conn:
        stored = (
            await conn.execute(sa.text("SELECT owner_key FROM submissions WHERE id = :id"), {"id": token})
        ).scalar_one()
    assert stored == key.id


async def test_the_admin_token_passes_every_route(keys_api: KeysApi, owner: tuple[Key, str]) -> None:
    _key, sid = owner
    async with keys_api.client(ADMIN) as admin:
        assert (await admin.get(f"/api/v1/submissions/{sid}")).status_code == 200
        created = await admin.post("/api/v1/submissions", json=SUBMISSION)
    assert created.status_code == 202
    async with keys_api.engine.connect() as conn:
        owner_key = (
            await conn.execute(
                sa.text("SELECT owner_key FROM submissions WHERE id = :id"), {"id": created.json()["id"]}
            )
        ).scalar_one()
    assert owner_key is None
