"""What streams promise on the real cluster: a stream opened mid-run replays the tests done so far, and
once a stream has shown ``result``, GET on any replica returns that same finished submission."""

import asyncio
from collections.abc import AsyncIterator

import httpx
import pytest
import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

from tests.e2e.sse import Event, read_events
from tests.fixtures.cluster import Cluster
from tests.fixtures.waiting import eventually

pytestmark = pytest.mark.e2e

# Each test takes a while, so a stream opened after the first one finds the rest still running.
SLOW_ECHO = "import time\ntime.sleep(0.8)\nprint(input())\n"
TESTS = 4
SUBMISSIONS = 25


@pytest.fixture
async def database(cluster: Cluster) -> AsyncIterator[AsyncEngine]:
    engine = create_async_engine(cluster.database_url)
    yield engine
    await engine.dispose()


async def submit(client: httpx.AsyncClient, **body: object) -> dict[str, str]:
    reply = await client.post("/api/v1/submissions", json={"language": "python", **body})
    assert reply.status_code == 202, reply.text
    accepted: dict[str, str] = reply.json()
    return accepted


def sequence(events: list[Event]) -> list[tuple[str, int]]:
    return [(e.event, int(e.id)) for e in events]


async def test_a_stream_opened_mid_run_sees_every_test_once_in_order(
    cluster: Cluster, client: httpx.AsyncClient, database: AsyncEngine
) -> None:
    tests = [{"stdin": f"{i}\n", "expected_output": str(i)} for i in range(TESTS)]
    accepted = await submit(client, source=SLOW_ECHO, tests=tests)
    url = accepted["events"]
    early = asyncio.create_task(read_events(client, url))
    try:
        # The first test event, seen live by another client, then recorded in MySQL.
        await asyncio.wait_for(read_events(client, url, until=lambda e: e.event == "test"), 120)

        async def first_test_recorded() -> bool | None:
            async with database.connect() as conn:
                seq = await conn.scalar(sa.text("SELECT last_seq FROM submissions WHERE id = :id"), accepted)
            return True if seq is not None and seq >= 2 else None

        await eventually(first_test_recorded, within_s=60)
        late, resumed = await asyncio.wait_for(
            asyncio.gather(read_events(client, url), read_events(client, url, last_event_id="2")), 120
        )
        first = await asyncio.wait_for(early, 120)
    finally:
        early.cancel()

    everything = [("status", 1), *[("test", 2 + i) for i in range(TESTS)], ("result", 2 + TESTS)]
    assert sequence(first)[1:] == everything, "the stream that saw it all (after 'queued')"
    assert sequence(late) == everything
    assert [e.data["index"] for e in late if e.event == "test"] == list(range(TESTS))
    assert [e.data for e in late if e.event == "test"] == [e.data for e in first if e.event == "test"]
    assert sequence(resumed) == everything[2:], "resuming after test 0 replays the others only"
    assert late[-1].data["verdict"] == "accepted"


async def test_after_a_stream_shows_the_result_every_replica_serves_it(
    cluster: Cluster, client: httpx.AsyncClient
) -> None:
    async with cluster.extra_api() as other_url, httpx.AsyncClient(base_url=other_url, timeout=60) as other:
        for n in range(SUBMISSIONS):
            accepted = await submit(client, source=f"print({n})")
            result = (await asyncio.wait_for(read_events(client, accepted["events"]), 120))[-1]
            assert result.event == "result"
            # No waiting: the other replica's GET right after the stream's result.
            stored = (await other.get(f"/api/v1/submissions/{accepted['id']}")).json()
            assert (stored["status"], stored["verdict"], stored["stdout"]) == (
                "finished",
                "accepted",
                f"{n}\n",
            ), n
            stored.pop("submitted")
            assert stored == result.data, n
