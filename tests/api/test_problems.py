"""Stored problems through the API on the real MariaDB and Kafka: create, read, list, edit (a new
version only when judging changes; old versions stay readable), delete; a 4xx naming the field for each
kind of bad input; and a submission against a problem, whose job carries the tests' hashes and sizes but
none of their data."""

import hashlib
import io
import secrets
import zipfile
from collections.abc import Awaitable, Callable
from typing import Any
from uuid import UUID

import httpx
import orjson
import pytest

from schemas import decode_job

ReadJob = Callable[[str], Awaitable[tuple[bytes, bytes]]]
FetchRow = Callable[[UUID | str], Awaitable[dict[str, Any] | None]]
PROBLEMS = "/api/v1/problems"
HIDDEN_INPUT = "31337 27182\n"
HIDDEN_ANSWER = "58519\n"
DRIVER = "import sys\n{{user_code}}\nprint(add(*map(int, sys.stdin.read().split())))\n"


def problem(slug: str, /, **changes: Any) -> dict[str, Any]:
    body = {
        "slug": slug,
        "title": "A plus B",
        "statement": "Print **a + b**.",
        "limits": {"time_ms": 1000},
        "tests": [
            {"input": "1 2\n", "expected_output": "3\n", "sample": True},
            {"input": HIDDEN_INPUT, "expected_output": HIDDEN_ANSWER, "points": 10, "group": "big"},
        ],
        "stubs": {"python": {"template": "def add(a, b):\n    pass\n", "driver": DRIVER}},
    }
    return body | changes


@pytest.fixture
def slug() -> str:
    return f"sum-{secrets.token_hex(4)}"


async def test_create_read_list_edit_and_delete(
    admin: httpx.AsyncClient, client: httpx.AsyncClient, slug: str
) -> None:
    created = await admin.post(PROBLEMS, json=problem(slug))
    assert created.status_code == 201, created.text
    assert created.json()["version"] == 1

    shown = (await client.get(f"{PROBLEMS}/{slug}")).json()
    assert shown["samples"] == [{"index": 0, "input": "1 2\n", "expected_output": "3\n"}]
    assert (shown["tests"], shown["max_score"], shown["statement"]) == (2, 10, "Print **a + b**.")
    assert shown["stubs"] == {"python": {"template": "def add(a, b):\n    pass\n"}}
    assert HIDDEN_INPUT.strip() not in orjson.dumps(shown).decode()
    assert slug in [p["slug"] for p in (await client.get(PROBLEMS)).json()["problems"]]

    retitled = await admin.put(f"{PROBLEMS}/{slug}", json=problem(slug, title="A + B"))
    assert (retitled.json()["version"], retitled.json()["title"]) == (1, "A + B")  # text only: same version
    tests = problem(slug)["tests"]
    tests[1] = {**tests[1], "expected_output": "58520\n"}
    edited = await admin.put(f"{PROBLEMS}/{slug}", json=problem(slug, tests=tests))
    assert edited.json()["version"] == 2
    judging = (await admin.get(f"{PROBLEMS}/{slug}/judging", params={"version": 1})).json()["judging"]
    assert judging["tests"][1]["output_sha256"] == hashlib.sha256(HIDDEN_ANSWER.encode()).hexdigest()
    assert (await client.get(f"{PROBLEMS}/{slug}", params={"version": 1})).json()["version"] == 1

    assert (await admin.delete(f"{PROBLEMS}/{slug}")).status_code == 204
    assert (await client.get(f"{PROBLEMS}/{slug}")).status_code == 404
    assert slug not in [p["slug"] for p in (await client.get(PROBLEMS)).json()["problems"]]
    again = await admin.post(PROBLEMS, json=problem(slug))
    assert (again.status_code, again.json()["error"]["field"]) == (409, "slug")


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"slug": "Not A Slug"}, "slug"),
        ({"title": ""}, "title"),
        ({"tests": []}, "tests"),
        ({"tests": [{"input": "1\n"}]}, "tests.0.expected_output"),
        ({"tests": [{"expected_output": "1", "points": -1}]}, "tests.0.points"),
        ({"limits": {"time_ms": 0}}, "limits.time_ms"),
        ({"compare": "fuzzy"}, "compare"),
        ({"stubs": {"python": {"template": "", "driver": "print(1)"}}}, "stubs.python.driver"),
        ({"checker": {"language": "cpp"}}, "checker.source"),
        ({"checker": {"language": "cobol", "source": "x"}}, "checker.language"),
        ({"interactor": {"language": "cobol", "source": "x"}}, "interactor.language"),
        ({"colour": "red"}, "colour"),
    ],
)
async def test_bad_fields_are_named(
    admin: httpx.AsyncClient, slug: str, change: dict[str, Any], field: str
) -> None:
    refused = await admin.post(PROBLEMS, json=problem(slug, **change))
    assert refused.status_code == 422, refused.text
    assert refused.json()["error"]["field"] == field


async def test_only_the_admin_writes(client: httpx.AsyncClient, slug: str) -> None:
    assert (await client.post(PROBLEMS, json=problem(slug))).status_code == 401
    assert (await client.post(f"{PROBLEMS}/{slug}/rejudge")).status_code == 401


async def test_a_submission_to_a_problem_sends_hashes_not_data(
    admin: httpx.AsyncClient, client: httpx.AsyncClient, slug: str, read_job: ReadJob, fetch_row: FetchRow
) -> None:
    assert (await admin.post(PROBLEMS, json=problem(slug))).status_code == 201
    code = "def add(a, b):\n    return a + b"
    accepted = await client.post(
        "/api/v1/submissions", json={"problem": slug, "language": "py", "source": code}
    )
    assert accepted.status_code == 202, accepted.text
    sid = accepted.json()["id"]

    _, value = await read_job(sid)
    assert HIDDEN_INPUT.encode() not in value and HIDDEN_ANSWER.encode() not in value
    job = decode_job(value)
    assert job.problem is not None and (job.problem.slug, job.problem.version) == (slug, 1)
    assert job.source == DRIVER.replace("{{user_code}}", code)
    assert job.tests is not None
    hidden = job.tests[1]
    assert (hidden.stdin, hidden.expected_output, hidden.hidden, hidden.points, hidden.group) == (
        "",
        "",
        True,
        10,
        "big",
    )
    assert (hidden.input_sha256, hidden.input_size) == (hashlib.sha256(HIDDEN_INPUT.encode()).hexdigest(), 12)
    assert job.tests[0].hidden is None

    row = await fetch_row(sid)
    assert row is not None
    assert (row["source"], row["problem_slug"], row["problem_version"]) == (code, slug, 1)
    shown = (await client.get(f"/api/v1/submissions/{sid}")).json()
    assert shown["submitted"]["tests"] is None
    assert shown["problem"] == {"slug": slug, "version": 1}
    assert hidden.input_sha256 is not None
    assert hidden.input_sha256 not in orjson.dumps(shown).decode()


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"problem": "no-such-problem", "language": "python", "source": "x"}, "problem"),
        ({"problem": "{slug}", "language": "cpp", "source": "x"}, "language"),
        ({"problem": "{slug}", "language": "python", "source": ""}, "source"),
        ({"problem": "{slug}", "language": "python", "source": "x", "tests": []}, "tests"),
        (
            {
                "language": "python",
                "source": "x",
                "tests": [{"input_sha256": "0" * 64, "input_size": 1, "expected_output": ""}],
            },
            "tests.0.input_sha256",
        ),
    ],
)
async def test_bad_submissions_to_problems_are_named(
    admin: httpx.AsyncClient, client: httpx.AsyncClient, slug: str, body: dict[str, Any], field: str
) -> None:
    assert (await admin.post(PROBLEMS, json=problem(slug))).status_code == 201
    if body.get("problem") == "{slug}":
        body = {**body, "problem": slug}
    refused = await client.post("/api/v1/submissions", json=body)
    assert refused.status_code == 422, refused.text
    assert refused.json()["error"]["field"] == field


def zipped(files: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, data in files.items():
            archive.writestr(name, data)
    return buffer.getvalue()


async def test_a_test_archive_makes_a_version_and_bad_ones_are_named(
    admin: httpx.AsyncClient, slug: str
) -> None:
    assert (await admin.post(PROBLEMS, json=problem(slug))).status_code == 201
    url, headers = f"{PROBLEMS}/{slug}/tests", {"content-type": "application/zip"}
    manifest = b'{"tests": {"1": {"sample": true}, "2": {"points": 7, "group": "g"}}}'
    good = zipped(
        {"1.in": b"4 4\n", "1.out": b"8\n", "2.in": b"1 1\n", "2.out": b"2\n", "problem.json": manifest}
    )
    uploaded = await admin.put(url, content=good, headers=headers)
    assert uploaded.status_code == 200, uploaded.text
    assert (uploaded.json()["version"], uploaded.json()["tests"], uploaded.json()["max_score"]) == (2, 2, 7)
    assert uploaded.json()["samples"] == [{"index": 0, "input": "4 4\n", "expected_output": "8\n"}]

    stray = await admin.put(url, content=zipped({"1.in": b"", "1.out": b"", "../x.in": b""}), headers=headers)
    assert (stray.status_code, stray.json()["error"]["field"]) == (422, "archive")
    assert "'../x.in'" in stray.json()["error"]["message"]
    not_zip = await admin.put(url, content=b"PK? no", headers=headers)
    assert (not_zip.status_code, not_zip.json()["error"]["field"]) == (422, "archive")
    as_json = await admin.put(url, content=good, headers={"content-type": "application/json"})
    assert as_json.status_code == 415
    assert (await admin.get(f"{PROBLEMS}/{slug}")).json()["version"] == 2  # the refused ones changed nothing
