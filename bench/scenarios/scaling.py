"""Scaling: jobs/s of the throughput scenario's short Python jobs, produced straight to Kafka, for 1, 2
and 4 worker containers times pool sizes 1 to 4, on this machine; next to the sandboxed floor (one job
per core). The curve says how many workers and slots a host of this kind needs before more only add
contention (docs/benchmarks.md, "Sizing a host").

The machine's cores are shared out between the workers (``EXECUTIONER_WORKER_CPUS`` = cores / workers:
the master places workers by their CPU limits, so 4 workers of all the cores would not fit on one host),
so every point has the same CPUs in total. The pool size and the CPU limit are master-wide settings, so
the master is restarted for each point (it removes its workers on the way out); the worker count is the
pool's replicas. Each point is warmed up as the throughput scenario does. At the end the master runs
with the run's settings again.
"""

from collections.abc import Sequence
from typing import Any

from bench.floor import Phase
from bench.progress import say
from bench.scenarios import Context, floor, floor_view, produce_and_wait, warm_up
from bench.stats import ratio
from bench.workload import SHORT_PYTHON

WORKERS = (1, 2, 4)
POOL_SIZES = (1, 2, 3, 4)
ENOUGH = 0.9
"""A configuration is "enough" for this machine when it reaches this share of the best rate measured."""
LANGUAGE = SHORT_PYTHON.language


def curve(points: Sequence[dict[str, Any]]) -> dict[str, Any]:
    """The measured points as a curve: jobs/s per pool size for each worker count (pool sizes in
    ascending order), the best point, and the smallest configuration (fewest slots, then fewest workers)
    that reaches :data:`ENOUGH` of the best rate."""
    if not points:
        return {"series": {}, "best": None, "enough": None}
    ordered = sorted(points, key=lambda p: (p["workers"], p["pool_size"]))
    series: dict[str, dict[str, list[float]]] = {}
    for point in ordered:
        line = series.setdefault(str(point["workers"]), {"pool_size": [], "jobs_per_s": []})
        line["pool_size"].append(point["pool_size"])
        line["jobs_per_s"].append(point["jobs_per_s"])
    best = max(ordered, key=lambda p: p["jobs_per_s"])
    good = [p for p in ordered if p["jobs_per_s"] >= ENOUGH * best["jobs_per_s"]]
    enough = min(good, key=lambda p: (p["workers"] * p["pool_size"], p["workers"]))

    def brief(point: dict[str, Any]) -> dict[str, Any]:
        keys = ("workers", "pool_size", "jobs_per_s")
        return {**{key: point[key] for key in keys}, "slots": point["workers"] * point["pool_size"]}

    return {"series": series, "best": brief(best), "enough": brief(enough)}


async def _point(ctx: Context, workers: int, pool_size: int) -> dict[str, Any]:
    cpus = ctx.options.cores / workers
    await ctx.cluster.scale(LANGUAGE, 0)
    await ctx.cluster.restart_master(worker_pool_size=str(pool_size), worker_cpus=f"{cpus:g}")
    await ctx.cluster.scale(LANGUAGE, workers)
    await warm_up(ctx, SHORT_PYTHON, workers * pool_size)
    name = f"scaling/{workers}x{pool_size}"
    measured = await produce_and_wait(ctx, SHORT_PYTHON, ctx.options.counts.scaling_jobs, name)
    say(f"{name}: {measured['jobs_per_s']:,.1f} jobs/s")
    return {"workers": workers, "pool_size": pool_size, "worker_cpus": cpus, **measured}


async def run(ctx: Context) -> dict[str, Any]:
    """The floor, then every point (one master restart each)."""
    count, cores = ctx.options.counts.scaling_jobs, ctx.options.cores
    measured = await floor(ctx, SHORT_PYTHON, [Phase("sandboxed", count, cores, sandbox=True)])
    points: list[dict[str, Any]] = []
    failed: list[dict[str, Any]] = []
    try:
        for workers in WORKERS:
            for pool_size in POOL_SIZES:
                try:
                    points.append(await _point(ctx, workers, pool_size))
                except (TimeoutError, RuntimeError) as exc:  # the other points still say something
                    failed.append(
                        {"workers": workers, "pool_size": pool_size, "error": f"{type(exc).__name__}: {exc}"}
                    )
                    say(f"scaling/{workers}x{pool_size} FAILED: {failed[-1]['error']}")
    finally:
        await ctx.cluster.scale(LANGUAGE, 0)
        await ctx.cluster.restart_master()
    found = curve(points)
    best = found["best"]["jobs_per_s"] if found["best"] else 0.0
    return {
        "program": SHORT_PYTHON.program.source,
        "jobs": count,
        "cores": cores,
        "points": points,
        "failed_points": failed,
        **found,
        "floor": {"sandboxed": floor_view(measured["sandboxed"])},
        "best_fraction_of_sandboxed_floor": ratio(best, measured["sandboxed"].jobs_per_s),
    }
