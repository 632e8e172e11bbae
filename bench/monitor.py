"""Memory of the cluster's processes over time: the API's and the master's resident memory (``/proc``)
and each worker container's memory as ``docker stats`` shows it (usage minus inactive page cache)."""

import asyncio
import contextlib
import statistics
import time
from typing import Any

import docker

from bench.cluster import BenchCluster
from master.spec import cluster_filter

MIB = 1024 * 1024
SAMPLE_EVERY_S = 1.0
FLAT_SLACK = 0.10
FLAT_SLACK_MIB = 16.0
"""Memory is "flat" when its last quarter is at most this much (share, or MiB, whichever is larger) above
its second quarter (the first quarter is start-up)."""


def container_memory_mib(stats: dict[str, Any]) -> float | None:
    """Memory of one container from its stats, as ``docker stats`` computes it; None when it has none."""
    memory = stats.get("memory_stats") or {}
    usage = memory.get("usage")
    if usage is None:
        return None
    details = memory.get("stats") or {}
    inactive = details.get("total_inactive_file", details.get("inactive_file", 0))  # cgroup v1, v2
    return float(usage - inactive) / MIB


class MemorySampler:
    """Samples API, master and worker memory every ``every_s`` seconds while it runs."""

    def __init__(self, cluster: BenchCluster, every_s: float = SAMPLE_EVERY_S) -> None:
        self._cluster = cluster
        self._every_s = every_s
        self._engine = docker.from_env(timeout=30)
        self._task: asyncio.Task[None] | None = None
        self.t: list[float] = []
        self.series: dict[str, list[float | None]] = {"api": [], "master": [], "workers": []}
        self.worker_count: list[int] = []

    def _sample(self) -> tuple[float | None, float | None, float | None, int]:
        api, master = (self._cluster.rss_kib(name) for name in ("api", "master"))
        workers = self._engine.containers.list(
            ignore_removed=True, filters=cluster_filter(self._cluster.name)
        )
        total: float | None = None
        for container in workers:
            with contextlib.suppress(docker.errors.NotFound, docker.errors.APIError):
                mib = container_memory_mib(container.stats(stream=False, one_shot=True))
                if mib is not None:
                    total = (total or 0.0) + mib
        as_mib = [None if kib is None else kib / 1024 for kib in (api, master)]
        return as_mib[0], as_mib[1], total, len(workers)

    async def _run(self) -> None:
        started = time.monotonic()
        while True:
            api, master, workers, count = await asyncio.to_thread(self._sample)
            self.t.append(round(time.monotonic() - started, 2))
            for name, value in (("api", api), ("master", master), ("workers", workers)):
                self.series[name].append(None if value is None else round(value, 1))
            self.worker_count.append(count)
            await asyncio.sleep(self._every_s)

    async def __aenter__(self) -> "MemorySampler":
        self._task = asyncio.create_task(self._run(), name="bench memory sampler")
        return self

    async def __aexit__(self, *_exc: object) -> None:
        assert self._task is not None
        self._task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await self._task
        self._engine.close()

    def report(self) -> dict[str, Any]:
        """Per process: min, max, first and last MiB, growth, whether it stayed flat; and the samples."""
        summary = {
            name: flatness([v for v in values if v is not None]) for name, values in self.series.items()
        }
        return {"mib": summary, "samples": {"t": self.t, **self.series, "worker_count": self.worker_count}}


def flatness(values: list[float]) -> dict[str, Any]:
    """How memory behaved over a run (see :data:`FLAT_SLACK`)."""
    if len(values) < 4:
        return {"samples": len(values)}
    quarter = len(values) // 4
    second = statistics.fmean(values[quarter : 2 * quarter])
    last = statistics.fmean(values[-quarter:])
    growth = last - second
    return {
        "samples": len(values),
        "min": round(min(values), 1),
        "max": round(max(values), 1),
        "first": values[0],
        "last": values[-1],
        "growth": round(growth, 1),
        "flat": growth <= max(FLAT_SLACK * second, FLAT_SLACK_MIB),
    }
