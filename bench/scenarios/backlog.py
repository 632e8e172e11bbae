"""Backlog: M jobs queued on Kafka while the pool has no worker, then the workers start and drain it;
memory of the API, the master and the worker containers is sampled all along. A queue should cost the
processes nothing: their memory should stay flat however long the backlog is."""

import time
from typing import Any

from bench.monitor import MemorySampler
from bench.progress import counting
from bench.scenarios import Context
from bench.workload import SHORT_PYTHON, jobs


async def run(ctx: Context) -> dict[str, Any]:
    """Queue, then drain under the sampler."""
    count = ctx.options.counts.backlog
    language = SHORT_PYTHON.language
    await ctx.cluster.scale(language, 0)
    batch = jobs(SHORT_PYTHON, count)
    ids = [key for key, _ in batch]
    before = ctx.producer.acknowledged
    async with counting("backlog: queued", count, lambda: ctx.producer.acknowledged - before):
        await ctx.producer.send_all(ctx.cluster.topics.jobs(language), batch)
    del batch
    async with MemorySampler(ctx.cluster) as sampler:
        started = time.time()
        await ctx.cluster.scale(language, ctx.options.workers)
        async with counting("backlog: drained", count, lambda: ctx.watcher.count(ids)):
            await ctx.watcher.wait_for(ids, ctx.timeout_for(count))
    elapsed = max(ctx.watcher.finished[i].seen for i in ids) - started
    memory = sampler.report()
    return {
        "jobs": count,
        "elapsed_s": round(elapsed, 1),
        "jobs_per_s": round(count / elapsed, 2),
        "verdicts": ctx.watcher.verdicts(ids),
        "memory": memory,
        "flat": {name: view.get("flat") for name, view in memory["mib"].items()},
    }
