"""The spine, end to end on real services: HTTP → MySQL → Kafka → a worker container → results → SSE."""

import asyncio
from collections.abc import Callable

import httpx
import pytest

from tests.e2e.sse import Event, read_events
from tests.fixtures.cluster import LIVE_ONLY, Cluster
from tests.fixtures.waiting import eventually

pytestmark = pytest.mark.e2e

ECHO_REVERSED = "import sys\nfor line in sys.stdin:\n    print(line.rstrip('\\n')[::-1])\n"


async def submit(client: httpx.AsyncClient, **body: object) -> dict[str, str]:
    reply = await client.post("/api/v1/submissions", json=body)
    assert reply.status_code == 202, reply.text
    accepted: dict[str, str] = reply.json()
    assert accepted["status"] == "queued"
    assert accepted["events"].endswith(f"/api/v1/submissions/{accepted['id']}/events")
    return accepted


async def test_program_output_arrives_over_sse(cluster: Cluster, client: httpx.AsyncClient) -> None:
    accepted = await submit(client, language="python", source=ECHO_REVERSED, stdin="hello\nworld\n")
    events = await asyncio.wait_for(read_events(client, accepted["events"]), 120)

    kinds = [e.event for e in events]
    assert kinds[0] == "status" and kinds[-1] == "result"
    assert "running" in [e.data.get("status") for e in events if e.event == "status"]
    ids = [int(e.id) for e in events]
    assert ids == sorted(set(ids)), f"event ids must increase: {ids}"
    result = events[-1].data
    assert result["id"] == accepted["id"]
    assert result["status"] == "finished"
    assert result["verdict"] == "accepted"
    assert result["stdout"] == "olleh\ndlrow\n"
    assert result["exit_code"] == 0

    # The stream may deliver the result a moment before the recorder has stored it (both consume the
    # results topic independently); once stored, GET serves the very same JSON (and what was submitted).
    async def stored() -> dict[str, object] | None:
        body: dict[str, object] = (await client.get(f"/api/v1/submissions/{accepted['id']}")).json()
        body.pop("submitted")
        return body if body["status"] == "finished" else None

    assert await eventually(stored, within_s=30) == result


async def test_failing_program_is_a_runtime_error_verdict(
    cluster: Cluster, client: httpx.AsyncClient
) -> None:
    accepted = await submit(
        client, language="python", source="import sys\nprint('x', file=sys.stderr)\nsys.exit(3)"
    )
    result = (await asyncio.wait_for(read_events(client, accepted["events"]), 120))[-1].data
    assert result["verdict"] == "runtime_error"
    assert result["exit_code"] == 3
    assert result["stderr"] == "x\n"


async def test_late_subscriber_and_resume(cluster: Cluster, client: httpx.AsyncClient) -> None:
    accepted = await submit(client, language="python", source="print(6 * 7)")
    first = await asyncio.wait_for(read_events(client, accepted["events"]), 120)
    final_id = first[-1].id

    # After the finish: the current state is the result itself, and the stream ends.
    late = await asyncio.wait_for(read_events(client, accepted["events"]), 30)
    assert [e.event for e in late] == ["result"]
    assert late[0].id == final_id and late[0].data["stdout"] == "42\n"

    # Resuming after the last event repeats nothing: the stream ends without events.
    async with client.stream(
        "GET", accepted["events"], headers={"Last-Event-ID": final_id}, timeout=30
    ) as stream:
        body = b"".join([chunk async for chunk in stream.aiter_bytes()])
    assert b"event: result" not in body

    # Resuming after the queued event gets everything after it, nothing before.
    resumed = await asyncio.wait_for(read_events(client, accepted["events"], last_event_id="0"), 30)
    assert all(int(e.id) > 0 for e in resumed)
    assert resumed[-1].event == "result"


async def test_two_api_processes_both_stream_one_submission_live(
    cluster: Cluster, client: httpx.AsyncClient
) -> None:
    # Two more replicas whose streams never re-read MySQL meanwhile: a result reaches them only through
    # each one's own fan-out of the results topic.
    async with (
        cluster.extra_api(LIVE_ONLY) as one_url,
        cluster.extra_api(LIVE_ONLY) as other_url,
        httpx.AsyncClient(base_url=one_url, timeout=60) as one,
        httpx.AsyncClient(base_url=other_url, timeout=60) as other,
    ):
        async with cluster.workers_held("python"):  # the job cannot start before both streams follow it
            accepted = await submit(client, language="python", source="print('both')")
            path = f"/api/v1/submissions/{accepted['id']}/events"
            opened = [asyncio.Event(), asyncio.Event()]  # a stream's first frame comes after it subscribed
            streams = asyncio.gather(
                *(
                    read_events(http, path, on_event=_sets(seen))
                    for http, seen in zip((one, other), opened, strict=True)
                )
            )
            try:
                async with asyncio.timeout(30):
                    await asyncio.gather(*(seen.wait() for seen in opened))
            except BaseException:
                streams.cancel()
                raise
        here, there = await asyncio.wait_for(streams, 60)
    for events in (here, there):  # each opened on the queued job, then heard it run and finish
        assert [e.data["status"] for e in events if e.event == "status"] == ["queued", "running"]
    assert here[-1].event == there[-1].event == "result"
    assert here[-1].data["stdout"] == there[-1].data["stdout"] == "both\n"
    assert here[-1].id == there[-1].id


def _sets(flag: asyncio.Event) -> Callable[[Event], None]:
    return lambda _: flag.set()


async def test_unknown_submission_is_404(cluster: Cluster, client: httpx.AsyncClient) -> None:
    missing = "00000000-0000-4000-8000-000000000000"
    for path in (f"/api/v1/submissions/{missing}", f"/api/v1/submissions/{missing}/events"):
        reply = await client.get(path)
        assert reply.status_code == 404
        assert reply.json()["error"]["code"]


async def test_languages_report_the_toolchain_version_from_the_image(
    cluster: Cluster, client: httpx.AsyncClient
) -> None:
    async def python_version() -> str | None:
        reply = await client.get("/api/v1/languages")
        assert reply.status_code == 200
        by_id = {lang["id"]: lang for lang in reply.json()}
        version: str | None = by_id["python"]["version"]
        return version

    version = await eventually(python_version, within_s=60)
    assert version is not None and version.startswith("Python 3.")
    by_id = {lang["id"]: lang for lang in (await client.get("/api/v1/languages")).json()}
    python = by_id["python"]
    assert (python["aliases"], python["source_file"]) == (["python3", "py"], "main.py")
    assert not python["compiled"]
    assert python["libraries"] == ["numpy 1.24.2"] and python["judge0_ids"] == [71]
    assert python["default_limits"]["memory_mb"] <= python["max_limits"]["memory_mb"]
    assert by_id["java"]["compiled"] and by_id["java"]["memory_overhead_mb"] == 64
