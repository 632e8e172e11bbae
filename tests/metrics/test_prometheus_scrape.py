"""The API's, the master's and the workers' metrics as a real Prometheus scrapes them, after a known mix
of submissions through the whole cluster: over HTTP, straight to Kafka as a batch grader does, and one
dead letter."""

import asyncio
import secrets
from collections import Counter
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from uuid import uuid4

import docker
import httpx
import pytest
from aiokafka import AIOKafkaProducer

from devstack import processes
from schemas import Topics
from schemas.codec import encode
from schemas.jobs import JobMessage, TestCase
from tests.e2e.sse import read_events
from tests.fixtures.cluster import Cluster, cluster_of_its_own
from tests.fixtures.prometheus import Prometheus, prometheus_scraping
from tests.fixtures.services import Services
from tests.fixtures.waiting import eventually

pytestmark = pytest.mark.e2e

ECHO = "print(input())"
WORKER_METRICS_PORT = 9400
LANGUAGES = ("python", "c")
C_HELLO = '#include <stdio.h>\nint main(void) { puts("hi"); return 0; }\n'


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
    *[Submission({"language": "python", "source": ECHO, "tests": echo_test("a\n")}, "accepted")] * 3,
    *[Submission({"language": "python", "source": ECHO, "tests": echo_test("b\n")}, "wrong_answer")] * 2,
    Submission({"language": "python", "source": "raise SystemExit(3)"}, "runtime_error"),
    *[Submission({"language": "c", "source": C_HELLO, "tests": [{"expected_output": "hi\n"}]}, "accepted")]
    * 2,
    Submission({"language": "c", "source": "int main( {"}, "compilation_error"),
)


@dataclass
class Scraped:
    cluster: Cluster
    prometheus: Prometheus


@pytest.fixture(scope="module")
async def scraped(services: Services, artifacts: Path) -> AsyncIterator[Scraped]:
    """A cluster of python and c workers, its API and master scraped every second by Prometheus."""
    master_port = processes.free_port()
    settings = {
        "EXECUTIONER_LANGUAGES": '["python", "c"]',
        "EXECUTIONER_MASTER_METRICS_PORT": str(master_port),
        "EXECUTIONER_WORKER_METRICS_PORT": str(WORKER_METRICS_PORT),
    }
    async with cluster_of_its_own(services, artifacts, "metrics", settings) as cluster:
        api = cluster.api_url.removeprefix("http://")
        home = cluster.logs / f"prometheus-{secrets.token_hex(3)}"
        workers = await eventually(lambda: asyncio.to_thread(worker_metrics_targets, cluster), within_s=120)
        targets = {"api": api, "master": f"127.0.0.1:{master_port}", **workers}
        async with prometheus_scraping(targets, home) as prometheus:
            await prometheus.targets_up(list(targets))
            yield Scraped(cluster, prometheus)


def worker_metrics_targets(cluster: Cluster) -> dict[str, str] | None:
    """``worker-<language>`` → the host's address of that worker's metrics, once each language has a
    running worker (None before)."""
    targets: dict[str, str] = {}
    for container in docker.from_env().containers.list(
        filters={"label": f"org.executioner.cluster={cluster.name}"}
    ):
        published = container.ports.get(f"{WORKER_METRICS_PORT}/tcp")
        if published:
            (binding,) = published
            assert binding["HostIp"] == "127.0.0.1", "worker metrics must be published on the loopback only"
            targets[f"worker-{container.labels['org.executioner.language']}"] = (
                f"127.0.0.1:{binding['HostPort']}"
            )
    return targets if len(targets) == len(LANGUAGES) else None


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
