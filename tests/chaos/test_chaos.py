"""Chaos: a steady load of submissions while every process the cluster depends on is killed (or frozen)
and brought back, one after another (tests/chaos/faults.py). Afterwards every accepted submission has
finished with the output only it could print, each was recorded once (retries carry their
``Idempotency-Key``), SSE streams opened before an API crash resumed and ended with their result, and
the cluster is whole again. How long each fault took to heal (from the fault until a new submission's
result arrived) is printed and left in ``test-artifacts/chaos-recovery.json``.

CI runs one pass at about one submission a second; ``make chaos`` (``EXECUTIONER_CHAOS_FULL=1``) runs
three passes at about three a second.
"""

import asyncio
import contextlib
import json
import os
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import sqlalchemy as sa
from sqlalchemy.ext.asyncio import create_async_engine

from tests.chaos.faults import FAULTS
from tests.chaos.load import SteadyLoad, Submission, submit
from tests.e2e.sse import Event, read_events
from tests.fixtures.cluster import Cluster, cluster_of_its_own
from tests.fixtures.services import Services
from tests.fixtures.waiting import eventually

# `make chaos` (three passes) and `make test-all` (one) run it; CI does not.
pytestmark = [
    pytest.mark.chaos,
    pytest.mark.e2e,
    pytest.mark.slow,
    pytest.mark.extended,
    pytest.mark.timeout(1800),
]

FULL = os.environ.get("EXECUTIONER_CHAOS_FULL") == "1"
PASSES = 3 if FULL else 1
INTERVAL_S = 0.3 if FULL else 1.0
WORKERS = 2
RESULT_WITHIN_S = 240.0
SLOW_PROGRAM = "import time\ntime.sleep(3)\nprint({token!r})"
"""Still running (its stream waiting) when the API is killed."""


@pytest.fixture(scope="module")
async def chaos_cluster(services: Services, artifacts: Path) -> AsyncIterator[Cluster]:
    """A cluster of its own (python only, two workers, quick crash back-off), on the shared services,
    which this module kills and restarts."""
    settings = {
        "EXECUTIONER_LANGUAGES": '["python"]',
        "EXECUTIONER_DEFAULT_REPLICAS": str(WORKERS),
        "EXECUTIONER_CRASH_BACKOFF_S": "0.5",
        "EXECUTIONER_CRASH_BACKOFF_MAX_S": "5",
    }
    try:
        async with cluster_of_its_own(services, artifacts, "chaos", settings) as cluster:
            yield cluster
    finally:
        # Whatever a failed test left stopped, the next module gets running again.
        services.start_kafka()
        services.start_mysql()


async def follow(client: httpx.AsyncClient, submission_id: str) -> list[Event]:
    """A browser's view of one submission: its SSE stream, reconnected with ``Last-Event-ID`` whenever the
    connection breaks (an API crash), until the ``result`` event."""
    events: list[Event] = []
    url = f"/api/v1/submissions/{submission_id}/events"
    async with asyncio.timeout(RESULT_WITHIN_S):
        while not events or events[-1].event != "result":
            last_id = events[-1].id if events else None
            try:
                events += await read_events(client, url, last_event_id=last_id)
            except (httpx.TransportError, AssertionError):
                # The API is down or restarting (AssertionError: it answered, but not yet with a stream).
                await asyncio.sleep(0.5)
    return events


async def healthy(admin: httpx.AsyncClient) -> dict[str, Any] | None:
    """The pools view once the master is active and python runs its desired workers."""
    with contextlib.suppress(httpx.TransportError):
        reply = await admin.get("/api/v1/admin/pools")
        if reply.status_code == 200:
            view: dict[str, Any] = reply.json()
            pools = {pool["language"]: pool for pool in view["pools"]}
            master = view["master"]
            python = pools.get("python")
            if master and master["active"] and python and python["running"] == python["desired"] == WORKERS:
                return view
    return None


async def probe_after(client: httpx.AsyncClient, injected_at: float) -> tuple[float, Submission]:
    """Seconds from the fault until a new submission's result arrived (and was right), and that probe."""
    probe = await submit(client, f"probe-{int(injected_at * 1000)}")
    events = await follow(client, probe.id)
    assert events[-1].data["stdout"] == probe.expected_stdout, events[-1].data
    return time.monotonic() - injected_at, probe


async def finished(client: httpx.AsyncClient, submission: Submission) -> dict[str, Any]:
    async def stored() -> dict[str, Any] | None:
        with contextlib.suppress(httpx.TransportError):
            view: dict[str, Any] = (await client.get(f"/api/v1/submissions/{submission.id}")).json()
            return view if view.get("status") == "finished" else None
        return None

    return await eventually(stored, within_s=RESULT_WITHIN_S)


async def test_every_accepted_submission_survives_every_fault(
    chaos_cluster: Cluster, artifacts: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    cluster = chaos_cluster
    headers = {"Authorization": "Bearer test-admin-token"}
    async with httpx.AsyncClient(base_url=cluster.api_url, timeout=30, headers=headers) as client:
        await eventually(lambda: healthy(client), within_s=120)
        recovery: dict[str, list[float]] = {}
        streams: list[tuple[Submission, asyncio.Task[list[Event]]]] = []
        load = SteadyLoad(client, INTERVAL_S)
        probes: list[Submission] = []
        async with load.running():
            for _ in range(PASSES):
                for fault in FAULTS:
                    if fault.name.startswith("api"):
                        # Streams that are open (and waiting) when the API dies.
                        for _ in range(3):
                            slow = await submit(client, f"stream-{len(streams)}", SLOW_PROGRAM)
                            streams.append((slow, asyncio.create_task(follow(client, slow.id))))
                    injected_at = time.monotonic()
                    await fault.inject(cluster)
                    healed_after, probe = await probe_after(client, injected_at)
                    recovery.setdefault(fault.name, []).append(healed_after)
                    probes.append(probe)
        _report(recovery, len(load.accepted), artifacts, capsys)

        for slow, stream in streams:
            events = await stream
            ids = [int(event.id) for event in events]
            assert ids == sorted(set(ids)), f"a resumed stream repeated or reordered events: {ids}"
            assert events[-1].data["stdout"] == slow.expected_stdout

        everything = load.accepted
        for submission in everything:
            view = await finished(client, submission)
            assert (view["verdict"], view["stdout"]) == ("accepted", submission.expected_stdout), view
        # One row per logical submission: no retried POST became a second submission.
        rows = await _rows_per_source(cluster.database_url)
        assert {source: count for source, count in rows.items() if count != 1} == {}
        sent = [*everything, *(slow for slow, _ in streams), *probes]
        assert set(rows) == {f"http: {submission.source}" for submission in sent}
        assert await eventually(lambda: healthy(client), within_s=120)
        last = await submit(client, "after-the-storm")
        assert (await follow(client, last.id))[-1].data["stdout"] == last.expected_stdout


async def _rows_per_source(database_url: str) -> dict[str, int]:
    """How many submissions hold each program (every program here prints a token of its own)."""
    engine = create_async_engine(database_url)
    try:
        async with engine.connect() as conn:
            query = sa.text("SELECT source, origin, COUNT(*) FROM submissions GROUP BY source, origin")
            return {f"{origin}: {source}": count for source, origin, count in await conn.execute(query)}
    finally:
        await engine.dispose()


def _report(
    recovery: dict[str, list[float]], submissions: int, artifacts: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    report = {
        "passes": PASSES,
        "submissions": submissions,
        "recovery_s": {name: [round(s, 1) for s in times] for name, times in recovery.items()},
    }
    (artifacts / "chaos-recovery.json").write_text(json.dumps(report, indent=2))
    with capsys.disabled():
        print(f"\nchaos: {submissions} submissions over {PASSES} pass(es); recovery (fault -> result):")
        for name, times in recovery.items():
            print(f"  {name:<32} {' / '.join(f'{s:.1f} s' for s in times)}")
