"""What streams promise on the real cluster: a stream opened mid-run replays the tests done so far, and
once a stream has shown ``result``, GET on any replica returns that same finished submission."""

import asyncio
from collections.abc import AsyncIterator, Callable

import httpx
import pytest
import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

from tests.e2e.sse import Event, read_events
from tests.fixtures.cluster import Cluster
from tests.fixtures.waiting import eventually

pytestmark = pytest.mark.e2e

# Test 1 waits for nothing until its wall limit: the job is certainly mid-run (test 0 done, test 1 not)
# until then, long enough to hold its worker there (Cluster.workers_held) while late streams open.
STUCK_AT_ONE = "import threading\nn = int(input())\nif n == 1:\n    threading.Event().wait()\nprint(n)\n"
LIMITS = {"time_ms": 2000}  # so a wall limit of 6 s: the time the test has to hold the worker mid-run
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
    accepted = await submit(client, source=STUCK_AT_ONE, tests=tests, limits=LIMITS)
    url = accepted["events"]
    early = asyncio.create_task(read_events(client, url))
    try:
        # The first test event, seen live by another client: test 1 has started and waits.
        await asyncio.wait_for(read_events(client, url, until=lambda e: e.event == "test"), 120)
        async with cluster.workers_held("python"):  # the job stays mid-run until the block ends

            async def first_test_recorded() -> bool | None:
                async with database.connect() as conn:
                    seq = await conn.scalar(
                        sa.text("SELECT last_seq FROM submissions WHERE id = :id"), accepted
                    )
                return True if seq is not None and seq >= 2 else None

            await eventually(first_test_recorded, within_s=60)
            replayed = [asyncio.Event(), asyncio.Event()]  # each late stream has replayed test 0
            late_streams = asyncio.gather(
                read_events(client, url, on_event=_on_seq(2, replayed[0])),
                read_events(client, url, last_event_id="1", on_event=_on_seq(2, replayed[1])),
            )
            try:
                async with asyncio.timeout(60):
                    await asyncio.gather(*(seen.wait() for seen in replayed))
            except BaseException:
                late_streams.cancel()
                raise
        late, resumed = await asyncio.wait_for(late_streams, 120)
        first = await asyncio.wait_for(early, 120)
    finally:
        early.cancel()

    everything = [("status", 1), *[("test", 2 + i) for i in range(TESTS)], ("result", 2 + TESTS)]
    assert sequence(first)[1:] == everything, "the stream that saw it all (after 'queued')"
    assert sequence(late) == everything
    assert [e.data["index"] for e in late if e.event == "test"] == list(range(TESTS))
    assert [e.data for e in late if e.event == "test"] == [e.data for e in first if e.event == "test"]
    assert sequence(resumed) == everything[1:], "resuming after 'running' replays test 0, then the rest"
    verdicts = [e.data["verdict"] for e in late if e.event == "test"]
    assert verdicts == ["accepted", "time_limit_exceeded", "accepted", "accepted"]


def _on_seq(seq: int, flag: asyncio.Event) -> Callable[[Event], None]:
    def seen(event: Event) -> None:
        if int(event.id) == seq:
            flag.set()

    return seen


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
