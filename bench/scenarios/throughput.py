"""Throughput: N short Python jobs over HTTP (concurrent clients) and straight to Kafka, jobs/s until the
last result, against a bare pool of subprocesses (one per core) with and without the sandbox."""

import asyncio
import time
from typing import Any

from bench.floor import Phase
from bench.progress import counting
from bench.scenarios import Context, floor, floor_view, produce_and_wait, ready_pool
from bench.stats import ratio, summary_ms
from bench.workload import SHORT_PYTHON, Submitted, http_client, submit_all

TARGET_FRACTION = 0.7
"""Target: the cluster reaches at least this share of the sandboxed floor."""


async def _via_http(ctx: Context, count: int) -> dict[str, Any]:
    clients = ctx.options.http_clients
    submitted = Submitted([], [])
    timeout = ctx.timeout_for(count)
    started = time.time()
    async with (
        http_client(ctx.cluster.api_url, clients) as client,
        counting("throughput/http: accepted", count, lambda: len(submitted.ids)),
    ):
        await asyncio.wait_for(submit_all(client, SHORT_PYTHON, count, clients, submitted), timeout)
    accepted_s = time.time() - started
    ids = submitted.ids
    async with counting("throughput/http: finished", count, lambda: ctx.watcher.count(ids)):
        await ctx.watcher.wait_for(ids, timeout)
    elapsed = max(ctx.watcher.finished[i].seen for i in ids) - started
    return {
        "jobs": count,
        "clients": clients,
        "elapsed_s": round(elapsed, 3),
        "jobs_per_s": round(count / elapsed, 2),
        "accepted_per_s": round(count / accepted_s, 2),
        "post_ms": summary_ms(submitted.post_ms),
        "verdicts": ctx.watcher.verdicts(ids),
    }


async def run(ctx: Context) -> dict[str, Any]:
    """Measure the floor first (no worker runs yet), then the cluster both ways."""
    count, cores = ctx.options.counts.jobs, ctx.options.cores
    measured = await floor(
        ctx,
        SHORT_PYTHON,
        [Phase("bare", count, cores, sandbox=False), Phase("sandboxed", count, cores, sandbox=True)],
    )
    await ready_pool(ctx, SHORT_PYTHON)
    http = await _via_http(ctx, count)
    kafka = await produce_and_wait(ctx, SHORT_PYTHON, count, "throughput/kafka")
    reference = measured["sandboxed"].jobs_per_s
    fractions = {
        "http": ratio(http["jobs_per_s"], reference),
        "kafka": ratio(kafka["jobs_per_s"], reference),
    }
    return {
        "program": SHORT_PYTHON.program.source,
        "http": http,
        "kafka": kafka,
        "floor": {name: floor_view(result) for name, result in measured.items()},
        "fraction_of_sandboxed_floor": fractions,
        "target": {"fraction_of_sandboxed_floor": TARGET_FRACTION},
        "meets_target": {mode: f is not None and f >= TARGET_FRACTION for mode, f in fractions.items()},
    }
