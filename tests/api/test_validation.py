"""Every refused submission: status code, ``error.field``, and nothing stored."""

from typing import Any

import httpx
import pytest
import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncEngine

from api.settings import ApiSettings

OK: dict[str, Any] = {"language": "python", "source": "print(1)"}
TESTS = [{"expected_output": "1"}]
CHECKER = {"language": "python", "source": "raise SystemExit(0)"}


def case(body: Any, status: int, field: str | None, code: str | None = None) -> Any:
    return pytest.param(body, (status, field, code), id=f"{status}-{field}")


CASES = [
    case({"source": "print(1)"}, 422, "language"),
    case({**OK, "language": "cobol"}, 422, "language", "unknown_language"),
    case({**OK, "language": 3}, 422, "language"),
    case({"language": "python"}, 422, "source"),
    case({**OK, "source": ""}, 422, "source"),
    case({**OK, "source": ["print(1)"]}, 422, "source"),
    case({**OK, "stdin": 5}, 422, "stdin"),
    case({**OK, "limits": {"time_ms": 10_001}}, 422, "limits.time_ms"),
    case({**OK, "limits": {"memory_mb": 0}}, 422, "limits.memory_mb"),
    case({**OK, "limits": "fast"}, 422, "limits"),
    case({**OK, "tests": []}, 422, "tests"),
    case({**OK, "tests": [{"stdin": "1"}]}, 422, "tests.0.expected_output"),
    case({**OK, "tests": [{"expected_output": "1"}] * 101}, 422, "tests"),
    case({**OK, "compare": "fuzzy"}, 422, "compare"),
    case({**OK, "compare": {"mode": "float", "tolerance": 2}}, 422, "compare.tolerance"),
    case({**OK, "stop_on_first_failure": [1]}, 422, "stop_on_first_failure"),
    case({**OK, "sourcee": "typo"}, 422, "sourcee"),
    case({**OK, "checker": {"language": "python", "source": "x"}}, 422, "checker"),
    case({**OK, "tests": TESTS, "checker": {"language": "cobol", "source": "x"}}, 422, "checker.language"),
    case({**OK, "tests": TESTS, "interactor": {"language": "go", "source": "x"}}, 422, "interactor.language"),
    case({**OK, "tests": TESTS, "checker": {"language": "python", "source": ""}}, 422, "checker.source"),
    case({**OK, "tests": TESTS, "checker": {"language": "python"}}, 422, "checker.source"),
    case(
        {**OK, "tests": TESTS, "checker": CHECKER | {"files": [{"path": "../x"}]}},
        422,
        "checker.files.0.path",
    ),
    case(
        {**OK, "tests": TESTS, "checker": CHECKER | {"limits": {"time_ms": 0}}}, 422, "checker.limits.time_ms"
    ),
    case({**OK, "tests": TESTS, "interactor": CHECKER | {"language": "java"}}, 422, "interactor.language"),
    case({**OK, "tests": TESTS, "checker": CHECKER, "interactor": CHECKER}, 422, "interactor"),
    case([OK], 422, None),
    case("print(1)", 422, None),
]


async def _counts(engine: AsyncEngine) -> tuple[int, int]:
    async with engine.connect() as conn:
        submissions = await conn.scalar(sa.text("SELECT COUNT(*) FROM submissions"))
        outbox = await conn.scalar(sa.text("SELECT COUNT(*) FROM outbox"))
    return int(submissions or 0), int(outbox or 0)


def _assert_error(reply: httpx.Response, status: int, field: str | None, code: str | None = None) -> None:
    assert reply.status_code == status, reply.text
    assert reply.headers["content-type"].startswith("application/json")
    error = reply.json()["error"]
    assert error["field"] == field
    assert error["message"]
    if code is not None:
        assert error["code"] == code


@pytest.mark.parametrize(("body", "expected"), CASES)
async def test_invalid_submission_is_refused_and_not_stored(
    client: httpx.AsyncClient, engine: AsyncEngine, body: Any, expected: tuple[int, str | None, str | None]
) -> None:
    before = await _counts(engine)
    _assert_error(await client.post("/api/v1/submissions", json=body), *expected)
    assert await _counts(engine) == before


async def test_broken_json_is_400(client: httpx.AsyncClient) -> None:
    reply = await client.post(
        "/api/v1/submissions", content=b'{"language": "python",', headers={"content-type": "application/json"}
    )
    _assert_error(reply, 400, None, "malformed_json")


@pytest.mark.parametrize("field", ["source", "stdin"])
async def test_oversized_source_or_stdin_is_413(
    client: httpx.AsyncClient, engine: AsyncEngine, settings: ApiSettings, field: str
) -> None:
    limit = settings.max_source_bytes if field == "source" else settings.max_stdin_bytes
    before = await _counts(engine)
    reply = await client.post("/api/v1/submissions", json={**OK, field: "é" * (limit // 2 + 1)})
    _assert_error(reply, 413, field, "too_large")
    assert await _counts(engine) == before


async def test_oversized_test_output_names_the_test(client: httpx.AsyncClient, settings: ApiSettings) -> None:
    tests = [{"expected_output": "1"}, {"expected_output": "x" * (settings.max_stdin_bytes + 1)}]
    reply = await client.post("/api/v1/submissions", json={**OK, "tests": tests})
    _assert_error(reply, 413, "tests.1.expected_output", "too_large")


async def test_oversized_checker_names_its_field(client: httpx.AsyncClient, settings: ApiSettings) -> None:
    big = "x" * (settings.max_source_bytes + 1)
    reply = await client.post(
        "/api/v1/submissions", json={**OK, "tests": TESTS, "checker": CHECKER | {"source": big}}
    )
    _assert_error(reply, 413, "checker.source", "too_large")
    header = {"path": "testlib.h", "content": "x" * (settings.max_files_bytes + 1)}
    program = CHECKER | {"files": [header]}
    reply = await client.post("/api/v1/submissions", json={**OK, "tests": TESTS, "interactor": program})
    _assert_error(reply, 413, "interactor.files", "too_large")


async def test_job_larger_than_a_kafka_message_is_413(
    client: httpx.AsyncClient, settings: ApiSettings
) -> None:
    # Each test is within the limits; together they exceed what one Kafka message can carry.
    chunk = "y" * (settings.max_stdin_bytes // 2)
    tests = [{"stdin": chunk, "expected_output": chunk}] * 3
    reply = await client.post("/api/v1/submissions", json={**OK, "tests": tests})
    _assert_error(reply, 413, None, "too_large")


async def test_body_over_the_request_limit_is_413(client: httpx.AsyncClient, settings: ApiSettings) -> None:
    reply = await client.post(
        "/api/v1/submissions",
        content=b" " * (settings.max_body_bytes + 1),
        headers={"content-type": "application/json"},
    )
    _assert_error(reply, 413, None, "too_large")
