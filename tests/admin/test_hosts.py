"""One control plane, workers on two Docker engines (issue 16), on real engines: the second one runs in
a network namespace of its own (devstack/second_host.py) and starts empty, so the master must copy the
worker image onto it. Scale out over both, SIGKILL the second dockerd while jobs run, bring it back,
drain it: every job finishes once, the pool never ends up doubled."""

import asyncio
import contextlib
import os
import secrets
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import docker
import httpx
import orjson
import pytest
import sqlalchemy as sa
from sqlalchemy.ext.asyncio import create_async_engine

from devstack import second_host
from tests.admin.conftest import StartCluster, pool_settles, scale
from tests.admin.test_admin_http import error_of
from tests.admin.test_standby import logged, master_id, reported_master
from tests.e2e.sse import read_events
from tests.e2e.test_pipeline import submit
from tests.fixtures.cluster import Cluster
from tests.fixtures.services import Services
from tests.fixtures.waiting import eventually

pytestmark = pytest.mark.e2e

HOST1 = "one"
HOSTS = "/api/v1/admin/hosts"
JOBS = 200


@pytest.fixture(scope="module")
def host2(services: Services) -> Iterator[second_host.SecondHost]:
    """A second, empty Docker engine in a network namespace; removed with all it holds afterwards."""
    host = second_host.SecondHost(services.profile.mysql_port, services.profile.state_dir)
    second_host.start(host)
    try:
        yield host
    finally:
        second_host.stop(host)
    assert leftovers_of(host) == []


def leftovers_of(host: second_host.SecondHost) -> list[str]:
    """What of a stopped second host is still there: namespace, link, processes, socket, roots."""
    found = [
        str(p) for p in (Path("/run/netns", host.netns), host.socket, host.root, host.exec_root) if p.exists()
    ]
    if (
        subprocess.run(["ip", "link", "show", host.veth_host], capture_output=True, check=False).returncode
        == 0
    ):
        found.append(f"link {host.veth_host}")
    for cmdline in Path("/proc").glob("[0-9]*/cmdline"):
        with contextlib.suppress(OSError):
            if any(str(root).encode() in cmdline.read_bytes() for root in (host.root, host.exec_root)):
                found.append(f"process {cmdline.parent.name}")
    return found


@pytest.fixture(scope="module")
async def cluster(start_cluster: StartCluster, host2: second_host.SecondHost) -> Cluster:
    main = os.environ.get("DOCKER_HOST") or "unix:///var/run/docker.sock"
    return await start_cluster(
        {
            "EXECUTIONER_DOCKER_HOSTS": f"{HOST1}={main},{host2.name}={host2.url}",
            "EXECUTIONER_WORKER_CPUS": "0.5",
            "EXECUTIONER_WORKER_MEMORY_MB": "384",
            "EXECUTIONER_WORKER_TMP_MB": "64",
            "EXECUTIONER_HOST_DOWN_S": "5",
            "EXECUTIONER_HOST_PING_S": "0.5",
            "EXECUTIONER_STOP_GRACE_S": "30",
        }
    )


async def hosts(admin: httpx.AsyncClient) -> dict[str, dict[str, Any]]:
    reply = await admin.get("/api/v1/admin/hosts")
    assert reply.status_code == 200, reply.text
    return {h["name"]: h for h in reply.json()}


async def spread(admin: httpx.AsyncClient, wanted: dict[str, int], **state: str) -> dict[str, dict[str, Any]]:
    """Wait until the hosts report exactly ``wanted`` python workers each (and the given states)."""

    async def settled() -> dict[str, dict[str, Any]] | None:
        found = await hosts(admin)
        counts = {name: h["workers"].get("python", 0) for name, h in found.items()}
        states = {name: found[name]["state"] for name in state if name in found}
        return found if counts == wanted and states == state else None

    return await eventually(settled, within_s=240)


def containers_on(host: second_host.SecondHost) -> dict[str, str]:
    """Every container on the second engine (ours are the only ones there), name → state."""
    engine = docker.DockerClient(base_url=host.url, timeout=30)
    try:
        return {c.name: c.status for c in engine.containers.list(ignore_removed=True, all=True)}
    finally:
        engine.close()


def cluster_containers(cluster: Cluster, host: second_host.SecondHost) -> dict[str, list[str]]:
    """The cluster's containers (any state) on each engine, host name → container names."""
    label = {"label": f"org.executioner.cluster={cluster.name}"}
    found: dict[str, list[str]] = {}
    for name, engine in (
        (HOST1, docker.from_env(timeout=30)),
        (host.name, docker.DockerClient(base_url=host.url, timeout=30)),
    ):
        try:
            found[name] = sorted(
                c.name for c in engine.containers.list(ignore_removed=True, all=True, filters=label)
            )
        finally:
            engine.close()
    return found


async def finished_rows(cluster: Cluster, ids: list[str]) -> dict[str, str]:
    """Each finished submission's stored outcome (JSON), from MySQL: one row per id."""
    engine = create_async_engine(cluster.database_url)
    try:
        async with engine.connect() as conn:
            rows = await conn.execute(
                sa.text("SELECT id, status, outcome FROM submissions WHERE id IN :ids").bindparams(
                    sa.bindparam("ids", expanding=True)
                ),
                {"ids": ids},
            )
            return {row.id: row.outcome for row in rows if row.status == "finished"}
    finally:
        await engine.dispose()


async def dump_pool_status(cluster: Cluster, path: Path) -> None:
    engine = create_async_engine(cluster.database_url)
    try:
        async with engine.connect() as conn:
            observed = await conn.scalar(
                sa.text("SELECT observed FROM pool_status WHERE language = 'python'")
            )
    finally:
        await engine.dispose()
    await asyncio.to_thread(path.write_text, str(observed))


async def images_copied(admin: httpx.AsyncClient, host2: second_host.SecondHost) -> dict[str, Any] | None:
    """The second host's report once it is up with the python image, else None."""
    found = (await hosts(admin)).get(host2.name)  # the master adds the row once it has started
    return found if found is not None and found["images_ok"] and found["state"] == "up" else None


async def test_scaled_to_4_the_workers_run_on_both_hosts(
    cluster: Cluster, cluster_admin: httpx.AsyncClient, host2: second_host.SecondHost
) -> None:
    # The second engine starts empty: the master copies the python image over before it places there.
    assert (await eventually(lambda: images_copied(cluster_admin, host2), within_s=240))["problem"] is None
    await scale(cluster_admin, 4)
    await spread(cluster_admin, {HOST1: 2, host2.name: 2})
    await pool_settles(cluster_admin, 4, within_s=240)


async def test_a_killed_engine_is_marked_down_and_its_workers_replaced(
    cluster: Cluster,
    cluster_admin: httpx.AsyncClient,
    client: httpx.AsyncClient,
    host2: second_host.SecondHost,
    artifacts: Path,
) -> None:
    await scale(cluster_admin, 4)
    await spread(cluster_admin, {HOST1: 2, host2.name: 2})
    accepted = [await submit(client, language="python", source=f"print({n} * 7)") for n in range(JOBS)]
    killed_at = time.monotonic()
    await asyncio.to_thread(second_host.kill_dockerd, host2)
    found = await spread(cluster_admin, {HOST1: 4, host2.name: 0}, **{host2.name: "down"})
    await pool_settles(cluster_admin, 4, within_s=120)
    replaced_s = time.monotonic() - killed_at
    (artifacts / "hosts-replace-seconds.txt").write_text(
        f"second dockerd SIGKILLed -> 4 python workers running on {HOST1}: {replaced_s:.1f} s "
        f"(EXECUTIONER_HOST_DOWN_S=5)\n"
    )
    assert "down" in (found[host2.name]["problem"] or "")

    ids = [a["id"] for a in accepted]

    async def all_finished() -> dict[str, str] | None:
        stored = await finished_rows(cluster, ids)
        return stored if len(stored) == JOBS else None

    try:
        stored = await eventually(all_finished, within_s=280)
    finally:  # what the master saw of its workers (their last log lines if any died), for a person
        await dump_pool_status(cluster, artifacts / "hosts-pool-status.json")
    assert [orjson.loads(stored[i])["run"]["stdout"] for i in ids] == [f"{n * 7}\n" for n in range(JOBS)]

    # Back: whatever of ours is left there is adopted or removed, never kept on top of the replacements.
    await asyncio.to_thread(second_host.restart_dockerd, host2)

    async def reconciled() -> dict[str, dict[str, Any]] | None:
        found = await hosts(cluster_admin)
        total = sum(h["workers"].get("python", 0) for h in found.values())
        return found if found[host2.name]["state"] == "up" and total == 4 else None

    await eventually(reconciled, within_s=120)
    await pool_settles(cluster_admin, 4)

    async def no_leftovers() -> bool | None:
        states = await asyncio.to_thread(containers_on, host2)
        return True if all(state == "running" for state in states.values()) else None

    await eventually(no_leftovers, within_s=60)


async def test_a_drained_host_hands_its_workers_over_with_every_job_once(
    cluster: Cluster,
    cluster_admin: httpx.AsyncClient,
    client: httpx.AsyncClient,
    host2: second_host.SecondHost,
) -> None:
    await scale(cluster_admin, 2)
    await pool_settles(cluster_admin, 2)
    await scale(cluster_admin, 4)  # the two new ones go to the emptier host, the second one
    await spread(cluster_admin, {HOST1: 2, host2.name: 2})
    accepted = [
        await submit(client, language="python", source=f"import time\ntime.sleep(1)\nprint({n})")
        for n in range(12)
    ]
    reply = await cluster_admin.put(f"/api/v1/admin/hosts/{host2.name}", json={"state": "draining"})
    assert reply.status_code == 200 and reply.json()["state"] == "draining"
    await spread(cluster_admin, {HOST1: 4, host2.name: 0}, **{host2.name: "draining"})
    results = await asyncio.wait_for(
        asyncio.gather(*(read_events(client, a["events"]) for a in accepted)), 180
    )
    assert [r[-1].data["stdout"] for r in results] == [f"{n}\n" for n in range(12)]
    for submission in accepted:  # nothing ran twice: one result per job on Kafka
        assert len(await cluster.result_events_on_kafka(submission["id"])) == 1
    back = await cluster_admin.put(f"/api/v1/admin/hosts/{host2.name}", json={"state": "up"})
    assert back.json()["state"] == "up"


async def test_the_hosts_api_refuses_what_the_master_cannot_do_naming_the_problem(
    cluster_admin: httpx.AsyncClient, host2: second_host.SecondHost
) -> None:
    # From none, once the second host has the image, so that placement spreads the four.
    await eventually(lambda: images_copied(cluster_admin, host2), within_s=240)
    await scale(cluster_admin, 0)
    await pool_settles(cluster_admin, 0)
    await scale(cluster_admin, 4)
    await spread(cluster_admin, {HOST1: 2, host2.name: 2})
    # An engine the active master cannot reach is refused, not kept.
    nowhere = f"unix:///run/executioner-nosuch-{secrets.token_hex(4)}.sock"
    error = error_of(await cluster_admin.post(HOSTS, json={"name": "nowhere", "url": nowhere}), 422)
    assert (error["code"], error["field"]) == ("host_unreachable", "url")
    assert f"the master cannot reach {nowhere}: " in error["message"]
    assert set(await hosts(cluster_admin)) == {HOST1, host2.name}
    # Unknown names, and a host that runs workers, cannot be removed.
    assert error_of(await cluster_admin.delete(f"{HOSTS}/nowhere"), 404)["code"] == "not_found"
    assert (
        error_of(await cluster_admin.put(f"{HOSTS}/nowhere", json={"state": "up"}), 404)["code"]
        == "not_found"
    )
    busy = error_of(await cluster_admin.delete(f"{HOSTS}/{host2.name}"), 409)
    assert busy["code"] == "host_not_empty" and "drain it" in busy["message"]
    # Drained empty it goes; added again, the POST answers once the master reached it.
    drained = await cluster_admin.put(f"{HOSTS}/{host2.name}", json={"state": "draining"})
    assert drained.status_code == 200, drained.text
    await spread(cluster_admin, {HOST1: 4, host2.name: 0}, **{host2.name: "draining"})
    assert (await cluster_admin.delete(f"{HOSTS}/{host2.name}")).status_code == 204
    assert set(await hosts(cluster_admin)) == {HOST1}
    added = await cluster_admin.post(HOSTS, json={"name": host2.name, "url": host2.url})
    assert added.status_code == 201, added.text
    assert added.json()["state"] == "up" and added.json()["observed_at"] is not None
    assert added.json()["cpus"] is not None


async def test_a_standby_master_takes_over_the_workers_of_both_hosts(
    cluster: Cluster, cluster_admin: httpx.AsyncClient, host2: second_host.SecondHost
) -> None:
    # Last in the module: it SIGKILLs the cluster's first master; the standby runs on until the end.
    # From none, once the second host has the image, so that placement spreads the four (it never
    # moves running workers).
    await eventually(lambda: images_copied(cluster_admin, host2), within_s=240)
    await scale(cluster_admin, 0)
    await pool_settles(cluster_admin, 0)
    await scale(cluster_admin, 4)
    await spread(cluster_admin, {HOST1: 2, host2.name: 2}, **{HOST1: "up", host2.name: "up"})
    before = {w["id"] for w in (await pool_settles(cluster_admin, 4))["workers"]}
    on_engines = await asyncio.to_thread(cluster_containers, cluster, host2)
    assert {name: len(names) for name, names in on_engines.items()} == {HOST1: 2, host2.name: 2}

    first = cluster.logs / "master.pid"
    # Its own settings name the first host only: the second one it must find in MySQL's hosts table.
    main = os.environ.get("DOCKER_HOST") or "unix:///var/run/docker.sock"
    standby = await cluster.start_master("master-standby", {"EXECUTIONER_DOCKER_HOSTS": f"{HOST1}={main}"})
    await logged(cluster.logs / "master-standby.log", "standing by: another master holds")
    await cluster.kill(first)
    standby_id = master_id(standby)

    async def took_over() -> dict[str, Any] | None:
        master = await reported_master(cluster_admin)
        return master if master["id"] == standby_id and master["active"] else None

    await eventually(took_over, within_s=60)
    # It adopted the four on both engines as they were: none started again, none stopped.
    await spread(cluster_admin, {HOST1: 2, host2.name: 2}, **{HOST1: "up", host2.name: "up"})
    assert {w["id"] for w in (await pool_settles(cluster_admin, 4))["workers"]} == before
    assert await asyncio.to_thread(cluster_containers, cluster, host2) == on_engines

    # And it acts on both: scaled to nothing, neither engine keeps a container of the cluster.
    await scale(cluster_admin, 0)

    async def emptied() -> bool | None:
        found = await asyncio.to_thread(cluster_containers, cluster, host2)
        return True if found == {HOST1: [], host2.name: []} else None

    await eventually(emptied, within_s=120)
    await pool_settles(cluster_admin, 0)
