"""The admin API's HTTP contract on a real API and MariaDB: authentication, validation, what is stored."""

from typing import Any

import httpx
import pytest
import sqlalchemy as sa

from tests.admin.conftest import ADMIN_TOKEN, AdminApi

POOLS = "/api/v1/admin/pools"


async def pools_row(api: AdminApi, language: str) -> dict[str, Any]:
    async with api.engine.connect() as conn:
        row = (
            await conn.execute(
                sa.text(
                    "SELECT replicas, min_replicas, max_replicas, autoscale FROM pools WHERE language = :l"
                ),
                {"l": language},
            )
        ).one()
    return dict(row._mapping)


def error_of(reply: httpx.Response, status: int) -> dict[str, Any]:
    assert reply.status_code == status, reply.text
    error: dict[str, Any] = reply.json()["error"]
    assert set(error) == {"code", "message", "field"}
    return error


@pytest.mark.parametrize("method", ["GET", "PUT"])
async def test_no_token_is_401_with_a_bearer_challenge(admin_api: AdminApi, method: str) -> None:
    path = POOLS if method == "GET" else f"{POOLS}/python"
    async with httpx.AsyncClient(base_url=admin_api.url) as http:
        reply = await http.request(method, path, json={"replicas": 1})
    assert error_of(reply, 401)["code"] == "unauthorized"
    assert reply.headers["www-authenticate"].startswith("Bearer")


@pytest.mark.parametrize("header", ["Basic YWRtaW46YWRtaW4=", "Bearer", "Token abc"])
async def test_another_scheme_or_an_empty_token_is_401(admin_api: AdminApi, header: str) -> None:
    async with httpx.AsyncClient(base_url=admin_api.url) as http:
        reply = await http.get(POOLS, headers={"Authorization": header})
    assert error_of(reply, 401)["code"] == "unauthorized"


@pytest.mark.parametrize("token", ["wrong", ADMIN_TOKEN[:-1], ADMIN_TOKEN + "x"])
async def test_a_wrong_token_is_403(admin_api: AdminApi, token: str) -> None:
    async with httpx.AsyncClient(base_url=admin_api.url) as http:
        reply = await http.get(POOLS, headers={"Authorization": f"Bearer {token}"})
    assert error_of(reply, 403)["code"] == "forbidden"


async def test_the_scheme_is_case_insensitive(admin_api: AdminApi) -> None:
    async with httpx.AsyncClient(base_url=admin_api.url) as http:
        reply = await http.get(POOLS, headers={"Authorization": f"bearer {ADMIN_TOKEN}"})
    assert reply.status_code == 200, reply.text


async def test_without_a_configured_token_the_admin_api_is_503(api_without_token: AdminApi) -> None:
    async with httpx.AsyncClient(base_url=api_without_token.url) as http:
        reply = await http.get(POOLS, headers={"Authorization": "Bearer anything"})
    error = error_of(reply, 503)
    assert error["code"] == "admin_disabled"
    assert "EXECUTIONER_ADMIN_TOKEN" in error["message"]


@pytest.mark.parametrize(
    ("body", "field", "words"),
    [
        ({"replicas": -1}, "replicas", "negative"),
        ({"replicas": 1.5}, "replicas", "integer"),
        ({"replicas": 2.0}, "replicas", "integer"),
        ({"replicas": "2"}, "replicas", "integer"),
        ({"replicas": True}, "replicas", "integer"),
        ({"replicas": None}, "replicas", "integer"),
        ({"replicas": 3}, "replicas", "at most 2"),  # the API's jobs_partitions is 2
        ({"min": 2, "max": 1}, "min", "must not exceed max"),
        ({"min": -1, "max": 1}, "min", "negative"),
        ({"min": 0, "max": 0}, "max", "at least 1"),
        ({"min": 1}, "max", "required"),
        ({"max": 1}, "min", "required"),
        ({"replicas": 1, "min": 1, "max": 2}, "replicas", "not both"),
        ({"replicas": 1, "max": 2}, "replicas", "not both"),
        ({}, "replicas", "required"),
        ({"replicas": 1, "size": 2}, "size", "unknown field"),
        ([1], None, "JSON object"),
    ],
)
async def test_invalid_sizes_are_422_naming_the_field(
    admin: httpx.AsyncClient, body: Any, field: str | None, words: str
) -> None:
    error = error_of(await admin.put(f"{POOLS}/python", json=body), 422)
    assert (error["code"], error["field"]) == ("validation_error", field)
    assert words in error["message"]


async def test_a_body_that_is_not_json_is_400(admin: httpx.AsyncClient) -> None:
    reply = await admin.put(
        f"{POOLS}/python", content=b"{replicas: 2", headers={"content-type": "application/json"}
    )
    assert error_of(reply, 400)["code"] == "malformed_json"


async def test_an_unknown_language_is_404(admin: httpx.AsyncClient) -> None:
    error = error_of(await admin.put(f"{POOLS}/cobol", json={"replicas": 1}), 404)
    assert error["code"] == "not_found"
    assert "cobol" in error["message"]


async def test_a_fixed_size_is_stored_and_turns_autoscaling_off(
    admin: httpx.AsyncClient, admin_api: AdminApi
) -> None:
    assert (await admin.put(f"{POOLS}/python", json={"min": 1, "max": 2})).status_code == 200
    reply = await admin.put(f"{POOLS}/python", json={"replicas": 2})
    assert reply.status_code == 200, reply.text
    view = reply.json()
    assert (view["language"], view["desired"], view["autoscale"], view["min"], view["max"]) == (
        "python",
        2,
        False,
        None,
        None,
    )
    assert await pools_row(admin_api, "python") == {
        "replicas": 2,
        "min_replicas": None,
        "max_replicas": None,
        "autoscale": 0,
    }


@pytest.mark.parametrize(("before", "bounds", "after"), [(2, (0, 1), 1), (0, (1, 2), 1), (2, (1, 2), 2)])
async def test_autoscaling_keeps_the_size_within_the_new_bounds(
    admin: httpx.AsyncClient, admin_api: AdminApi, before: int, bounds: tuple[int, int], after: int
) -> None:
    assert (await admin.put(f"{POOLS}/python", json={"replicas": before})).status_code == 200
    reply = await admin.put(f"{POOLS}/python", json={"min": bounds[0], "max": bounds[1]})
    assert reply.status_code == 200, reply.text
    view = reply.json()
    assert (view["desired"], view["autoscale"], view["min"], view["max"]) == (after, True, *bounds)
    row = await pools_row(admin_api, "python")
    assert (row["replicas"], row["min_replicas"], row["max_replicas"], row["autoscale"]) == (
        after,
        *bounds,
        1,
    )


async def test_every_language_is_listed_even_before_a_master_reports(admin: httpx.AsyncClient) -> None:
    reply = await admin.get(POOLS)
    assert reply.status_code == 200, reply.text
    view = reply.json()
    assert view["master"] is None
    languages = [p["language"] for p in view["pools"]]
    assert languages == sorted(languages)
    assert "python" in languages
    unreported = next(p for p in view["pools"] if p["language"] == "python")
    assert unreported["workers"] == []
    assert unreported["problem"] == "no master has reported this pool yet"


async def test_the_admin_routes_are_in_the_openapi_document(admin_api: AdminApi) -> None:
    async with httpx.AsyncClient(base_url=admin_api.url) as http:
        paths = (await http.get("/schema/openapi.json")).json()["paths"]
    assert "get" in paths["/api/v1/admin/pools"]
    assert "put" in paths["/api/v1/admin/pools/{language}"]
