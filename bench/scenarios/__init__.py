"""The benchmark scenarios. Each is ``async def run(ctx: Context) -> dict`` returning JSON-ready results,
measured next to its bare-execution floor from the same run."""

import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from bench.cluster import BenchCluster
from bench.floor import Phase, PhaseResult, measure_floor
from bench.kafka_io import Producer, ResultsWatcher
from bench.options import BenchOptions
from bench.progress import counting, say
from bench.stats import summary_ms
from bench.workload import Workload, jobs
from common.runtimes import Runtime

BASE_TIMEOUT_S = 120.0
FLOOR_TIMEOUT_S = 900.0
WARM_UP_PER_SLOT = 2


@dataclass
class Context:
    """What every scenario works with: the options, the running cluster and the bench's Kafka clients."""

    options: BenchOptions
    cluster: BenchCluster
    watcher: ResultsWatcher
    producer: Producer
    runtimes: dict[str, Runtime]

    def timeout_for(self, jobs: int, slowest_rate: float | None = None) -> float:
        """How long ``jobs`` jobs may take before the wait counts as stuck: BASE_TIMEOUT_S plus ``jobs`` at
        ``slowest_rate`` (a scenario's own), or ``--stuck-below`` when that is slower."""
        rate = min(slowest_rate or self.options.stuck_below, self.options.stuck_below)
        return BASE_TIMEOUT_S + jobs / rate

    @property
    def slots(self) -> int:
        """Jobs the cluster runs at once."""
        return self.options.workers * self.options.pool_size


async def ready_pool(ctx: Context, workload: Workload) -> None:
    """Start the language's workers and run a few jobs through them, so that every worker holds its
    partitions and the first timed job does not pay for a rebalance or a cold page cache."""
    await ctx.cluster.scale(workload.language, ctx.options.workers)
    await warm_up(ctx, workload, ctx.slots)
    say(f"{workload.language}: {ctx.options.workers} worker(s) of {ctx.options.pool_size} ready")


async def warm_up(ctx: Context, workload: Workload, slots: int) -> None:
    """Run :data:`WARM_UP_PER_SLOT` jobs per slot through the running pool and wait for them."""
    warm = jobs(workload, slots * WARM_UP_PER_SLOT)
    await ctx.producer.send_all(ctx.cluster.topics.jobs(workload.language), warm)
    await ctx.watcher.wait_for([key for key, _ in warm], ctx.timeout_for(len(warm), 1.0))


async def produce_and_wait(ctx: Context, workload: Workload, count: int, phase: str) -> dict[str, Any]:
    """Produce ``count`` jobs straight to Kafka and wait for every result; jobs/s until the last one."""
    batch = jobs(workload, count)
    ids = [key for key, _ in batch]
    topic = ctx.cluster.topics.jobs(workload.language)
    timeout = ctx.timeout_for(count)
    before = ctx.producer.acknowledged
    started = time.time()
    async with counting(f"{phase}: produced", count, lambda: ctx.producer.acknowledged - before):
        await ctx.producer.send_all(topic, batch)
    async with counting(f"{phase}: finished", count, lambda: ctx.watcher.count(ids)):
        await ctx.watcher.wait_for(ids, timeout)
    elapsed = max(ctx.watcher.finished[i].seen for i in ids) - started
    return {
        "jobs": count,
        "elapsed_s": round(elapsed, 3),
        "jobs_per_s": round(count / elapsed, 2),
        "verdicts": ctx.watcher.verdicts(ids),
    }


async def floor(
    ctx: Context, workload: Workload, phases: list[Phase], settings: Mapping[str, str] | None = None
) -> dict[str, PhaseResult]:
    """The bare-execution floor of ``workload`` (see :mod:`bench.floor`) in a worker container configured
    by ``settings`` (default: the run's ``--set`` ones); fails when a floor job did."""
    say(f"floor {workload.language}: " + ", ".join(f"{p.name} ({p.jobs:,} jobs)" for p in phases))
    measured = await measure_floor(
        runtime=ctx.runtimes[workload.language],
        program=workload.program,
        phases=phases,
        image=ctx.cluster.services.worker_image.format(language=workload.language),
        cluster=ctx.cluster.name,
        cpus=float(ctx.options.cores),
        settings=ctx.options.settings if settings is None else settings,
        timeout_s=FLOOR_TIMEOUT_S,
    )
    for result in measured.values():
        if result.failures:
            raise RuntimeError(
                f"floor phase {result.name}: {result.failures} jobs failed: {result.first_failure}"
            )
        say(f"floor {workload.language} {result.name}: {result.jobs_per_s:,.1f} jobs/s")
    return measured


def floor_view(result: PhaseResult) -> dict[str, Any]:
    """A floor phase as the JSON reports it."""
    return {
        "jobs": result.jobs,
        "parallel": result.parallel,
        "sandbox": result.sandbox,
        "elapsed_s": round(result.elapsed_s, 3),
        "jobs_per_s": round(result.jobs_per_s, 2),
        "job_ms": summary_ms(result.job_ms),
        "cpu_ms_per_job": None if result.cpu_ms_per_job is None else round(result.cpu_ms_per_job, 2),
    }
