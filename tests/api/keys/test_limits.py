"""Per-key limits on a real API and MariaDB: a 429 at each limit with ``Retry-After``, the IETF draft's
``RateLimit-*`` headers and a body naming the limit; per-language defaults and per-key overrides."""

from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import UUID

import httpx
import pytest
import sqlalchemy as sa
from aiokafka import AIOKafkaProducer

from schemas import Limits, Outcome, ResultEvent, RunReport, Verdict, encode
from tests.api.keys.conftest import KeysApi, NewKey, StartKeysApi, make_key
from tests.api.support import eventually, kafka_bootstrap

PYTHON = {"language": "python", "source": "print(42)"}


def refused_by(reply: httpx.Response, limit: str) -> dict[str, Any]:
    """The 429's body's ``limit``, after checking the answer names ``limit`` and carries the headers."""
    assert reply.status_code == 429, reply.text
    body = reply.json()
    assert body["error"]["code"] == "rate_limited" and limit in body["error"]["message"]
    assert body["limit"]["name"] == limit
    headers = reply.headers
    assert headers["ratelimit-remaining"] == "0"
    assert headers["ratelimit-limit"] == str(body["limit"]["limit"])
    assert (
        int(headers["retry-after"]) == int(headers["ratelimit-reset"]) == body["limit"]["retry_after_s"] >= 1
    )
    return dict(body["limit"])


async def submit(api: KeysApi, token: str, body: dict[str, Any] = PYTHON) -> httpx.Response:
    async with api.client(token) as http:
        return await http.post("/api/v1/submissions", json=body)


async def test_the_per_minute_limit_is_a_429_with_ratelimit_headers(keys_api: KeysApi) -> None:
    # A fixed window: when the minute turns during the test the count restarts, so try again once.
    for _attempt in range(2):
        key = await make_key(keys_api.url, ["submit", "read"], submissions_per_minute=3, active_jobs=100)
        started = datetime.now(UTC).replace(second=0, microsecond=0)
        answers = [await submit(keys_api, key.token) for _ in range(4)]
        if datetime.now(UTC).replace(second=0, microsecond=0) == started:
            break
    assert [reply.status_code for reply in answers[:3]] == [202, 202, 202]
    assert [reply.headers["ratelimit-remaining"] for reply in answers[:3]] == ["2", "1", "0"]
    assert all(reply.headers["ratelimit-policy"] == "3;w=60" for reply in answers[:3])
    assert all(1 <= int(reply.headers["ratelimit-reset"]) <= 60 for reply in answers[:3])
    limit = refused_by(answers[3], "submissions_per_minute")
    assert limit["limit"] == 3 and limit["used"] == 3 and limit["retry_after_s"] <= 60
    assert answers[3].headers["ratelimit-policy"] == "3;w=60"


async def test_the_active_jobs_limit_follows_the_language_default_and_the_key_override(
    start_keys_api: StartKeysApi,
) -> None:
    async with start_keys_api(
        limits={"submissions_per_minute": 1000, "active_jobs": 50, "cpu_seconds_per_day": 1000},
        limits_by_language={"python": {"active_jobs": 2}},
    ) as api:
        plain = await make_key(api.url, ["submit"])
        raised = await make_key(api.url, ["submit"], active_jobs=3)
        assert [(await submit(api, plain.token)).status_code for _ in range(2)] == [202, 202]
        limit = refused_by(await submit(api, plain.token), "active_jobs")
        assert limit == {"name": "active_jobs", "limit": 2, "used": 2, "retry_after_s": 5}
        # Another language has the global default; another key its own override.
        javascript = {"language": "javascript", "source": "console.log(42)"}
        assert (await submit(api, plain.token, javascript)).status_code == 202
        assert [(await submit(api, raised.token)).status_code for _ in range(4)] == [202, 202, 202, 429]


@pytest.fixture
async def producer() -> Any:
    kafka = AIOKafkaProducer(bootstrap_servers=kafka_bootstrap(), acks="all")
    await kafka.start()
    yield kafka
    await kafka.stop()


async def test_the_cpu_seconds_a_key_used_today_count_against_its_daily_limit(
    keys_api: KeysApi, new_key: NewKey, producer: AIOKafkaProducer
) -> None:
    key = await new_key(cpu_seconds_per_day=1)
    first = await submit(keys_api, key.token)
    sid = first.json()["id"]
    now = datetime.now(UTC)
    run = RunReport(verdict=Verdict.ACCEPTED, exit_code=0, time_ms=1500, wall_ms=1600)
    outcome = Outcome(verdict=Verdict.ACCEPTED, run=run, limits=Limits().effective(), worker="w")
    result = ResultEvent(id=UUID(sid), seq=2, outcome=outcome, at=now)
    await producer.send_and_wait(keys_api.settings.topics.results, encode(result), key=sid.encode())

    async def charged() -> int | None:
        async with keys_api.engine.connect() as conn:
            used = await conn.scalar(
                sa.text("SELECT used FROM key_usage WHERE key_id = :k AND metric = 'cpu_ms'"), {"k": key.id}
            )
        return None if used is None else int(used)

    assert await eventually(charged) == 1500
    limit = refused_by(await submit(keys_api, key.token), "cpu_seconds_per_day")
    midnight = now.replace(hour=0, minute=0, second=0, microsecond=0) + timedelta(days=1)
    assert abs(limit["retry_after_s"] - (midnight - now).total_seconds()) < 30
    assert limit["used"] == 1 and limit["limit"] == 1
    assert refused_by(await submit(keys_api, key.token), "cpu_seconds_per_day")["limit"] == 1


async def test_judge0_and_piston_answer_a_limit_with_the_same_headers(keys_api: KeysApi) -> None:
    # The per-minute window restarts when the minute turns: a key per attempt, tried again once.
    for _attempt in range(2):
        key = await make_key(keys_api.url, ["submit", "read"], submissions_per_minute=1, active_jobs=100)
        started = datetime.now(UTC).replace(second=0, microsecond=0)
        async with keys_api.client(key.token) as http:
            first = await http.post(
                "/judge0/submissions", json={"source_code": "print(1)", "language_id": 71}
            )
            judge0 = await http.post(
                "/judge0/submissions", json={"source_code": "print(1)", "language_id": 71}
            )
            piston = await http.post(
                "/api/v2/execute", json={"language": "python", "version": "*", "files": [{"content": "x"}]}
            )
        if datetime.now(UTC).replace(second=0, microsecond=0) == started:
            break
    assert first.status_code == 201, first.text
    for reply in (judge0, piston):
        assert reply.status_code == 429, reply.text
        assert reply.headers["ratelimit-remaining"] == "0" and reply.headers["ratelimit-limit"] == "1"
        assert reply.headers["ratelimit-policy"] == "1;w=60"
        assert int(reply.headers["retry-after"]) == int(reply.headers["ratelimit-reset"]) >= 1
    assert "submissions_per_minute" in judge0.json()["submission"][0]
    assert "submissions_per_minute" in piston.json()["message"]
