"""Autoscaling on real queues: a burst of slow jobs lifts a pool above its minimum, and it falls back
once the queue is empty (short timers via the settings)."""

import asyncio

import httpx
import pytest

from tests.admin.conftest import StartCluster, pool, pool_settles
from tests.e2e.sse import read_events
from tests.e2e.test_pipeline import submit
from tests.fixtures.cluster import Cluster
from tests.fixtures.waiting import eventually

pytestmark = [pytest.mark.e2e, pytest.mark.slow]  # a pool grows to its max and shrinks back

SETTINGS = {
    "EXECUTIONER_WORKER_CPUS": "0.5",
    "EXECUTIONER_WORKER_MEMORY_MB": "384",
    "EXECUTIONER_WORKER_TMP_MB": "64",
    "EXECUTIONER_AUTOSCALE_INTERVAL_S": "0.5",
    "EXECUTIONER_AUTOSCALE_TARGET_LAG": "2",
    "EXECUTIONER_AUTOSCALE_UP_OBSERVATIONS": "2",
    "EXECUTIONER_AUTOSCALE_DOWN_COOLDOWN_S": "3",
}


@pytest.fixture(scope="module")
async def cluster(start_cluster: StartCluster) -> Cluster:
    return await start_cluster(SETTINGS)


async def test_a_burst_grows_the_pool_to_its_max_and_it_falls_back_to_its_min(
    cluster: Cluster, cluster_admin: httpx.AsyncClient
) -> None:
    reply = await cluster_admin.put("/api/v1/admin/pools/python", json={"min": 1, "max": 3})
    assert reply.status_code == 200, reply.text
    assert (reply.json()["min"], reply.json()["max"], reply.json()["autoscale"]) == (1, 3, True)
    await pool_settles(cluster_admin, 1)

    async def measured_idle() -> bool | None:  # reported from the autoscaler's first pass on
        return True if (await pool(cluster_admin))["lag"] == 0 else None

    await eventually(measured_idle, within_s=30)

    async with httpx.AsyncClient(base_url=cluster.api_url, timeout=60) as client:
        burst = [
            await submit(client, language="python", source=f"import time\ntime.sleep(3)\nprint({n})")
            for n in range(12)
        ]

        async def lagging() -> int | None:  # the master reports the queue it sees
            lag = (await pool(cluster_admin))["lag"]
            return lag if lag is not None and lag > 2 else None

        assert await eventually(lagging, within_s=60) <= 12
        grown = await pool_settles(cluster_admin, 3, within_s=120)
        assert grown["desired"] == 3  # capped at max although 12 jobs ask for 6
        results = await asyncio.wait_for(
            asyncio.gather(*(read_events(client, b["events"]) for b in burst)), 240
        )
    finals = [r[-1].data for r in results]
    assert [(f["verdict"], f["stdout"]) for f in finals] == [("accepted", f"{n}\n") for n in range(12)]
    assert len({f["worker"] for f in finals}) > 1  # the extra workers took part

    shrunk = await pool_settles(cluster_admin, 1, within_s=120)
    assert (shrunk["desired"], shrunk["problem"]) == (1, None)

    async def drained() -> int | None:  # the last commit lands a moment after the last result
        lag = (await pool(cluster_admin))["lag"]
        return lag if lag == 0 else None

    assert await eventually(drained) == 0
    for job in burst:  # growing and shrinking ran nothing twice
        assert len(await cluster.result_events_on_kafka(job["id"])) == 1
