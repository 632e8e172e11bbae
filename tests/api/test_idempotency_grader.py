"""The Python grading client over HTTP sends one ``Idempotency-Key`` per job and the same on its retries:
when the API's answer to a POST is lost (the client sees a timeout after the API stored the job), the
retry gets the same submission, and every job runs once. Real API and MariaDB; the lost answer is the
only thing staged (a transport that drops the first response of each key after the API sent it)."""

import functools
import secrets
from collections import Counter

import httpx
import pytest
import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncEngine

from grader import GradeOptions, grade


class LosesFirstAnswer(httpx.AsyncBaseTransport):
    """Sends every request to the API; the first answer to each idempotency key's POST is read and then
    dropped, as when the client's read timed out just after the API committed."""

    def __init__(self) -> None:
        self._inner = httpx.AsyncHTTPTransport()
        self.posted_keys: list[str | None] = []

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        response = await self._inner.handle_async_request(request)
        if request.method != "POST":
            return response
        key = request.headers.get("idempotency-key")
        first = key not in self.posted_keys
        self.posted_keys.append(key)
        if first:
            await response.aread()
            await response.aclose()
            raise httpx.ReadTimeout("the answer was lost", request=request)
        return response

    async def aclose(self) -> None:
        await self._inner.aclose()


async def test_a_lost_answer_is_retried_with_the_same_key_and_runs_once(
    api_url: str, engine: AsyncEngine, monkeypatch: pytest.MonkeyPatch
) -> None:
    transport = LosesFirstAnswer()
    # The grader makes its client inside grade(): give that client our transport.
    monkeypatch.setattr(httpx, "AsyncClient", functools.partial(httpx.AsyncClient, transport=transport))
    sources = [f"print('{secrets.token_hex(8)}')" for _ in range(3)]
    jobs = [{"language": "python", "source": source} for source in sources]
    # No worker runs in the API tests: the jobs stay queued, and the run ends at its timeout.
    report = await grade(jobs, GradeOptions(via="http", api_url=api_url, timeout_s=3, concurrency=3))

    keys = Counter(transport.posted_keys)
    assert None not in keys
    assert len(keys) == len(jobs) and set(keys.values()) == {2}  # a fresh key per job, reused once
    query = sa.text("SELECT source, id FROM submissions WHERE source IN :sources").bindparams(
        sa.bindparam("sources", expanding=True)
    )
    async with engine.connect() as conn:
        stored = [(row.source, row.id) for row in await conn.execute(query, {"sources": sources})]
    assert sorted(source for source, _ in stored) == sorted(sources)  # one submission per job
    by_source = dict(stored)
    assert [result.id for result in report.results] == [by_source[source] for source in sources]
