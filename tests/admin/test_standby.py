"""Two masters on one cluster: one acts, the other stands by, and takes over when the first dies."""

import asyncio
import socket
import time
from pathlib import Path
from typing import Any

import httpx
import pytest

from devstack import processes
from tests.admin.conftest import StartCluster, pool_settles
from tests.fixtures.cluster import Cluster
from tests.fixtures.waiting import eventually

pytestmark = pytest.mark.e2e

FAILOVER_BOUND_S = 15


@pytest.fixture(scope="module")
async def cluster(start_cluster: StartCluster) -> Cluster:
    return await start_cluster({"EXECUTIONER_WORKER_CPUS": "0.5", "EXECUTIONER_WORKER_MEMORY_MB": "384"})


def master_id(pid_file: Path) -> str:
    pid = processes.running_pid(pid_file)
    assert pid is not None, f"{pid_file.name} is not running"
    return f"{socket.gethostname()}:{pid}"


async def reported_master(admin: httpx.AsyncClient) -> dict[str, Any]:
    reply = await admin.get("/api/v1/admin/pools")
    assert reply.status_code == 200, reply.text
    master: dict[str, Any] = reply.json()["master"]
    return master


async def logged(log_file: Path, text: str) -> None:
    """Wait until ``text`` appears in a process's log file."""

    async def seen() -> bool | None:
        return True if text in await asyncio.to_thread(log_file.read_text) else None

    await eventually(seen, within_s=60)


async def test_one_master_acts_the_standby_takes_over_when_it_dies(
    cluster: Cluster, cluster_admin: httpx.AsyncClient
) -> None:
    first = cluster.logs / "master.pid"
    (worker,) = (await pool_settles(cluster_admin, 1))["workers"]
    reported = await reported_master(cluster_admin)
    assert (reported["id"], reported["active"]) == (master_id(first), True)

    second = await cluster.start_master("master-standby")
    await logged(cluster.logs / "master-standby.log", "standing by: another master holds")
    # While both run, a change is carried out once (by the active master), not twice.
    reply = await cluster_admin.put("/api/v1/admin/pools/python", json={"replicas": 2})
    assert reply.status_code == 200, reply.text
    assert len((await pool_settles(cluster_admin, 2))["workers"]) == 2
    assert (await reported_master(cluster_admin))["id"] == master_id(first)
    standby_log = await asyncio.to_thread((cluster.logs / "master-standby.log").read_text)
    assert "master.reconciler" not in standby_log  # it has not acted at all

    killed_at = time.monotonic()
    await cluster.kill(first)
    standby_id = master_id(second)

    async def took_over() -> dict[str, Any] | None:
        master = await reported_master(cluster_admin)
        return master if master["id"] == standby_id and master["active"] else None

    await eventually(took_over, within_s=FAILOVER_BOUND_S)
    failover_s = time.monotonic() - killed_at
    await asyncio.to_thread(
        (cluster.logs.parent / "admin-failover-seconds.txt").write_text,
        f"SIGKILL of the active master until the standby reports as active: {failover_s:.2f}s\n",
    )
    # The workers outlived their master; the new one adopted them and acts on changes.
    adopted = await pool_settles(cluster_admin, 2)
    assert worker["id"] in [w["id"] for w in adopted["workers"]]
    reply = await cluster_admin.put("/api/v1/admin/pools/python", json={"replicas": 1})
    assert reply.status_code == 200, reply.text
    assert [w["id"] for w in (await pool_settles(cluster_admin, 1))["workers"]] == [worker["id"]]

    # With no master left, the last report stays readable and says it is stale.
    await cluster.kill(second)

    async def orphaned() -> dict[str, Any] | None:
        reply = await cluster_admin.get("/api/v1/admin/pools")
        return reply.json() if reply.json()["master"]["active"] is False else None

    view = await eventually(orphaned)
    (python,) = [p for p in view["pools"] if p["language"] == "python"]
    assert python["problem"] == "no active master: this report may be out of date"
