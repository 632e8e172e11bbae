"""THE contract test: a third party that knows only docs/kafka-contract.md.

500 jobs are produced with a plain aiokafka producer (plain dicts, ``json``, topic names spelled out as the
page says; none of the project's clients or schemas), and every one of them comes back on ``results``
with the right verdict, and is visible over HTTP (``GET /api/v1/submissions/{id}``, the event stream)
through the API that recorded it.
"""

import asyncio
import json
import uuid
from typing import Any

import httpx
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer
from httpx_sse import aconnect_sse

from tests.fixtures.waiting import eventually
from tests.grader.hostcluster import HostCluster, consumer_at_end

TOTAL = 500


def third_party_jobs() -> list[tuple[dict[str, Any], str]]:
    """(job message, expected verdict): single runs that succeed or crash, and jobs with tests that pass
    or fail; the fields exactly as the contract's example shows them."""
    jobs: list[tuple[dict[str, Any], str]] = []
    for i in range(TOTAL):
        job: dict[str, Any] = {"v": 1, "id": str(uuid.uuid4()), "language": "python"}
        kind = i % 5
        if kind in (0, 1):
            job |= {"source": "print(input()[::-1])", "stdin": f"job {i}\n"}
            expected = "accepted"
        elif kind == 2:
            job |= {
                "source": "a, b = map(int, input().split())\nprint(a + b)",
                "tests": [{"stdin": f"{i} 1\n", "expected_output": f"{i + 1}\n"}],
                "compare": "trim",
            }
            expected = "accepted"
        elif kind == 3:
            job |= {
                "source": "print(int(input()) * 3)",
                "tests": [
                    {"stdin": "1\n", "expected_output": "3\n"},
                    {"stdin": f"{i}\n", "expected_output": f"{i * 2}\n"},
                ],
                "limits": {"time_ms": 2000, "memory_mb": 128},
                "stop_on_first_failure": False,
            }
            expected = "wrong_answer"
        else:
            job |= {"source": "import sys\nprint('oops', file=sys.stderr)\nsys.exit(3)"}
            expected = "runtime_error"
        jobs.append((job, expected))
    return jobs


async def collect_results(
    consumer: AIOKafkaConsumer, ids: set[str]
) -> tuple[dict[str, dict[str, Any]], dict[str, set[str]]]:
    """The first ``result`` message of each of ``ids``, and the kinds of event seen for each."""
    results: dict[str, dict[str, Any]] = {}
    seen_events: dict[str, set[str]] = {}
    async with asyncio.timeout(240):
        while len(results) < len(ids):
            for records in (await consumer.getmany(timeout_ms=1000)).values():
                for record in records:
                    message = json.loads(record.value)
                    if message["id"] not in ids:
                        continue  # another test's job
                    assert record.key == message["id"].encode()
                    seen_events.setdefault(message["id"], set()).add(message["event"])
                    if message["event"] == "result":
                        results.setdefault(message["id"], message)
    return results, seen_events


async def test_500_jobs_from_a_plain_producer_all_come_back_and_are_visible_over_http(
    cluster_on_host: HostCluster,
) -> None:
    cluster = cluster_on_host
    jobs = third_party_jobs()
    expected = {job["id"]: verdict for job, verdict in jobs}
    by_id = {job["id"]: job for job, _ in jobs}
    producer = AIOKafkaProducer(bootstrap_servers=cluster.kafka_bootstrap, acks="all")
    await producer.start()
    try:
        results_topic = f"{cluster.topic_prefix}results"
        consumer = await consumer_at_end(cluster.kafka_bootstrap, [results_topic])
        try:
            for job, _ in jobs:
                value = json.dumps(job).encode()
                await producer.send(f"{cluster.topic_prefix}jobs.python", value, key=job["id"].encode())
            await producer.flush()
            results, seen_events = await collect_results(consumer, set(expected))
        finally:
            await consumer.stop()
    finally:
        await producer.stop()

    assert {sid: r["outcome"]["verdict"] for sid, r in results.items()} == expected
    for sid, result in results.items():
        assert {"id", "seq", "at", "outcome"} <= result.keys()
        assert "status" in seen_events[sid]  # the worker said it was running first
        job, outcome = by_id[sid], result["outcome"]
        if "tests" in job:
            assert [t["index"] for t in outcome["tests"]] == list(range(len(job["tests"])))
            assert "test" in seen_events[sid]
        else:
            assert outcome["run"]["stdout"] == (
                job["stdin"].rstrip("\n")[::-1] + "\n" if "stdin" in job else ""
            )
    await assert_visible_over_http(cluster.api_url, expected)


async def assert_visible_over_http(api_url: str, expected: dict[str, str]) -> None:
    """Every job is a finished submission with its verdict (once the API's recorder has caught up), and a
    submission's event stream ends with its result."""
    async with httpx.AsyncClient(base_url=api_url, timeout=30) as client:
        unchecked = set(expected)
        gate = asyncio.Semaphore(16)

        async def check(sid: str) -> None:
            async with gate:
                reply = await client.get(f"/api/v1/submissions/{sid}")
            if reply.status_code == 200 and reply.json()["status"] == "finished":
                view = reply.json()
                assert (view["verdict"], view["origin"]) == (expected[sid], "kafka")
                unchecked.discard(sid)

        async def all_finished() -> bool | None:
            await asyncio.gather(*(check(sid) for sid in list(unchecked)))
            return True if not unchecked else None

        await eventually(all_finished, within_s=120)

        sid = next(iter(expected))
        async with (
            asyncio.timeout(30),
            aconnect_sse(client, "GET", f"/api/v1/submissions/{sid}/events") as source,
        ):
            events = [(sse.event, json.loads(sse.data)) async for sse in source.aiter_sse()]
        assert [name for name, _ in events] == ["result"]
        assert events[0][1]["verdict"] == expected[sid]
