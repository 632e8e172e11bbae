"""Idle latency: sequential submissions on an idle cluster, each timed from the ``POST`` to its final SSE
``result`` event; minus the bare (sandboxed) execution time of the same program, that is the platform's
overhead."""

import asyncio
import time
from typing import Any

import httpx
import orjson

from bench.floor import Phase
from bench.progress import counting
from bench.scenarios import Context, floor, floor_view, ready_pool
from bench.sse import SseStream
from bench.stats import percentile, summary_ms
from bench.targets import at_most
from bench.workload import SHORT_PYTHON, Workload, http_client, submit

RESULT_TIMEOUT_S = 60.0
TARGET_OVERHEAD_MS = {"p50": 15.0, "p99": 30.0}
"""Targets (issue 15): the platform adds at most this much to a job's latency."""


async def _one(client: httpx.AsyncClient, api_url: str, body: dict[str, Any]) -> tuple[float, str]:
    """One submission: milliseconds from the ``POST`` to its ``result`` event, and the verdict."""
    async with asyncio.timeout(RESULT_TIMEOUT_S):
        started = time.perf_counter()
        submission = await submit(client, body)
        stream = await SseStream.open(f"{api_url}/api/v1/submissions/{submission}/events")
        try:
            result = await stream.until("result")
        finally:
            stream.close()
        elapsed_ms = (time.perf_counter() - started) * 1000
    return elapsed_ms, str(orjson.loads(result.data).get("verdict"))


async def sequential_latency(ctx: Context, workload: Workload, count: int, phase: str) -> dict[str, Any]:
    """``count`` submissions one after the other: ``POST``, open the event stream, read until ``result``.
    Returns the latencies (ms) and the verdicts seen."""
    latencies: list[float] = []
    verdicts: dict[str, int] = {}
    body = workload.body()
    async with (
        http_client(ctx.cluster.api_url, 1) as client,
        counting(phase, count, lambda: len(latencies)),
    ):
        for _ in range(count):
            elapsed_ms, verdict = await _one(client, ctx.cluster.api_url, body)
            latencies.append(elapsed_ms)
            verdicts[verdict] = verdicts.get(verdict, 0) + 1
    return {"latency_ms": latencies, "verdicts": verdicts}


def overhead(latency_ms: list[float], bare_ms: list[float]) -> dict[str, float]:
    """Latency percentiles minus the median bare execution time."""
    bare = percentile(bare_ms, 50)
    return {q: round(percentile(latency_ms, n) - bare, 1) for q, n in (("p50", 50), ("p95", 95), ("p99", 99))}


async def run(ctx: Context) -> dict[str, Any]:
    """Floor first (one job at a time, sandboxed and not), then the cluster."""
    count = ctx.options.counts.latency_jobs
    measured = await floor(
        ctx,
        SHORT_PYTHON,
        [Phase("sequential", count, 1, sandbox=True), Phase("sequential_bare", count, 1, sandbox=False)],
    )
    await ready_pool(ctx, SHORT_PYTHON)
    seen = await sequential_latency(ctx, SHORT_PYTHON, count, "latency: POST → result")
    latency_ms: list[float] = seen["latency_ms"]
    platform = overhead(latency_ms, measured["sequential"].job_ms)
    return {
        "program": SHORT_PYTHON.program.source,
        "submissions": count,
        "latency_ms": summary_ms(latency_ms),
        "verdicts": seen["verdicts"],
        "floor": {name: floor_view(result) for name, result in measured.items()},
        "overhead_ms": platform,
        "targets": [
            at_most(f"idle overhead {q} (POST -> result minus the bare run)", platform[q], limit, "ms")
            for q, limit in TARGET_OVERHEAD_MS.items()
        ],
    }
