"""Sizing pools through the admin API, observed in Docker: scale up and down, a crashed worker replaced,
a scale-down while jobs run (each finishes exactly once), the host capacity budget."""

import asyncio
import time
from collections import Counter
from pathlib import Path
from typing import Any

import docker
import httpx
import pytest

from master.docker_adapter import parse_time
from tests.admin.conftest import StartCluster, pool, pool_settles, scale
from tests.e2e.sse import is_running, read_events
from tests.e2e.test_pipeline import submit
from tests.fixtures.cluster import Cluster
from tests.fixtures.waiting import eventually

pytestmark = pytest.mark.e2e

WORKER_FOOTPRINT_MB = 384 + 64
BUDGET_WORKERS = 4
SETTINGS = {
    "EXECUTIONER_WORKER_CPUS": "0.5",
    "EXECUTIONER_WORKER_MEMORY_MB": "384",
    "EXECUTIONER_WORKER_TMP_MB": "64",
    "EXECUTIONER_WORKER_BUDGET_MEMORY_MB": str(BUDGET_WORKERS * WORKER_FOOTPRINT_MB),
}


@pytest.fixture(scope="module")
async def cluster(start_cluster: StartCluster) -> Cluster:
    """One cluster for the module; each test sets the size it starts from."""
    return await start_cluster(SETTINGS)


def docker_workers(cluster: Cluster) -> dict[str, Any]:
    """The cluster's running python worker containers, by name, straight from Docker."""
    filters = {
        "label": [f"org.executioner.cluster={cluster.name}", "org.executioner.language=python"],
        "status": "running",
    }
    return {c.name: c for c in docker.from_env().containers.list(ignore_removed=True, filters=filters)}


MILESTONES = {"self-test": "self-test of python passed", "joined": " consuming ", "assigned": " assigned ["}
"""What a starting worker logs on its way to consuming."""


def milestones(container: Any) -> dict[str, float]:
    """When the worker in ``container`` reached each of :data:`MILESTONES` (epoch seconds, from Docker's
    log time stamps), as far as it got."""
    reached: dict[str, float] = {}
    for line in bytes(container.logs(timestamps=True)).decode(errors="replace").splitlines():
        stamp, _, text = line.partition(" ")
        for name, marker in MILESTONES.items():
            if marker in text and name not in reached and (at := parse_time(stamp)) is not None:
                reached[name] = at.timestamp()
    return reached


async def test_scale_1_3_1_is_what_docker_runs(
    cluster: Cluster, cluster_admin: httpx.AsyncClient, artifacts: Path
) -> None:
    await scale(cluster_admin, 1)
    (original,) = (await pool_settles(cluster_admin, 1))["workers"]

    put_at = time.time()
    await scale(cluster_admin, 3)
    grown = await pool_settles(cluster_admin, 3)
    running = await asyncio.to_thread(docker_workers, cluster)
    assert sorted(running) == sorted(w["id"] for w in grown["workers"])
    new = [running[w["id"]] for w in grown["workers"] if w["id"] != original["id"]]

    # How long a scale-up takes, from the PUT: containers running, then each milestone of the workers.
    async def consuming() -> list[dict[str, float]] | None:
        reached = [await asyncio.to_thread(milestones, c) for c in new]
        return reached if all("assigned" in r for r in reached) else None

    steps = {name: max(r[name] for r in await eventually(consuming, within_s=60)) for name in MILESTONES}
    started = [parse_time(c.attrs["State"]["StartedAt"]) for c in new]
    steps = {"running": max(t.timestamp() for t in started if t is not None), **steps}
    since_put = {name: at - put_at for name, at in steps.items()}
    (artifacts / "admin-scale-up-seconds.txt").write_text(
        "PUT replicas 1 -> 3, seconds until both new workers reached: "
        + ", ".join(f"{name} {seconds:.2f}" for name, seconds in since_put.items())
        + "\n"
    )
    # Only the order is asserted: how fast a scale-up is belongs to `make bench`, not to a timed test.
    assert 0 < since_put["running"] < since_put["assigned"]

    await scale(cluster_admin, 1)
    shrunk = await pool_settles(cluster_admin, 1)
    assert [w["id"] for w in shrunk["workers"]] == [original["id"]]  # the oldest stays
    assert list(await asyncio.to_thread(docker_workers, cluster)) == [original["id"]]


async def test_a_killed_worker_is_replaced(cluster: Cluster, cluster_admin: httpx.AsyncClient) -> None:
    await scale(cluster_admin, 1)
    (victim,) = (await pool_settles(cluster_admin, 1))["workers"]
    await cluster.kill_worker_container(victim["id"])

    async def replaced() -> dict[str, Any] | None:
        found = await pool_settles(cluster_admin, 1)
        return found if found["workers"][0]["id"] != victim["id"] else None

    await eventually(replaced, within_s=120)
    assert victim["id"] not in await asyncio.to_thread(docker_workers, cluster)


async def test_scale_down_while_jobs_run_finishes_each_job_exactly_once(
    cluster: Cluster, cluster_admin: httpx.AsyncClient, client: httpx.AsyncClient
) -> None:
    await scale(cluster_admin, 3)
    await pool_settles(cluster_admin, 3)
    sources = [f"import time\ntime.sleep(2)\nprint({n})" for n in range(6)]
    accepted = [await submit(client, language="python", source=s) for s in sources]

    # Wait until all three workers run a job (one slot each), then take two of them away.
    async def started(submission: dict[str, str]) -> str:
        events = await read_events(client, submission["events"], until=is_running)
        return str(events[-1].data["worker"])

    first_runs = [asyncio.create_task(started(a)) for a in accepted]
    busy: set[str] = set()
    async with asyncio.timeout(120):
        for run in asyncio.as_completed(first_runs):
            busy.add(await run)
            if len(busy) == 3:
                break
    for run in first_runs:
        run.cancel()
    await scale(cluster_admin, 1)

    results = await asyncio.wait_for(
        asyncio.gather(*(read_events(client, a["events"]) for a in accepted)), 180
    )
    finals = [r[-1].data for r in results]
    assert [(f["verdict"], f["stdout"]) for f in finals] == [("accepted", f"{n}\n") for n in range(6)]
    for submission in accepted:  # nothing ran twice: one result per job on Kafka
        assert len(await cluster.result_events_on_kafka(submission["id"])) == 1
    # The stopped workers finished what they had started (a drain, not a kill and re-run elsewhere).
    assert {f["worker"] for f in finals} >= busy
    (survivor,) = (await pool_settles(cluster_admin, 1))["workers"]
    done_by = Counter(f["worker"] for f in finals)

    async def counted() -> dict[str, Any] | None:  # the recorder stores results a moment after SSE
        found = await pool(cluster_admin)
        return found if found["workers"][0]["jobs_done"] == done_by[survivor["id"]] else None

    await eventually(counted)


async def test_workers_beyond_the_capacity_budget_are_not_started(
    cluster: Cluster, cluster_admin: httpx.AsyncClient
) -> None:
    await scale(cluster_admin, 6)
    capped = await pool_settles(cluster_admin, BUDGET_WORKERS)
    assert capped["desired"] == 6
    assert capped["problem"] is not None
    assert capped["problem"] == (
        f"2 worker(s) do not fit on the up hosts: needs {2 * WORKER_FOOTPRINT_MB} MB more memory"
    )
    assert len(await asyncio.to_thread(docker_workers, cluster)) == BUDGET_WORKERS
    await scale(cluster_admin, 1)
    assert (await pool_settles(cluster_admin, 1))["problem"] is None
