"""The faults the chaos suite injects, one after another, into a running cluster and the services under
it: each is what a crash (SIGKILL) or a hang (SIGSTOP) of one process looks like, followed by what an
operator's supervisor (compose's ``restart: unless-stopped``, ``make up``) does about it."""

import asyncio
import os
import signal
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

import docker

from devstack import processes
from tests.fixtures.cluster import Cluster
from tests.fixtures.waiting import eventually

KAFKA_FREEZE_S = 15.0
"""How long the broker is frozen: the fault itself lasts this long (a hang, not a crash)."""


@dataclass(frozen=True)
class Fault:
    """One fault: ``inject`` breaks something and repairs it as a supervisor would, returning once the
    repair was started (the suite then measures how long until a new job goes through)."""

    name: str
    inject: Callable[[Cluster], Awaitable[None]]


def _exited(pid: int) -> bool:
    """Whether every thread of ``pid`` has exited. A killed JVM's main thread is a zombie while its other
    threads still tear down, holding its sockets: a new server could not take the ports yet."""
    try:
        return os.listdir(f"/proc/{pid}/task") == [str(pid)] and _state(pid) == "Z"
    except FileNotFoundError:
        return True


def _state(pid: int) -> str:
    return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]


async def _kill_group(pid_file: Path, sig: signal.Signals = signal.SIGKILL) -> int:
    pid = processes.running_pid(pid_file)
    assert pid is not None, f"{pid_file} names no running process"
    os.killpg(pid, sig)
    if sig == signal.SIGKILL:

        async def gone() -> bool | None:
            return True if _exited(pid) else None

        await eventually(gone, within_s=30)
    return pid


def _worker_containers(cluster: Cluster) -> list[str]:
    client = docker.from_env()
    found = client.containers.list(
        ignore_removed=True,
        filters={"label": [f"org.executioner.cluster={cluster.name}", "org.executioner.role=worker"]},
    )
    return sorted(container.name for container in found)


async def kill_a_worker_container(cluster: Cluster) -> None:
    """SIGKILL one worker container; the master replaces it."""
    names = await asyncio.to_thread(_worker_containers, cluster)
    assert names, "no worker container to kill"
    await cluster.kill_worker_container(names[0])


async def kill_the_master(cluster: Cluster) -> None:
    """SIGKILL the master (its workers keep running), then start a new one."""
    await cluster.kill(cluster.logs / "master.pid")
    await cluster.start_master()


async def kill_kafka(cluster: Cluster) -> None:
    """SIGKILL the broker, then start it again on its data (KRaft recovers its logs)."""
    await _kill_group(cluster.services.kafka.pid_file)
    await cluster.start_kafka()


async def freeze_kafka(cluster: Cluster) -> None:
    """SIGSTOP the broker for :data:`KAFKA_FREEZE_S` (every client's requests hang), then SIGCONT."""
    pid = await _kill_group(cluster.services.kafka.pid_file, signal.SIGSTOP)
    try:
        await asyncio.sleep(KAFKA_FREEZE_S)  # the length of the hang is the fault being injected
    finally:
        os.killpg(pid, signal.SIGCONT)


async def kill_mariadb(cluster: Cluster) -> None:
    """SIGKILL MariaDB, then start it again on its data (InnoDB recovers)."""
    await _kill_group(cluster.services.mysql.pid_file)
    await cluster.start_mysql()


async def kill_the_api(cluster: Cluster) -> None:
    """SIGKILL the API process (open SSE connections break), then start a new one on the same port."""
    port = urlsplit(cluster.api_url).port
    await cluster.kill(cluster.logs / f"api-{port}.pid")
    await cluster.start_api(port)


FAULTS = (
    Fault("worker container 1 (SIGKILL)", kill_a_worker_container),
    Fault("worker container 2 (SIGKILL)", kill_a_worker_container),
    Fault("master (SIGKILL, restart)", kill_the_master),
    Fault("kafka (SIGKILL, restart)", kill_kafka),
    Fault(f"kafka (SIGSTOP {KAFKA_FREEZE_S:.0f} s, SIGCONT)", freeze_kafka),
    Fault("mariadb (SIGKILL, restart)", kill_mariadb),
    Fault("api (SIGKILL, restart)", kill_the_api),
)
