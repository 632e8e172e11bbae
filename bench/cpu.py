"""CPU time of every process of the stack, read from outside before and after a phase: the API, master,
Kafka, MariaDB and dockerd processes from ``/proc`` (psutil: user + system time of every thread), each
worker container's cgroup CPU through the Docker API, and the processes inside it from ``/proc`` (the
host sees them). :class:`CpuMeter` wraps a phase and reports its budget (:mod:`bench.cpu_budget`), with
the API's CPU split by task (:mod:`bench.api_profile`).

Kafka and MariaDB are found as the processes listening on the ports the bench talks to, dockerd as the
one listening on the Docker socket, so this works for every ``--services`` source as long as they run
on this machine (otherwise their rows are missing and the budget says so).
"""

import asyncio
import contextlib
import os
import time
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

import docker
import psutil
from sqlalchemy.engine import make_url

from bench.api_profile import ApiProfile
from bench.cluster import BenchCluster
from bench.cpu_budget import BENCH, CpuSample, WorkerCpu, budget
from master.spec import cluster_filter

DEFAULT_DOCKER_SOCKET = "/var/run/docker.sock"


def _listening(kind: str, matches: Any) -> int | None:
    for conn in psutil.net_connections(kind=kind):
        if conn.pid and conn.status in (psutil.CONN_LISTEN, psutil.CONN_NONE) and matches(conn.laddr):
            return conn.pid
    return None


def tcp_listener(port: int) -> int | None:
    """The process listening on TCP ``port`` on this machine, if any."""
    return _listening("tcp", lambda laddr: laddr and laddr.port == port)


def unix_listener(path: str) -> int | None:
    """The process listening on the Unix socket ``path``, if any."""
    real = os.path.realpath(path)
    return _listening("unix", lambda laddr: laddr and os.path.realpath(laddr) == real)


def docker_socket() -> str:
    """The Docker engine's socket as the Docker SDK finds it (``DOCKER_HOST``)."""
    host = os.environ.get("DOCKER_HOST", "")
    return urlparse(host).path if host.startswith("unix://") else DEFAULT_DOCKER_SOCKET


def stack_pids(cluster: BenchCluster) -> dict[str, int]:
    """The processes of the stack that run on this machine, by name. Blocking."""
    services = cluster.services
    found: dict[str, int | None] = {
        "api": cluster.pids.get("api"),
        "master": cluster.pids.get("master"),
        "kafka": tcp_listener(int(services.kafka_bootstrap.split(",")[0].rpartition(":")[2])),
        "mariadb": tcp_listener(make_url(services.database_url).port or 3306),
        "dockerd": unix_listener(docker_socket()),
        BENCH: os.getpid(),
    }
    return {name: pid for name, pid in found.items() if pid is not None}


def process_cpu_s(pid: int) -> float | None:
    """User + system seconds of process ``pid`` (every thread, not its children); None once it is gone."""
    try:
        return _own_s(psutil.Process(pid))
    except psutil.Error:
        return None


def _own_s(process: psutil.Process) -> float:
    times = process.cpu_times()
    return float(times.user + times.system)


def _worker(container: Any) -> WorkerCpu | None:
    stats = container.stats(stream=False, one_shot=True)
    usage = (stats.get("cpu_stats") or {}).get("cpu_usage") or {}
    if "total_usage" not in usage:
        return None
    total = usage["total_usage"] / 1e9
    try:
        init = psutil.Process(container.attrs["State"]["Pid"])  # docker-init (the master sets init)
        (main,) = init.children()
        helpers = main.children()  # the forkserver and the resource tracker
        pool = [p for helper in helpers for p in helper.children()]
        main_s = sum(_own_s(p) for p in (main, *helpers))
        return WorkerCpu(total, main_s, {p.pid: _own_s(p) for p in pool})
    except (psutil.Error, ValueError, KeyError):  # gVisor's sandbox, or a worker still starting
        return WorkerCpu(total, None)


def sample(pids: dict[str, int], engine: docker.DockerClient, cluster: str) -> CpuSample:
    """CPU seconds of everything at once. Blocking."""
    workers: dict[str, WorkerCpu] = {}
    for container in engine.containers.list(ignore_removed=True, filters=cluster_filter(cluster)):
        with contextlib.suppress(docker.errors.NotFound, docker.errors.APIError):
            found = _worker(container)
            if found is not None:
                workers[container.id] = found
    processes = {name: process_cpu_s(pid) for name, pid in pids.items()}
    machine = psutil.cpu_times()
    busy = sum(machine) - machine.idle - getattr(machine, "iowait", 0.0)
    return CpuSample(
        at_s=time.monotonic(),
        processes={name: s for name, s in processes.items() if s is not None},
        workers=workers,
        machine_s=busy,
        load_average=os.getloadavg(),
    )


class CpuMeter:
    """``async with CpuMeter(cluster, name) as meter:`` around a phase, then ``meter.report(jobs)``."""

    def __init__(self, cluster: BenchCluster, phase: str) -> None:
        self._cluster = cluster
        self._engine = docker.from_env(timeout=60)
        self._pids: dict[str, int] = {}
        self._profile = ApiProfile(cluster.pids["api"], profile_path(cluster.logs, phase))
        self._before: CpuSample | None = None
        self._after: CpuSample | None = None

    def _sample(self) -> CpuSample:
        return sample(self._pids, self._engine, self._cluster.name)

    async def __aenter__(self) -> "CpuMeter":
        try:
            self._pids = await asyncio.to_thread(stack_pids, self._cluster)
            await self._profile.start()
            self._before = await asyncio.to_thread(self._sample)
        except BaseException:  # no __aexit__ then: stop what started
            await self._profile.stop()
            self._engine.close()
            raise
        return self

    async def __aexit__(self, *_exc: object) -> None:
        try:
            self._after = await asyncio.to_thread(self._sample)
        finally:
            await self._profile.stop()
            self._engine.close()

    def report(self, jobs: int) -> dict[str, Any]:
        """The phase's CPU budget (:func:`bench.cpu_budget.budget`) and how the API was split."""
        assert self._before is not None and self._after is not None, "report() after the phase"
        split = self._profile.report()
        found = budget(self._before, self._after, jobs, split.get("shares"))
        return {**found, "pids": self._pids, "api_split": split}


def profile_path(logs: Path, phase: str) -> Path:
    """Where a phase's API profile is kept (py-spy's raw output)."""
    return logs / f"api-profile-{phase.replace('/', '-')}.txt"
