"""The runtime table (tests/runtimes/cases.py) once more, through the whole pipeline: each case is POSTed
to the API, runs on a worker container the master started, and its verdict arrives over SSE. The outcome
checks read the same result event from the results topic that the API streamed."""

import asyncio
from collections.abc import Sequence
from typing import Any

import httpx
import pytest

from schemas import Topics
from tests.e2e.sse import read_events
from tests.fixtures.cluster import Cluster
from tests.runtimes.cases import CASES, Case
from tests.runtimes.harness import Finished, collect_finished, read_results

pytestmark = pytest.mark.e2e

CONCURRENT_JOBS = 2
"""Jobs in flight at once: on 2 cores no job waits for a CPU, so time limits are about the program."""


class HttpRunner:
    """Runs cases by POSTing them and following their event streams."""

    def __init__(self, cluster: Cluster) -> None:
        self.cluster = cluster
        self.streamed: dict[str, dict[str, Any]] = {}
        """The final SSE ``result`` of each case, by case name."""

    async def run(self, cases: Sequence[Case]) -> dict[str, Finished]:
        """Submit every case (two in flight at a time) and collect what came back."""
        slots = asyncio.Semaphore(CONCURRENT_JOBS)
        ids: dict[str, str] = {}

        async def one(http: httpx.AsyncClient, case: Case) -> None:
            async with slots:
                reply = await http.post("/api/v1/submissions", json=case.submission())
                assert reply.status_code == 202, (case.name, reply.text)
                ids[case.name] = reply.json()["id"]
                events = await asyncio.wait_for(read_events(http, reply.json()["events"]), 120)
                self.streamed[case.name] = events[-1].data

        async with httpx.AsyncClient(base_url=self.cluster.api_url, timeout=60) as http:
            await asyncio.gather(*(one(http, case) for case in cases))
        events = await read_results(Topics(self.cluster.topic_prefix), set(ids.values()))
        return collect_finished(ids, events)


@pytest.fixture(scope="module")
async def over_http(cluster: Cluster) -> tuple[HttpRunner, dict[str, Finished]]:
    runner = HttpRunner(cluster)
    return runner, await runner.run(CASES)


@pytest.mark.parametrize("case", CASES, ids=lambda case: case.name)
def test_verdict_over_http(case: Case, over_http: tuple[HttpRunner, dict[str, Finished]]) -> None:
    runner, finished = over_http
    outcome = finished[case.name].outcome
    streamed = runner.streamed[case.name]
    assert streamed["status"] == "finished"
    assert streamed["verdict"] == outcome.verdict.value, "SSE and the results topic agree"
    assert outcome.verdict is case.verdict, outcome
    if case.test_verdicts is not None:
        tests = streamed["tests"]
        assert isinstance(tests, list)
        assert [test["verdict"] for test in tests] == [v.value for v in case.test_verdicts]
    for check in case.checks:
        check(outcome)
