"""Nothing accepted is lost: Kafka outages, a worker killed mid-job, MySQL down."""

import asyncio

import httpx
import pytest

from tests.e2e.sse import is_running, read_events
from tests.e2e.test_pipeline import submit
from tests.fixtures.cluster import Cluster
from tests.fixtures.waiting import eventually

pytestmark = pytest.mark.e2e


async def test_submissions_accepted_while_kafka_is_down_all_run_when_it_returns(
    cluster: Cluster, client: httpx.AsyncClient
) -> None:
    await cluster.stop_kafka()
    try:
        ready = await client.get("/readyz")
        assert ready.status_code == 503, ready.text
        accepted = [await submit(client, language="python", source=f"print({n} * {n})") for n in range(5)]
    finally:
        await cluster.start_kafka()

    results = await asyncio.wait_for(
        asyncio.gather(*(read_events(client, a["events"]) for a in accepted)), 180
    )
    assert [r[-1].data["stdout"] for r in results] == [f"{n * n}\n" for n in range(5)]
    assert (await eventually(lambda: _ready(client), within_s=60)) is True  # its fan-out reads again


async def test_worker_killed_mid_job_the_job_still_finishes_once(
    cluster: Cluster, client: httpx.AsyncClient
) -> None:
    # It waits for nothing until its wall limit (6 s): still running when its first worker is killed, however
    # long the test takes to react; the second worker's run ends at that limit.
    source = "import threading\nthreading.Event().wait()"
    accepted = await submit(client, language="python", source=source, limits={"time_ms": 2000})
    # Wait for a worker to take the job, then SIGKILL that worker's container.
    running = await asyncio.wait_for(read_events(client, accepted["events"], until=is_running), 120)
    killed = running[-1].data.get("worker")
    assert killed, f"the running event names its worker: {running[-1]}"
    await cluster.kill_worker_container(killed)

    events = await asyncio.wait_for(read_events(client, accepted["events"]), 180)
    results = [e for e in events if e.event == "result"]
    assert len(results) == 1
    assert results[0].data["verdict"] == "time_limit_exceeded"
    # Only the second worker ever finished it, and the stored result is that one.
    on_kafka = await cluster.result_events_on_kafka(accepted["id"])
    assert len(on_kafka) == 1
    assert on_kafka[0].outcome.worker != killed
    assert results[0].data["worker"] == on_kafka[0].outcome.worker


async def test_readyz_is_503_while_mysql_is_down(cluster: Cluster, client: httpx.AsyncClient) -> None:
    assert (await client.get("/readyz")).status_code == 200
    await cluster.stop_mysql()
    try:
        reply = await client.get("/readyz")
        assert reply.status_code == 503
        assert (await client.get("/healthz")).status_code == 200
    finally:
        await cluster.start_mysql()
    assert (await eventually(lambda: _ready(client), within_s=60)) is True


async def _ready(client: httpx.AsyncClient) -> bool | None:
    return True if (await client.get("/readyz")).status_code == 200 else None
