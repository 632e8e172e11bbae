"""What isolation costs per job: short Python and C jobs, one at a time, in a worker container under
Docker's default runtime (runc) and under gVisor (``runsc``), each without a sandbox, with a bubblewrap
sandbox per command and with a warm sandbox (``EXECUTIONER_SANDBOX=warm``, worker/warm.py; on gVisor
both set up as the worker does there, worker/gvisor.py). No cluster: only the
floor (:mod:`bench.floor`), so nothing but isolation differs between the four."""

import asyncio
import contextlib
from collections.abc import Mapping
from typing import Any

import docker

from bench.floor import Phase, PhaseResult
from bench.scenarios import Context, floor, floor_view
from bench.stats import percentile
from bench.targets import Target, at_most
from bench.workload import SHORT_C, SHORT_PYTHON, Workload

GVISOR_RUNTIME = "runsc"
"""The Docker runtime measured as gVisor, unless ``--set WORKER_RUNTIME=...`` names another."""
RUNTIME_SETTING = "EXECUTIONER_WORKER_RUNTIME"
WORKLOADS = (SHORT_PYTHON, SHORT_C)
COMMANDS = {SHORT_PYTHON.language: 1, SHORT_C.language: 2}
"""Sandboxed commands per job: the Python run; the C compile and its run."""
TARGET_PER_COMMAND_MS = 2.0
"""Target (issue 15): a sandbox adds at most this to a command's p50, on runc and on gVisor."""


def docker_runtimes() -> set[str]:
    """The runtimes the Docker engine knows (``docker info``). Blocking."""
    engine = docker.from_env(timeout=60)
    with contextlib.closing(engine):
        return set(engine.info().get("Runtimes") or {})


def costs(measured: Mapping[str, PhaseResult]) -> dict[str, float]:
    """Milliseconds each isolation adds to the median job, over plain runc."""
    base = percentile(measured["runc"].job_ms, 50)
    return {
        name: round(percentile(result.job_ms, 50) - base, 1)
        for name, result in measured.items()
        if name != "runc"
    }


def per_command(measured: Mapping[str, PhaseResult], commands: int) -> dict[str, float]:
    """Milliseconds each sandbox adds per command over the same runtime without one (``runc_warm`` over
    ``runc``, ``gvisor_bwrap`` over ``gvisor``): the job's median difference over its commands."""
    found: dict[str, float] = {}
    for name, result in measured.items():
        runtime, _, sandbox = name.partition("_")
        if sandbox and runtime in measured:
            added = percentile(result.job_ms, 50) - percentile(measured[runtime].job_ms, 50)
            found[name] = round(added / commands, 2)
    return found


def targets(result: Mapping[str, Any]) -> list[Target]:
    """The sandbox-cost target for every sandbox measured, per language."""
    return [
        at_most(f"{language} sandbox {name} per command", ms, TARGET_PER_COMMAND_MS, "ms")
        for language, view in result.items()
        if isinstance(view, dict) and "per_command_ms" in view
        for name, ms in view["per_command_ms"].items()
    ]


async def _language(
    ctx: Context, workload: Workload, gvisor: str | None, settings: dict[str, str]
) -> dict[str, Any]:
    jobs = ctx.options.counts.isolation_jobs
    runc = [Phase("runc", jobs, 1, sandbox=False), Phase("runc_bwrap", jobs, 1, sandbox=True)]
    measured = dict(await floor(ctx, workload, runc, settings=settings))
    # The warm sandbox in a container of its own: the runner enters the namespaces a pool process has.
    warm = [Phase("runc_warm", jobs, 1, sandbox=True, warm=True)]
    measured.update(await floor(ctx, workload, warm, settings=settings))
    if gvisor is not None:
        gvisor_settings = {**settings, RUNTIME_SETTING: gvisor}
        phases = [Phase("gvisor", jobs, 1, sandbox=False), Phase("gvisor_bwrap", jobs, 1, sandbox=True)]
        measured.update(await floor(ctx, workload, phases, settings=gvisor_settings))
        warm = [Phase("gvisor_warm", jobs, 1, sandbox=True, warm=True)]
        measured.update(await floor(ctx, workload, warm, settings=gvisor_settings))
    return {
        "floor": {name: floor_view(result) for name, result in measured.items()},
        "added_p50_ms": costs(measured),
        "per_command_ms": per_command(measured, COMMANDS[workload.language]),
    }


async def run(ctx: Context) -> dict[str, Any]:
    """Each workload under runc and (when Docker has it) gVisor, each with and without bubblewrap."""
    settings = {k: v for k, v in ctx.options.settings.items() if k != RUNTIME_SETTING}
    gvisor = ctx.options.settings.get(RUNTIME_SETTING) or GVISOR_RUNTIME
    available = gvisor in await asyncio.to_thread(docker_runtimes)
    result: dict[str, Any] = {"jobs": ctx.options.counts.isolation_jobs, "gvisor_runtime": gvisor}
    if not available:
        result["gvisor_missing"] = (
            f"Docker has no runtime {gvisor!r}: with Go installed, `make services` builds and registers runsc"
        )
    for workload in WORKLOADS:
        result[workload.language] = await _language(ctx, workload, gvisor if available else None, settings)
    result["targets"] = targets(result)
    return result
