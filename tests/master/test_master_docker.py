"""The master against the real Docker engine and MariaDB, with a stand-in worker image."""

import asyncio
import itertools
import logging
import os
import signal
import sys
import time
from collections.abc import Callable, Mapping
from typing import Any

import orjson
import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

from master.app import Master
from master.report import PoolStatus
from master.settings import MasterSettings
from master.spec import LABEL_CLUSTER, LABEL_LANGUAGE, LABEL_ROLE, cluster_filter
from tests.master.conftest import LANGUAGE, REPO, migrate, running_master

TIMEOUT_S = 60


def running_containers(client: Any, cluster: str) -> list[Any]:
    """The cluster's running worker containers, straight from Docker."""
    return list(
        client.containers.list(ignore_removed=True, filters={**cluster_filter(cluster), "status": "running"})
    )


def first_worker_start(client: Any, cluster: str, since: int) -> str:
    """The id of the first worker of ``cluster`` that Docker started from ``since`` on (blocking)."""
    filters = {"type": "container", "event": "start", **cluster_filter(cluster)}
    events = client.events(decode=True, filters=filters, since=since, until=since + TIMEOUT_S)
    try:
        for event in events:
            return str(event["id"])
    finally:
        events.close()
    raise TimeoutError(f"no worker of {cluster} started within {TIMEOUT_S}s")


async def set_desired(db: AsyncEngine, replicas: int) -> None:
    async with db.begin() as conn:
        await conn.execute(
            text("UPDATE pools SET replicas = :n WHERE language = :l"), {"n": replicas, "l": LANGUAGE}
        )


async def until(master: Master, predicate: Callable[[PoolStatus], bool]) -> PoolStatus:
    """Wait for the first pass whose report of the language satisfies ``predicate``."""
    assert master.reconciler is not None

    def check(statuses: Mapping[str, PoolStatus]) -> bool:
        return LANGUAGE in statuses and predicate(statuses[LANGUAGE])

    async with asyncio.timeout(TIMEOUT_S):
        await master.reconciler.wait_for_status(check)
    return master.reconciler.statuses[LANGUAGE]


def settled(count: int) -> Callable[[PoolStatus], bool]:
    """Exactly ``count`` containers, all running, none stopping."""
    return lambda s: s.running == count and [c.state for c in s.containers] == ["running"] * count


async def test_pool_follows_desired_count_1_3_1(
    settings: MasterSettings, db: AsyncEngine, docker_client: Any, cluster: str
) -> None:
    async with running_master(settings) as master:
        await until(master, settled(1))  # seeded from default_replicas
        assert len(running_containers(docker_client, cluster)) == 1

        await set_desired(db, 3)
        await until(master, settled(3))
        containers = running_containers(docker_client, cluster)
        assert len(containers) == 3
        oldest = min(containers, key=lambda c: c.attrs["State"]["StartedAt"])

        await set_desired(db, 1)
        status = await until(master, settled(1))
        assert [c.id for c in running_containers(docker_client, cluster)] == [oldest.id]
        assert status.containers[0].id == oldest.id[:12]

    async with db.connect() as conn:
        row = (
            await conn.execute(text("SELECT observed FROM pool_status WHERE language = :l"), {"l": LANGUAGE})
        ).one()
    reported = PoolStatus.model_validate_json(row.observed)
    assert (reported.desired, reported.running, reported.cluster) == (1, 1, cluster)


async def test_worker_container_is_labelled_and_confined(
    settings: MasterSettings, docker_client: Any, cluster: str
) -> None:
    async with running_master(settings) as master:
        await until(master, settled(1))
        (container,) = running_containers(docker_client, cluster)
    attrs = container.attrs
    assert container.labels[LABEL_LANGUAGE] == LANGUAGE
    assert container.labels[LABEL_ROLE] == "worker"
    assert container.name.startswith(f"executioner-{cluster}-{LANGUAGE}-")
    env = dict(item.split("=", 1) for item in attrs["Config"]["Env"])
    assert env["EXECUTIONER_WORKER_ID"] == container.name
    assert env["EXECUTIONER_KAFKA_BOOTSTRAP"] == "kafka.invalid:9092"
    assert env["EXECUTIONER_TOPIC_PREFIX"] == f"{cluster}."
    assert env["EXECUTIONER_LANGUAGE"] == LANGUAGE
    host = attrs["HostConfig"]
    assert host["ReadonlyRootfs"] is True
    assert host["CapDrop"] == ["ALL"]
    assert host["SecurityOpt"][0] == "no-new-privileges"
    assert host["MaskedPaths"] == host["ReadonlyPaths"] == [], "systempaths=unconfined"
    assert host["Memory"] == 64 * 1024 * 1024
    assert host["PidsLimit"] == 512
    assert host["RestartPolicy"]["Name"] == "no"
    assert attrs["Config"]["User"] == "10001"
    assert "size=16m" in host["Tmpfs"]["/tmp"]


async def test_a_killed_worker_is_replaced_and_reported(
    settings: MasterSettings, docker_client: Any, cluster: str
) -> None:
    async with running_master(settings) as master:
        await until(master, settled(1))
        (victim,) = running_containers(docker_client, cluster)
        victim.kill(signal="SIGKILL")

        status = await until(master, lambda s: settled(1)(s) and s.containers[0].id != victim.id[:12])
    assert status.recent_failures[0].container == victim.name
    assert status.recent_failures[0].exit_code == 137
    (replacement,) = running_containers(docker_client, cluster)
    assert replacement.id != victim.id
    assert (
        docker_client.containers.list(ignore_removed=True, all=True, filters={"id": victim.id}) == []
    )  # removed


async def test_a_crash_looping_worker_is_backed_off_and_reported(
    settings: MasterSettings, docker_client: Any, cluster: str
) -> None:
    crashing = settings.model_copy(
        update={"worker_command": ["sh", "-c", "echo self-test failed >&2; exit 3"]}
    )
    async with running_master(crashing) as master:
        status = await until(master, lambda s: len(s.recent_failures) >= 3 and s.backoff_until is not None)
    assert status.running == 0
    assert status.problem is not None and "keep failing" in status.problem
    assert all(f.exit_code == 3 for f in status.recent_failures)
    # Logs are read just before a dead container is removed, so the newest failure's may not be in yet.
    assert any("self-test failed" in f.logs for f in status.recent_failures[1:])
    # Not hammered: after the n-th failure the next start waited 0.5 s * 2^(n-1).
    oldest_first = [f.at for f in reversed(status.recent_failures)]
    for n, (earlier, later) in enumerate(itertools.pairwise(oldest_first), start=1):
        assert (later - earlier).total_seconds() >= 0.5 * 2 ** (n - 1)
    assert status.backoff_until is not None
    wait_s = (status.backoff_until - status.recent_failures[0].at).total_seconds()
    assert wait_s == pytest.approx(0.5 * 2 ** (len(status.recent_failures) - 1))


async def test_runtime_version_is_recorded_once_per_image(
    settings: MasterSettings, db: AsyncEngine, docker_client: Any, cluster: str
) -> None:
    image_id = docker_client.images.get(settings.image_for(LANGUAGE)).id
    debian_version = docker_client.containers.run(
        image_id, ["cat", "/etc/debian_version"], remove=True, network_mode="none"
    ).decode()
    async with running_master(settings) as master:
        await until(master, settled(1))
    async with db.connect() as conn:
        row = (await conn.execute(text("SELECT image_id, version, updated_at FROM runtime_versions"))).one()
    assert (row.image_id, row.version) == (image_id, debian_version.strip())

    async with running_master(settings) as master:  # same image: nothing is run or rewritten
        await until(master, settled(1))
    async with db.connect() as conn:
        again = (await conn.execute(text("SELECT updated_at FROM runtime_versions"))).one()
    assert again.updated_at == row.updated_at
    probes = docker_client.containers.list(
        ignore_removed=True, all=True, filters={"label": f"{LABEL_ROLE}=version-probe"}
    )
    assert [p for p in probes if p.labels.get(LABEL_CLUSTER) == cluster] == []


class _LogSeen(logging.Handler):
    """Sets an event when a record containing ``text`` is logged (on the event loop's thread)."""

    def __init__(self, text: str) -> None:
        super().__init__()
        self.text = text
        self.seen = asyncio.Event()

    def emit(self, record: logging.LogRecord) -> None:
        if self.text in record.getMessage():
            self.seen.set()


async def test_master_waits_for_the_schema_then_seeds_pools(
    settings: MasterSettings, empty_database: str, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="master.store")
    waiting = _LogSeen("no `pools` table yet")
    logging.getLogger("master.store").addHandler(waiting)
    stop = asyncio.Event()
    master = Master(settings.model_copy(update={"database_url": empty_database}))
    starting = asyncio.create_task(master.start(stop))
    try:
        async with asyncio.timeout(TIMEOUT_S):
            await waiting.seen.wait()
            assert not starting.done()
            await asyncio.to_thread(migrate, empty_database)  # what the API does at its start-up
            assert await starting
    finally:
        logging.getLogger("master.store").removeHandler(waiting)
        stop.set()
        await starting
        await master.shutdown()
    engine = create_async_engine(empty_database)
    try:
        async with engine.connect() as conn:
            rows = (await conn.execute(text("SELECT language, replicas FROM pools"))).all()
    finally:
        await engine.dispose()
    assert [tuple(r) for r in rows] == [(LANGUAGE, 1)]


async def test_stop_workers_on_exit_removes_them(
    settings: MasterSettings, docker_client: Any, cluster: str
) -> None:
    async with running_master(settings.model_copy(update={"stop_workers_on_exit": True})) as master:
        await until(master, settled(1))
    assert (
        docker_client.containers.list(
            ignore_removed=True, all=True, filters={"label": f"{LABEL_CLUSTER}={cluster}"}
        )
        == []
    )


async def test_sigterm_leaves_workers_running_and_a_new_master_adopts_them(
    settings: MasterSettings, docker_client: Any, cluster: str
) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("EXECUTIONER_")}
    for name, value in settings.model_dump(mode="json", exclude_none=True).items():
        env[f"EXECUTIONER_{name.upper()}"] = value if isinstance(value, str) else _json(value)
    since = int(time.time())
    proc = await asyncio.create_subprocess_exec(sys.executable, "-m", "master", cwd=REPO, env=env)
    try:
        started_id = await asyncio.to_thread(first_worker_start, docker_client, cluster, since)
        (worker,) = running_containers(docker_client, cluster)
        assert worker.id == started_id
        proc.send_signal(signal.SIGTERM)
        async with asyncio.timeout(TIMEOUT_S):
            assert await proc.wait() == 0
    finally:
        if proc.returncode is None:
            proc.kill()
            await proc.wait()
    assert [c.id for c in running_containers(docker_client, cluster)] == [worker.id]

    async with running_master(settings) as master:
        status = await until(master, settled(1))
    assert status.containers[0].id == worker.id[:12]


def _json(value: Any) -> str:
    return orjson.dumps(value).decode()
