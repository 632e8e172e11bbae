"""``/api/v1/admin/hosts`` on a real API and MariaDB: auth, validation naming the field, what is stored,
and that a host is removed only once a master reported it empty."""

import secrets
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest
import sqlalchemy as sa

from schemas.hosts import HostReport
from tests.admin.conftest import AdminApi
from tests.admin.test_admin_http import error_of

HOSTS = "/api/v1/admin/hosts"


def unique() -> str:
    return f"h{secrets.token_hex(4)}"


async def report(api: AdminApi, name: str, **fields: Any) -> None:
    """Write a host report as the active master does."""
    observed = HostReport(
        reachable=True,
        down_since=None,
        down=False,
        cpus=2.0,
        memory_mb=4096,
        workers={},
        images_ok=True,
        problem=None,
        observed_at=datetime.now(UTC),
    ).model_copy(update=fields)
    async with api.engine.begin() as conn:
        await conn.execute(
            sa.text("UPDATE hosts SET observed = :o WHERE name = :n"),
            {"o": observed.model_dump_json(), "n": name},
        )


@pytest.mark.parametrize("method", ["GET", "POST", "PUT", "DELETE"])
async def test_every_route_needs_the_admin_token(admin_api: AdminApi, method: str) -> None:
    path = HOSTS if method in ("GET", "POST") else f"{HOSTS}/a"
    async with httpx.AsyncClient(base_url=admin_api.url) as http:
        reply = await http.request(method, path, json={"name": "a", "url": "unix:///x"})
    assert error_of(reply, 401)["code"] == "unauthorized"


@pytest.mark.parametrize(
    ("body", "field", "words"),
    [
        ({"name": "-b", "url": "unix:///run/b.sock"}, "name", "letters, digits"),
        ({"name": "b" * 65, "url": "unix:///run/b.sock"}, "name", "1-64"),
        ({"name": "b", "url": "ftp://b"}, "url", "must start with one of"),
        ({"name": "b", "url": "unix://relative"}, "url", "absolute socket path"),
        ({"name": "b", "url": "tcp://"}, "url", "needs a host"),
        ({"name": "b", "url": "tcp://b:2376/\n"}, "url", "control characters"),
        ({"name": "b"}, "url", "required"),
        ({"name": 3, "url": "tcp://b:2376"}, "name", "as a string"),
        ({"name": "b", "url": "tcp://b:2376", "tls": True}, "tls", "unknown field"),
        ([], None, "JSON object"),
    ],
)
async def test_a_bad_new_host_is_422_naming_the_field(
    admin: httpx.AsyncClient, body: Any, field: str | None, words: str
) -> None:
    error = error_of(await admin.post(HOSTS, json=body), 422)
    assert (error["code"], error["field"]) == ("validation_error", field)
    assert words in error["message"]


async def test_add_list_drain_and_put_back(admin: httpx.AsyncClient, admin_api: AdminApi) -> None:
    name = unique()
    added = await admin.post(HOSTS, json={"name": name, "url": "ssh://ops@b.example"})
    assert added.status_code == 201, added.text
    assert added.json()["state"] == "up" and added.json()["problem"] == "not observed by a master yet"
    assert (
        error_of(await admin.post(HOSTS, json={"name": name, "url": "tcp://c:2376"}), 409)["field"] == "name"
    )
    await report(admin_api, name, workers={"python": 2})
    listed = {h["name"]: h for h in (await admin.get(HOSTS)).json()}
    assert listed[name] | {"observed_at": None} == {
        "name": name,
        "url": "ssh://ops@b.example",
        "state": "up",
        "cpus": 2.0,
        "memory_mb": 4096,
        "workers": {"python": 2},
        "images_ok": True,
        "problem": None,
        "observed_at": None,
    }
    drained = await admin.put(f"{HOSTS}/{name}", json={"state": "draining"})
    assert drained.status_code == 200 and drained.json()["state"] == "draining"
    async with admin_api.engine.connect() as conn:
        stored = await conn.scalar(sa.text("SELECT state FROM hosts WHERE name = :n"), {"n": name})
    assert stored == "draining"
    assert (await admin.put(f"{HOSTS}/{name}", json={"state": "up"})).json()["state"] == "up"


async def test_down_is_observed_not_set(admin: httpx.AsyncClient, admin_api: AdminApi) -> None:
    name = unique()
    await admin.post(HOSTS, json={"name": name, "url": "tcp://b:2376"})
    error = error_of(await admin.put(f"{HOSTS}/{name}", json={"state": "down"}), 422)
    assert error["field"] == "state" and "observed" in error["message"]
    await report(admin_api, name, down=True, reachable=False, problem="down: ConnectionError")
    host = next(h for h in (await admin.get(HOSTS)).json() if h["name"] == name)
    assert (host["state"], host["problem"]) == ("down", "down: ConnectionError")


async def test_an_unknown_host_is_404(admin: httpx.AsyncClient) -> None:
    assert error_of(await admin.put(f"{HOSTS}/nosuch", json={"state": "up"}), 404)["code"] == "not_found"
    assert error_of(await admin.delete(f"{HOSTS}/nosuch"), 404)["code"] == "not_found"


async def test_only_a_host_reported_empty_is_removed(admin: httpx.AsyncClient, admin_api: AdminApi) -> None:
    name = unique()
    await admin.post(HOSTS, json={"name": name, "url": "tcp://b:2376"})
    # Never observed: it may hold workers nobody has seen yet.
    assert error_of(await admin.delete(f"{HOSTS}/{name}"), 409)["code"] == "host_not_empty"
    await report(admin_api, name, workers={"python": 1})
    error = error_of(await admin.delete(f"{HOSTS}/{name}"), 409)
    assert "drain it" in error["message"]
    await report(admin_api, name, workers={})
    assert (await admin.delete(f"{HOSTS}/{name}")).status_code == 204
    assert name not in {h["name"] for h in (await admin.get(HOSTS)).json()}
