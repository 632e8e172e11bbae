"""The API's, the master's and the workers' metrics as a real Prometheus scrapes them with the deployed
configuration (the API statically, the master and workers found through the API's service discovery),
after a known mix of 50 submissions through the whole cluster: over HTTP, straight to Kafka as a batch
grader does, and one dead letter. Then the python pool is scaled to 0 and its worker leaves Prometheus."""

import asyncio
import math
import secrets
import time
from collections import Counter
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from uuid import uuid4

import httpx
import pytest
from aiokafka import AIOKafkaProducer

from bench import dashboard
from devstack import processes
from schemas import Topics
from schemas.codec import encode
from schemas.jobs import JobMessage, TestCase
from tests.e2e.sse import read_events
from tests.fixtures.cluster import Cluster, cluster_of_its_own
from tests.fixtures.prometheus import Prometheus, prometheus_of, scraped_ok, workers_of
from tests.fixtures.services import Services
from tests.fixtures.waiting import eventually

pytestmark = pytest.mark.e2e

ECHO = "print(input())"
WORKER_METRICS_PORT = 9400
POOL_SIZE = 2
LANGUAGES = ("python", "c")
C_HELLO = '#include <stdio.h>\nint main(void) { puts("hi"); return 0; }\n'
ADMIN_TOKEN = "test-admin-token"  # tests/fixtures/cluster.py gives every cluster this one


@dataclass(frozen=True)
class Submission:
    """One submission of the mix and the verdict it must get."""

    body: dict[str, object]
    verdict: str

    @property
    def language(self) -> str:
        return str(self.body["language"])


def echo_test(expected: str) -> list[dict[str, str]]:
    return [{"stdin": "a\n", "expected_output": expected}]


MIX = (
    *[Submission({"language": "python", "source": ECHO, "tests": echo_test("a\n")}, "accepted")] * 20,
    *[Submission({"language": "python", "source": ECHO, "tests": echo_test("b\n")}, "wrong_answer")] * 10,
    *[Submission({"language": "python", "source": "raise SystemExit(3)"}, "runtime_error")] * 8,
    *[
        Submission(
            {"language": "python", "source": "while True: pass", "limits": {"time_ms": 200}},
            "time_limit_exceeded",
        )
    ]
    * 4,
    *[Submission({"language": "c", "source": C_HELLO, "tests": [{"expected_output": "hi\n"}]}, "accepted")]
    * 5,
    *[Submission({"language": "c", "source": "int main( {"}, "compilation_error")] * 3,
)
assert len(MIX) == 50


@dataclass
class Scraped:
    cluster: Cluster
    prometheus: Prometheus
    since: float
    """When Prometheus started scraping (Unix seconds)."""


@pytest.fixture(scope="module")
async def scraped(services: Services, artifacts: Path) -> AsyncIterator[Scraped]:
    """A cluster of python and c workers, scraped every second by Prometheus with the deployed config."""
    settings = {
        "EXECUTIONER_LANGUAGES": '["python", "c"]',
        "EXECUTIONER_MASTER_METRICS_PORT": str(processes.free_port()),
        "EXECUTIONER_WORKER_METRICS_PORT": str(WORKER_METRICS_PORT),
        "EXECUTIONER_WORKER_POOL_SIZE": str(POOL_SIZE),
    }
    async with cluster_of_its_own(services, artifacts, "metrics", settings) as cluster:
        api = cluster.api_url.removeprefix("http://")
        home = cluster.logs / f"prometheus-{secrets.token_hex(3)}"
        async with prometheus_of(api, ADMIN_TOKEN, home) as prometheus:

            def every_part_up(targets: list[dict[str, Any]]) -> bool:
                workers = workers_of(targets)
                return (
                    scraped_ok(targets, "master")
                    and all(t["health"] == "up" for t in targets if t["labels"]["job"] == "executioner-api")
                    and all(len(workers.get(language, [])) == 1 for language in LANGUAGES)
                    and all(t["health"] == "up" for found in workers.values() for t in found)
                )

            since = time.time()
            await prometheus.targets_until(every_part_up, within_s=180)
            yield Scraped(cluster, prometheus, since)


async def run_over_http(client: httpx.AsyncClient, submission: Submission) -> str:
    """Submit, follow the stream to the result, return the verdict."""
    reply = await client.post("/api/v1/submissions", json=submission.body)
    assert reply.status_code == 202, reply.text
    events = await asyncio.wait_for(read_events(client, reply.json()["events"]), 180)
    verdict: str = events[-1].data["verdict"]
    return verdict


async def produce_to_kafka(cluster: Cluster, values: list[bytes]) -> None:
    """Produce ``values`` to ``jobs.python`` as a batch grader would."""
    producer = AIOKafkaProducer(bootstrap_servers=cluster.services.kafka_bootstrap, acks="all")
    await producer.start()
    try:
        for value in values:
            await producer.send_and_wait(Topics(cluster.topic_prefix).jobs("python"), value, key=None)
    finally:
        await producer.stop()


async def test_counters_equal_what_was_submitted(scraped: Scraped) -> None:
    cluster, prometheus = scraped.cluster, scraped.prometheus
    async with httpx.AsyncClient(base_url=cluster.api_url, timeout=60) as client:
        verdicts = await asyncio.gather(*(run_over_http(client, s) for s in MIX))
    assert verdicts == [s.verdict for s in MIX], "the mix's verdicts are what the counters must show"

    graded = JobMessage(
        id=uuid4(), language="python", source=ECHO, tests=[TestCase(stdin="x\n", expected_output="x\n")]
    )
    await produce_to_kafka(cluster, [encode(graded), b"this is not a job"])

    by_language = Counter(s.language for s in MIX)
    for language, count in by_language.items():
        await prometheus.until(
            f'executioner_submissions_accepted_total{{language="{language}",origin="http"}}', count
        )
    await prometheus.until('executioner_submissions_accepted_total{language="python",origin="kafka"}', 1)
    by_verdict = Counter((s.language, s.verdict) for s in MIX)
    by_verdict[("python", "accepted")] += 1  # the batch grader's job
    for (language, verdict), count in by_verdict.items():
        await prometheus.until(
            f'executioner_results_recorded_total{{language="{language}",verdict="{verdict}"}}', count
        )
    assert await prometheus.value("sum(executioner_results_recorded_total)") == len(MIX) + 1
    # The workers timed every job they ran, under the verdict they gave.
    for (language, verdict), count in by_verdict.items():
        await prometheus.until(
            f'executioner_worker_job_duration_seconds_count{{language="{language}",verdict="{verdict}"}}',
            count,
        )
    await prometheus.until("sum(executioner_worker_jobs_running)", 0)
    # Every job ran in a sandbox set up for it (and so did the worker's start-up self-test); the
    # compiled ones were timed under the compiler's verdict.
    runs = Counter(language for language, _ in by_verdict.elements())
    for language, count in runs.items():
        await prometheus.until(
            f'executioner_worker_sandbox_setup_seconds_count{{language="{language}"}}', count + 1
        )
        await prometheus.until(f'executioner_worker_pool_slots{{language="{language}"}}', POOL_SIZE)
    compiled = Counter(s.verdict for s in MIX if s.language == "c")
    await prometheus.until(
        'executioner_worker_compile_seconds_count{language="c",verdict="accepted"}', compiled["accepted"]
    )
    await prometheus.until(
        'executioner_worker_compile_seconds_count{language="c",verdict="compilation_error"}',
        compiled["compilation_error"],
    )
    assert await prometheus.query('executioner_worker_compile_seconds_count{language="python"}') == []
    for language in LANGUAGES:
        fetched = await prometheus.value(
            f'executioner_worker_kafka_fetch_seconds_count{{language="{language}"}}'
        )
        assert fetched is not None and fetched >= 1
        committed = await prometheus.value(
            f'executioner_worker_kafka_commit_seconds_count{{language="{language}",outcome="ok"}}'
        )
        assert committed is not None and committed >= 1
    # The relay published every HTTP submission, in batches; the recorder wrote every result event.
    published = await prometheus.value("executioner_relay_publish_seconds_count")
    assert published is not None and 1 <= published <= len(MIX)
    recorded = await prometheus.value('executioner_consumer_delay_seconds_count{consumer="recorder"}')
    assert recorded is not None and recorded >= 2 * (len(MIX) + 1)
    await prometheus.until('executioner_consumer_lag_records{consumer="recorder"}', 0)
    await prometheus.until('executioner_dead_letters_total{kind="undecodable"}', 1)
    await prometheus.until(
        'executioner_http_requests_total{path="/api/v1/submissions",method="POST",status_code="202"}',
        len(MIX),
    )
    # Every result reached the fan-out (a status, maybe tests, and the result per submission).
    delivered = await prometheus.value("executioner_fanout_delay_seconds_count")
    assert delivered is not None and delivered >= 2 * (len(MIX) + 1)
    await prometheus.until("executioner_sse_streams_open", 0)
    await prometheus.until("executioner_outbox_rows", 0)


async def run_and_see_scraped(scraped: Scraped, submission: Submission) -> None:
    """Run ``submission`` over HTTP and wait until Prometheus has scraped its result and its job."""
    prometheus = scraped.prometheus
    recorded = "sum(executioner_results_recorded_total)"
    timed = f'sum(executioner_worker_job_duration_seconds_count{{language="{submission.language}"}})'
    recorded_before, timed_before = await prometheus.value(recorded), await prometheus.value(timed)
    async with httpx.AsyncClient(base_url=scraped.cluster.api_url, timeout=60) as client:
        assert await run_over_http(client, submission) == submission.verdict
    await prometheus.until(recorded, (recorded_before or 0) + 1)
    await prometheus.until(timed, (timed_before or 0) + 1)


async def test_every_dashboard_panel_draws_from_the_cluster(scraped: Scraped, artifacts: Path) -> None:
    """The Grafana dashboard's queries, run by bench.dashboard, find data for every panel; the picture is
    left in the test's artifacts.

    A rate needs a counter to grow between two scrapes that it already existed for: a burst that all
    lands between two scrapes draws a zero rate and a NaN quantile. So two jobs run here one after the
    other, each seen scraped before the next, whatever ran before this test."""
    for _ in range(2):
        await run_and_see_scraped(scraped, MIX[0])
    out = artifacts / "dashboard.png"
    empty: list[str] = []

    async def every_panel_drawn() -> bool | None:
        # The last step of a range query can fall just before the newest scrape: look again.
        drawn = await asyncio.to_thread(
            dashboard.render, scraped.prometheus.url, out, start=scraped.since, end=time.time(), rate="30s"
        )
        assert set(drawn) == {panel.title for panel in dashboard.load_panels()}
        empty[:] = [
            title
            for title, series in drawn.items()
            if not any(math.isfinite(value) for line in series for value in line.values)
        ]
        return True if not empty else None

    try:
        await eventually(every_panel_drawn, within_s=30)
    except TimeoutError:
        raise AssertionError(f"panels without data: {empty}") from None
    assert out.stat().st_size > 10_000


async def test_open_streams_are_counted(scraped: Scraped) -> None:
    cluster, prometheus = scraped.cluster, scraped.prometheus
    async with httpx.AsyncClient(base_url=cluster.api_url, timeout=60) as client:
        body = {"language": "python", "source": "import time\ntime.sleep(5)"}
        accepted = (await client.post("/api/v1/submissions", json=body)).json()
        stream = asyncio.create_task(read_events(client, accepted["events"]))
        try:
            await prometheus.until("executioner_sse_streams_open", 1)
            await prometheus.until('executioner_worker_jobs_running{language="python"}', 1)
        finally:
            stream.cancel()
            await asyncio.gather(stream, return_exceptions=True)
    await prometheus.until("executioner_sse_streams_open", 0)


async def test_paths_nobody_routes_mint_no_labels(scraped: Scraped) -> None:
    junk = f"no-such-route-{secrets.token_hex(6)}"
    async with httpx.AsyncClient(base_url=scraped.cluster.api_url, timeout=60) as client:
        assert (await client.get(f"/api/v1/{junk}")).status_code == 404
        known = await client.get(f"/api/v1/submissions/{uuid4()}")
        assert known.status_code == 404
        text = (await client.get("/metrics")).text
    assert junk not in text
    # A routed request is labelled by its template, never by the id in its path.
    assert 'path="/api/v1/submissions/{submission_id}"' in text, text


async def test_master_reports_its_pools_and_leadership(scraped: Scraped) -> None:
    prometheus = scraped.prometheus
    await prometheus.until("executioner_master_leader", 1)
    for language in LANGUAGES:
        await prometheus.until(f'executioner_master_workers_desired{{language="{language}"}}', 1)
        await prometheus.until(f'executioner_master_workers{{language="{language}",state="running"}}', 1)
        started = await prometheus.value(
            f'executioner_master_reconcile_actions_total{{language="{language}",kind="start",outcome="ok"}}'
        )
        assert started is not None and started >= 1
    lag = await prometheus.query("executioner_master_queue_lag")
    assert {series["metric"]["language"] for series in lag} == set(LANGUAGES)  # type: ignore[index]


async def test_workers_leave_prometheus_when_their_pool_is_scaled_to_zero(scraped: Scraped) -> None:
    cluster, prometheus = scraped.cluster, scraped.prometheus
    admin = {"Authorization": f"Bearer {ADMIN_TOKEN}"}
    async with httpx.AsyncClient(base_url=cluster.api_url, headers=admin, timeout=30) as http:
        # The discovery route is an admin route.
        route = "/api/v1/admin/prometheus/targets"
        assert (await http.get(route, headers={"Authorization": ""})).status_code == 401
        assert (await http.get(route, headers={"Authorization": "Bearer wrong"})).status_code == 403
        listed = (await http.get("/api/v1/admin/prometheus/targets")).json()
        python = [g for g in listed if g["labels"].get("__meta_executioner_language") == "python"]
        assert len(python) == 1, listed
        (worker,) = workers_of(await prometheus.targets())["python"]
        assert worker["labels"]["worker"] == python[0]["labels"]["worker"]
        assert worker["scrapeUrl"] == f"http://{python[0]['targets'][0]}/metrics"

        reply = await http.put("/api/v1/admin/pools/python", json={"replicas": 0})
        assert reply.status_code == 200, reply.text
        try:
            # Gone from Prometheus's targets (the c worker and the master stay), through discovery.
            await prometheus.targets_until(
                lambda targets: "python" not in workers_of(targets) and "c" in workers_of(targets)
            )
            listed = (await http.get("/api/v1/admin/prometheus/targets")).json()
            assert [g["labels"]["component"] for g in listed] == ["master", "worker"], listed
            await prometheus.until('executioner_master_workers_desired{language="python"}', 0)
            await prometheus.until('sum(executioner_master_workers{language="python"})', 0)
        finally:
            await http.put("/api/v1/admin/pools/python", json={"replicas": 1})
