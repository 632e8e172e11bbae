"""The CPU budget of one phase: what every process of the stack spent per job, from two
:class:`CpuSample` taken before and after the phase (:mod:`bench.cpu` takes them from outside the
processes). Pure arithmetic, so that the attribution is tested on its own.

A worker container's CPU (its cgroup's) is split by the process tree inside it (docker-init's child is
the worker's main process; the main process and its direct children, the forkserver and the resource
tracker, are "worker main"; the forkserver's children are the pool processes; everything below them is
the jobs: bubblewrap or the warm sandbox's init, and the users' programs).
"""

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, TypeVar

K = TypeVar("K")

STACK = ("api", "master", "kafka", "mariadb", "dockerd")
"""Processes of the stack outside the worker containers, in the order the table shows them."""
WORKER_MAIN, POOL, POOL_SELF, JOBS = "worker main", "pool processes", "pool processes themselves", "jobs"
BENCH = "bench"
"""This process: the measuring clients (HTTP submissions, the results watcher). Not part of the stack."""


@dataclass(frozen=True)
class WorkerCpu:
    """One worker container's CPU seconds so far."""

    container_s: float
    """The container's cgroup: every process in it, the jobs included."""
    main_s: float | None
    """The worker's main process and its direct children; None when the tree is not visible (gVisor)."""
    pool_s: dict[int, float] = field(default_factory=dict)
    """Each pool process's own CPU (not its children's), by host pid."""


@dataclass(frozen=True)
class CpuSample:
    """CPU seconds used so far by each part of the stack, at one moment."""

    at_s: float
    """``time.monotonic()`` of the sample."""
    processes: dict[str, float]
    """By name (:data:`STACK` and :data:`BENCH`): user + system time of the process, all its threads."""
    workers: dict[str, WorkerCpu]
    """By container id."""
    machine_s: float
    """Busy time of the whole machine, every core, every process (other users' too)."""
    load_average: tuple[float, float, float] = (0.0, 0.0, 0.0)


def grown(before: Mapping[K, float], after: Mapping[K, float]) -> float:
    """Seconds spent between two samples over the keys of ``after``. A key that appeared in between (a
    process or container started during the phase) counts from 0; one that disappeared is left out, and
    the time it spent with it."""
    return sum(value - before.get(key, 0.0) for key, value in after.items())


def _containers(sample: CpuSample) -> dict[str, float]:
    return {cid: w.container_s for cid, w in sample.workers.items()}


def _mains(sample: CpuSample) -> dict[str, float]:
    return {cid: w.main_s for cid, w in sample.workers.items() if w.main_s is not None}


def _pools(sample: CpuSample) -> dict[tuple[str, int], float]:
    return {(cid, pid): s for cid, w in sample.workers.items() for pid, s in w.pool_s.items()}


def _workers_spent(before: CpuSample, after: CpuSample) -> dict[str, float]:
    """Seconds of the worker containers over the phase: their total, the main processes, the pool
    processes themselves, and what is left, the jobs (pool processes + jobs is the container minus main)."""
    container = grown(_containers(before), _containers(after))
    if not _mains(after):
        return {"worker containers": container}
    main, pool = grown(_mains(before), _mains(after)), grown(_pools(before), _pools(after))
    return {
        "worker containers": container,
        WORKER_MAIN: main,
        POOL: container - main,
        POOL_SELF: pool,
        JOBS: container - main - pool,
    }


def _row(seconds: float, jobs: int, elapsed_s: float) -> dict[str, float]:
    return {"ms_per_job": round(seconds * 1000 / jobs, 2), "cores": round(seconds / elapsed_s, 3)}


def budget(
    before: CpuSample, after: CpuSample, jobs: int, api_shares: Mapping[str, float] | None = None
) -> dict[str, Any]:
    """CPU per job of each process over the phase between ``before`` and ``after``, in ms per job and
    in cores (CPU seconds per second). ``api_shares`` (part of the API -> share of its samples, summing
    to 1) splits the API's row into ``api: <part>`` rows. ``stack`` sums the platform's own processes
    (the worker's main and pool processes included, the jobs not); the target of issue 15 is a stack that
    spends less than the jobs it runs."""
    elapsed = after.at_s - before.at_s
    if jobs < 1 or elapsed <= 0:
        raise ValueError(f"a CPU budget needs jobs and time: {jobs} jobs in {elapsed:.3f} s")
    spent: dict[str, float] = {
        name: after.processes[name] - before.processes[name]
        for name in (*STACK, BENCH)
        if name in before.processes and name in after.processes
    }
    workers = _workers_spent(before, after)
    rows: dict[str, dict[str, float]] = {}
    for name in STACK:
        if name not in spent:
            continue
        rows[name] = _row(spent[name], jobs, elapsed)
        if name == "api" and api_shares:
            for part, share in api_shares.items():
                rows[f"api: {part}"] = _row(spent[name] * share, jobs, elapsed)
    rows.update({name: _row(seconds, jobs, elapsed) for name, seconds in workers.items()})
    stack_s = sum(spent.get(name, 0.0) for name in STACK) + workers.get(WORKER_MAIN, 0.0)
    stack_s += workers.get(POOL_SELF, 0.0)
    totals = {"stack": _row(stack_s, jobs, elapsed)}
    if JOBS in workers:
        totals[JOBS] = _row(workers[JOBS], jobs, elapsed)
    if BENCH in spent:
        totals[BENCH] = _row(spent[BENCH], jobs, elapsed)
    totals["machine"] = _row(after.machine_s - before.machine_s, jobs, elapsed)
    return {
        "jobs": jobs,
        "elapsed_s": round(elapsed, 3),
        "processes": rows,
        "totals": totals,
        "missing": [name for name in STACK if name not in spent],
        "load_average": {"before": list(before.load_average), "after": list(after.load_average)},
    }
