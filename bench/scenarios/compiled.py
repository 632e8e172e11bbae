"""Compiled languages: C++ and Java jobs (compile once, then 10 tests), throughput over HTTP and sequential
latency, against the same compile + 10 runs done by a bare pool in the same image (sandboxed)."""

import asyncio
import time
from typing import Any

from bench.floor import Phase
from bench.progress import counting
from bench.scenarios import Context, floor, floor_view, ready_pool
from bench.scenarios.latency import sequential_latency
from bench.stats import percentile, ratio, summary_ms
from bench.targets import at_least
from bench.workload import COMPILED, Submitted, Workload, http_client, submit_all

TARGET_FRACTION = 0.9
"""Target (issue 15): compile + 10 tests through the cluster at this share of the sandboxed floor."""


async def _throughput(ctx: Context, workload: Workload, count: int) -> dict[str, Any]:
    clients = ctx.options.http_clients
    submitted = Submitted([], [])
    timeout = ctx.timeout_for(count, slowest_rate=0.5)
    phase = f"compiled/{workload.language}"
    started = time.time()
    async with http_client(ctx.cluster.api_url, clients) as client:
        await asyncio.wait_for(submit_all(client, workload, count, clients, submitted), timeout)
    ids = submitted.ids
    async with counting(f"{phase}: finished", count, lambda: ctx.watcher.count(ids)):
        await ctx.watcher.wait_for(ids, timeout)
    elapsed = max(ctx.watcher.finished[i].seen for i in ids) - started
    return {
        "jobs": count,
        "elapsed_s": round(elapsed, 3),
        "jobs_per_s": round(count / elapsed, 3),
        "verdicts": ctx.watcher.verdicts(ids),
    }


async def _language(ctx: Context, workload: Workload) -> dict[str, Any]:
    counts, cores = ctx.options.counts, ctx.options.cores
    measured = await floor(
        ctx,
        workload,
        [
            Phase("parallel", counts.compiled_jobs, cores, sandbox=True),
            Phase("sequential", counts.compiled_latency_jobs, 1, sandbox=True),
        ],
    )
    await ready_pool(ctx, workload)
    try:
        throughput = await _throughput(ctx, workload, counts.compiled_jobs)
        seen = await sequential_latency(
            ctx, workload, counts.compiled_latency_jobs, f"compiled/{workload.language}: POST → result"
        )
    finally:
        await ctx.cluster.scale(workload.language, 0)  # frees the CPUs and memory for what comes next
    latency_ms: list[float] = seen["latency_ms"]
    bare_ms = measured["sequential"].job_ms
    return {
        "tests_per_job": len(workload.program.tests),
        "throughput": throughput,
        "latency_ms": summary_ms(latency_ms),
        "latency_verdicts": seen["verdicts"],
        "floor": {name: floor_view(result) for name, result in measured.items()},
        "fraction_of_floor": ratio(throughput["jobs_per_s"], measured["parallel"].jobs_per_s),
        "overhead_p50_ms": round(percentile(latency_ms, 50) - percentile(bare_ms, 50), 1),
    }


async def run(ctx: Context) -> dict[str, Any]:
    """Each compiled language in turn, one pool up at a time."""
    found: dict[str, Any] = {workload.language: await _language(ctx, workload) for workload in COMPILED}
    found["targets"] = [
        at_least(f"{language} jobs/s / floor (compile + 10 tests)", v["fraction_of_floor"], TARGET_FRACTION)
        for language, v in found.items()
    ]
    return found
