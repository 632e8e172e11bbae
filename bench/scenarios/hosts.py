"""Scale-out: the throughput scenario's short Python jobs (straight to Kafka) on the same workers, first all
on this machine's engine, then split over it and a second engine (:mod:`devstack.second_host`), with the
same CPUs in total. The ratio says what spanning hosts costs or gains.

Both engines run on this machine, so the split adds no cores: the second one reaches Kafka and MariaDB
over a veth link and NAT as another machine would. A ratio near 1 means the split costs nothing; on real
machines, each with its own cores, the same split adds their capacity.
"""

import asyncio
import contextlib
import time
from typing import Any

from sqlalchemy.engine import make_url

from bench.progress import say
from bench.scenarios import Context, produce_and_wait, warm_up
from bench.stats import ratio
from bench.workload import SHORT_PYTHON
from devstack import second_host

LANGUAGE = SHORT_PYTHON.language
POLL_S = 0.5
IMAGE_COPY_TIMEOUT_S = 600.0


def _second_host(ctx: Context) -> second_host.SecondHost:
    # Named after the services' MySQL port plus one: never the test suite's (or `make up`'s) second host.
    port = make_url(ctx.cluster.services.database_url).port or 3306
    return second_host.SecondHost(port + 1, ctx.cluster.logs)


async def _hosts(ctx: Context) -> dict[str, dict[str, Any]]:
    async with ctx.cluster.admin() as admin:
        reply = await admin.get("/api/v1/admin/hosts")
        reply.raise_for_status()
        return {h["name"]: h for h in reply.json()}


async def _until(ctx: Context, what: str, done: Any, timeout_s: float) -> dict[str, dict[str, Any]]:
    """Poll the hosts report (a row the master writes: no event to await) until ``done(report)``."""
    started, found = time.monotonic(), {}
    while time.monotonic() - started < timeout_s:
        found = await _hosts(ctx)
        if done(found):
            return found
        await asyncio.sleep(POLL_S)
    raise TimeoutError(f"{what}: not within {timeout_s:.0f} s; hosts: {found}")


async def _phase(ctx: Context, workers: int, name: str) -> dict[str, Any]:
    """Scale python to ``workers`` (from 0, so placement spreads them afresh), warm them up, run the jobs."""
    await ctx.cluster.scale(LANGUAGE, 0)
    await ctx.cluster.scale(LANGUAGE, workers)
    placed = {h: r["workers"].get(LANGUAGE, 0) for h, r in (await _hosts(ctx)).items()}
    await warm_up(ctx, SHORT_PYTHON, workers * ctx.options.pool_size)
    measured = await produce_and_wait(ctx, SHORT_PYTHON, ctx.options.counts.jobs, f"hosts/{name}")
    say(f"hosts/{name}: {measured['jobs_per_s']:,.1f} jobs/s with workers {placed}")
    return {**measured, "workers_per_host": placed}


async def run(ctx: Context) -> dict[str, Any]:
    """One host, then two; the second engine is added through the admin API and removed at the end."""
    per_host = max(1, ctx.options.workers // 2)
    workers = 2 * per_host
    one = await _phase(ctx, workers, "one host")
    host = _second_host(ctx)
    await asyncio.to_thread(second_host.start, host)
    try:
        async with ctx.cluster.admin() as admin:
            reply = await admin.post("/api/v1/admin/hosts", json={"name": host.name, "url": host.url})
            reply.raise_for_status()
        say(f"hosts: {host.name} added; the master copies the {LANGUAGE} image onto it")
        copy_started = time.monotonic()
        await _until(
            ctx,
            f"{host.name} up with its images",
            lambda found: found.get(host.name, {}).get("images_ok") and found[host.name]["state"] == "up",
            IMAGE_COPY_TIMEOUT_S,
        )
        copy_s = time.monotonic() - copy_started
        two = await _phase(ctx, workers, "two hosts")
        if sorted(two["workers_per_host"].values()) != [per_host, per_host]:
            raise RuntimeError(f"placement did not split the workers evenly: {two['workers_per_host']}")
        await ctx.cluster.scale(LANGUAGE, 0)
        await _until(
            ctx, f"{host.name} empty", lambda found: not any(found[host.name]["workers"].values()), 60
        )
        async with ctx.cluster.admin() as admin:
            (await admin.delete(f"/api/v1/admin/hosts/{host.name}")).raise_for_status()
    finally:
        with contextlib.suppress(Exception):  # the run goes on; stop() removes what is left either way
            await ctx.cluster.scale(LANGUAGE, 0)
        await asyncio.to_thread(second_host.stop, host)
    return {
        "program": SHORT_PYTHON.program.source,
        "workers": workers,
        "worker_cpus": ctx.options.worker_cpus,
        "one_host": one,
        "two_hosts": two,
        "image_copy_s": round(copy_s, 1),
        "ratio_two_to_one": ratio(two["jobs_per_s"], one["jobs_per_s"]),
        "same_machine": True,
    }
