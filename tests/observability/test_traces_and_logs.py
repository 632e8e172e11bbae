"""Traces and JSON logs of a whole cluster (API, master, C workers in their containers): every process
exports its spans to an OTLP/HTTP receiver in this test process, and logs one JSON object per line.

One trace per submission, parented across both Kafka hops (job, result) and the outbox row: POST →
relay publish → worker consume → compile, each test, result publish → recorder write, SSE delivery. A
job a batch grader produced straight to Kafka with its own ``traceparent`` joins the grader's trace.
"""

import asyncio
import secrets
from collections.abc import AsyncIterator, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from uuid import uuid4

import docker
import httpx
import orjson
import pytest
from aiokafka import AIOKafkaProducer

from schemas import Topics
from schemas.codec import encode
from schemas.jobs import JobMessage, TestCase
from tests.e2e.sse import Event, read_events
from tests.fixtures.cluster import LIVE_ONLY, Cluster, cluster_of_its_own
from tests.fixtures.otlp import ReceivedSpan, Receiver, otlp_receiver
from tests.fixtures.services import Services
from tests.fixtures.waiting import eventually

pytestmark = pytest.mark.e2e

ECHO_C = (
    "#include <stdio.h>\n"
    "/* {marker} */\n"
    "int main(void) {{ char line[256]; while (fgets(line, sizeof line, stdin)) fputs(line, stdout); }}\n"
)
SPANS_WITHIN_S = 90.0


@dataclass
class Observed:
    cluster: Cluster
    receiver: Receiver


@pytest.fixture(scope="module")
async def observed(services: Services, artifacts: Path) -> AsyncIterator[Observed]:
    """A cluster of C workers tracing to a receiver on the Docker bridge's address (which the host
    processes and the worker containers both reach), logging JSON."""
    with otlp_receiver(services.gateway) as receiver:
        settings = {
            **LIVE_ONLY,  # what a stream shows after it opened came over the live fan-out
            "EXECUTIONER_LANGUAGES": '["c"]',
            "EXECUTIONER_LOG_FORMAT": "json",
            "OTEL_EXPORTER_OTLP_ENDPOINT": receiver.url,
            "OTEL_BSP_SCHEDULE_DELAY": "100",  # the API's and the master's exports, soon after each span
        }
        async with cluster_of_its_own(services, artifacts, "traces", settings) as cluster:
            yield Observed(cluster, receiver)


def c_job(marker: str, lines: Iterable[str]) -> dict[str, Any]:
    """A C echo program (``marker`` in a comment) with one test per line."""
    return {
        "language": "c",
        "source": ECHO_C.format(marker=marker),
        "tests": [{"stdin": f"{line}\n", "expected_output": f"{line}\n"} for line in lines],
    }


async def follow_while_held(
    cluster: Cluster, client: httpx.AsyncClient, submit: Any, events_url: Any
) -> tuple[str, list[Event]]:
    """Submit (``await submit()`` → submission id) while the workers are held, open its stream
    (``events_url(id)``), and only once the stream has shown its first event let the job run: the result
    then reaches the stream live. Returns the id and the stream's events."""
    opened = asyncio.Event()
    async with cluster.workers_held("c"):
        submission_id = await submit()
        stream = asyncio.create_task(
            read_events(client, events_url(submission_id), on_event=lambda _: opened.set())
        )
        await asyncio.wait_for(opened.wait(), 60)
    return submission_id, await asyncio.wait_for(stream, 120)


def spans_of(spans: list[ReceivedSpan], trace_id: str) -> dict[str, ReceivedSpan]:
    """The spans of one trace by name; AssertionError when a name occurs twice."""
    by_name: dict[str, ReceivedSpan] = {}
    for span in spans:
        if span.trace_id == trace_id:
            assert span.name not in by_name, f"two {span.name!r} spans in trace {trace_id}"
            by_name[span.name] = span
    return by_name


def worker_hops(jobs_topic: str, tests: int) -> dict[str, str]:
    """Span name → its parent's name, from the worker's consume span on (the consume span's own parent
    is what produced the job)."""
    return {
        "compile": f"consume {jobs_topic}",
        **{f"test {index}": f"consume {jobs_topic}" for index in range(tests)},
        "publish result": f"consume {jobs_topic}",
        "record result": "publish result",
        "SSE result delivery": "publish result",
    }


SERVICES = {
    "compile": "executioner-worker",
    "publish result": "executioner-worker",
    "record result": "executioner-api",
    "SSE result delivery": "executioner-api",
}


def assert_parented(trace: dict[str, ReceivedSpan], parents: dict[str, str]) -> None:
    for name, parent in parents.items():
        assert trace[name].parent_span_id == trace[parent].span_id, f"{name!r} is not a child of {parent!r}"
    for name, service in SERVICES.items():
        assert trace[name].service == service, (name, trace[name].service)


async def test_one_trace_follows_a_submission_through_every_hop(observed: Observed) -> None:
    cluster, receiver = observed.cluster, observed.receiver
    jobs_topic = Topics(cluster.topic_prefix).jobs("c")
    async with httpx.AsyncClient(base_url=cluster.api_url, timeout=60) as client:

        async def submit() -> str:
            reply = await client.post("/api/v1/submissions", json=c_job("traced", ["a", "b"]))
            assert reply.status_code == 202, reply.text
            return str(reply.json()["id"])

        sid, events = await follow_while_held(
            cluster, client, submit, lambda sid: f"/api/v1/submissions/{sid}/events"
        )
    assert events[-1].data["verdict"] == "accepted"

    parents = {
        f"publish {jobs_topic}": "POST /api/v1/submissions",
        f"consume {jobs_topic}": f"publish {jobs_topic}",
        **worker_hops(jobs_topic, tests=2),
    }

    def complete(spans: list[ReceivedSpan]) -> bool:
        posts = [s for s in spans if s.name == "POST /api/v1/submissions" and _about(s, sid)]
        return bool(posts) and set(parents) <= set(spans_of(spans, posts[0].trace_id))

    spans = await asyncio.to_thread(receiver.wait_for, complete, SPANS_WITHIN_S)
    (post,) = [s for s in spans if s.name == "POST /api/v1/submissions" and _about(s, sid)]
    assert post.parent_span_id == "" and post.service == "executioner-api" and post.kind == "SPAN_KIND_SERVER"
    trace = spans_of(spans, post.trace_id)
    assert_parented(trace, parents)
    assert trace[f"publish {jobs_topic}"].kind == "SPAN_KIND_PRODUCER"
    assert trace[f"consume {jobs_topic}"].service == "executioner-worker"
    # One trace per submission: every span that names the submission is in it.
    assert {s.trace_id for s in spans if _about(s, sid)} == {post.trace_id}


async def test_a_batch_graders_traceparent_starts_the_trace(observed: Observed) -> None:
    cluster, receiver = observed.cluster, observed.receiver
    jobs_topic = Topics(cluster.topic_prefix).jobs("c")
    trace_id, grader_span = secrets.token_hex(16), secrets.token_hex(8)
    job = JobMessage(
        id=uuid4(),
        language="c",
        source=ECHO_C.format(marker="graded"),
        tests=[TestCase(stdin="x\n", expected_output="x\n")],
    )

    async with httpx.AsyncClient(base_url=cluster.api_url, timeout=60) as client:

        async def produce() -> str:
            producer = AIOKafkaProducer(bootstrap_servers=cluster.services.kafka_bootstrap, acks="all")
            await producer.start()
            try:
                headers = [("traceparent", f"00-{trace_id}-{grader_span}-01".encode())]
                await producer.send_and_wait(
                    jobs_topic, encode(job), key=str(job.id).encode(), headers=headers
                )
            finally:
                await producer.stop()

            async def recorded() -> bool | None:  # the API's intake makes the row the stream reads
                return (await client.get(f"/api/v1/submissions/{job.id}")).status_code == 200 or None

            await eventually(recorded, within_s=60)
            return str(job.id)

        _, events = await follow_while_held(
            cluster, client, produce, lambda sid: f"/api/v1/submissions/{sid}/events"
        )
    assert events[-1].data["verdict"] == "accepted"

    parents = worker_hops(jobs_topic, tests=1)
    spans = await asyncio.to_thread(
        receiver.wait_for, lambda spans: set(parents) <= set(spans_of(spans, trace_id)), SPANS_WITHIN_S
    )
    trace = spans_of(spans, trace_id)
    consume = trace[f"consume {jobs_topic}"]
    assert consume.parent_span_id == grader_span, "the worker's span must continue the grader's"
    assert consume.kind == "SPAN_KIND_CONSUMER"
    assert_parented(trace, parents)
    assert {s.trace_id for s in spans if _about(s, str(job.id))} == {trace_id}


async def test_a_judge0_clients_traceparent_is_continued(observed: Observed) -> None:
    cluster, receiver = observed.cluster, observed.receiver
    jobs_topic = Topics(cluster.topic_prefix).jobs("c")
    trace_id, client_span = secrets.token_hex(16), secrets.token_hex(8)
    body = {"source_code": ECHO_C.format(marker="judge0"), "language_id": 50, "stdin": "x\n"}
    headers = {"traceparent": f"00-{trace_id}-{client_span}-01"}
    async with httpx.AsyncClient(base_url=cluster.api_url, timeout=60) as client:
        reply = await client.post("/judge0/submissions", json=body, headers=headers)
        assert reply.status_code == 201, reply.text
    parents = {
        f"publish {jobs_topic}": "POST /judge0/submissions",
        f"consume {jobs_topic}": f"publish {jobs_topic}",
        "publish result": f"consume {jobs_topic}",
        "record result": "publish result",
    }
    spans = await asyncio.to_thread(
        receiver.wait_for, lambda spans: set(parents) <= set(spans_of(spans, trace_id)), SPANS_WITHIN_S
    )
    trace = spans_of(spans, trace_id)
    assert trace["POST /judge0/submissions"].parent_span_id == client_span, (
        "the API must continue the caller's"
    )
    for name, parent in parents.items():
        assert trace[name].parent_span_id == trace[parent].span_id, f"{name!r} is not a child of {parent!r}"


async def test_json_logs_carry_the_ids_and_never_the_program_or_its_input(observed: Observed) -> None:
    cluster, receiver = observed.cluster, observed.receiver
    in_source, in_stdin, in_tests = (f"s3cret-{what}-{secrets.token_hex(8)}" for what in "abc")
    body = {**c_job(in_source, [in_tests]), "stdin": in_stdin}
    async with httpx.AsyncClient(base_url=cluster.api_url, timeout=60) as client:
        reply = await client.post("/api/v1/submissions", json=body)
        assert reply.status_code == 202, reply.text
        sid = reply.json()["id"]
        events = await asyncio.wait_for(read_events(client, reply.json()["events"]), 120)
    assert events[-1].data["verdict"] == "accepted"
    assert in_tests in events[-1].data["tests"][0]["stdout"], "the secret did go through the job"
    spans = await asyncio.to_thread(
        receiver.wait_for, lambda spans: any(_about(s, sid) for s in spans), SPANS_WITHIN_S
    )
    trace_id = next(s.trace_id for s in spans if _about(s, sid))

    def worker_lines() -> dict[str, list[dict[str, Any]]]:
        logs = {}
        for container in docker.from_env().containers.list(
            ignore_removed=True, filters={"label": f"org.executioner.cluster={cluster.name}"}
        ):
            logs[container.name] = parse_lines(container.logs().decode(), f"worker {container.name}")
        return logs

    async def worker_logged_the_job() -> dict[str, list[dict[str, Any]]] | None:
        logs = await asyncio.to_thread(worker_lines)
        return logs if any(_mentions(line, sid) for lines in logs.values() for line in lines) else None

    try:
        workers = await eventually(worker_logged_the_job, within_s=60)
    except TimeoutError:
        raise AssertionError("no worker logged a line with the submission's id") from None
    api = [
        line for path in cluster.logs.glob("api-*.log") for line in parse_lines(path.read_text(), path.name)
    ]
    master = parse_lines((cluster.logs / "master.log").read_text(), "master.log")
    everything = [*api, *master, *(line for lines in workers.values() for line in lines)]
    for secret in (in_source, in_stdin, in_tests, cluster.env["EXECUTIONER_ADMIN_TOKEN"]):
        leaked = [line for line in everything if secret in orjson.dumps(line).decode()]
        assert not leaked, f"{secret!r} was logged: {leaked[:3]}"

    accepted = [line for line in api if _mentions(line, sid)]
    assert accepted, "the API logged nothing about the submission"
    for line in accepted:
        assert line["language"] == "c" and line["trace_id"] == trace_id, line
    ran = [(name, line) for name, lines in workers.items() for line in lines if _mentions(line, sid)]
    assert ran, "the worker logged nothing about the job"
    for name, line in ran:
        assert line["trace_id"] == trace_id and line["language"] == "c" and line["worker"] == name, line


def parse_lines(text: str, where: str) -> list[dict[str, Any]]:
    """Every line of a log as the JSON object it must be."""
    lines = []
    for number, line in enumerate(text.splitlines(), 1):
        try:
            record = orjson.loads(line)
        except orjson.JSONDecodeError as exc:
            raise AssertionError(f"{where}:{number} is not JSON: {line[:200]!r}") from exc
        assert isinstance(record, dict) and {"time", "level", "logger", "message"} <= record.keys(), line
        lines.append(record)
    return lines


def _about(span: ReceivedSpan, submission_id: str) -> bool:
    return span.attributes.get("executioner.submission_id") == submission_id


def _mentions(line: dict[str, Any], submission_id: str) -> bool:
    return line.get("submission_id") == submission_id
