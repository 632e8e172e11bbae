"""The bare-execution floor: the same program run by a plain pool of subprocesses, in the language's
worker image, in a container confined exactly like a worker (the master's own ``containers.run``
arguments), with and without the worker's bubblewrap sandbox. One ``docker run`` per batch of phases;
only the time inside the container counts (``bench/floor_runner.py`` measures it).
"""

import asyncio
import contextlib
import dataclasses
import json
import secrets
import shutil
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import docker
from docker.errors import NotFound

from common.runtimes import Runtime
from master.containers import create_container
from master.settings import MasterSettings
from master.spec import LABEL_CLUSTER, LABEL_LANGUAGE, LABEL_ROLE, worker_run_args
from schemas.jobs import Limits
from worker import gvisor as gvisor_kernel
from worker import warm_init
from worker.commands import command, job_env
from worker.job_filter import job_filter
from worker.limits import compile_limits, run_limits
from worker.sandbox import SANDBOX_WORKDIR, SandboxSpec, bwrap_argv, bwrap_options
from worker.warm import init_command

RUNNER = Path(__file__).resolve().parent / "floor_runner.py"
RUNNER_WARM = RUNNER.with_name("floor_warm.py")
"""The runner's warm sandbox (``EXECUTIONER_SANDBOX=warm``), mounted next to it."""
CONTROL_FD = "@CONTROL_FD@"  # floor_warm.CONTROL_FD: the init's end of its control socket
SCRATCH = "@SCRATCH@"  # floor_runner.SCRATCH: the runner puts each job's scratch directory there
STATUS_FD = 9
SECCOMP_FD = "@SECCOMP_FD@"  # floor_runner.SECCOMP_FD: a descriptor of the mode's job filter per command
ROLE_FLOOR = "bench-floor"


@dataclass(frozen=True)
class Program:
    """A program and what it must print: ``tests`` are (stdin, expected stdout) pairs."""

    source: str
    tests: list[tuple[str, str]]


@dataclass(frozen=True)
class Phase:
    """``jobs`` jobs, ``parallel`` at a time, with or without the sandbox."""

    name: str
    jobs: int
    parallel: int
    sandbox: bool
    warm: bool = False
    """With ``sandbox``: one warm sandbox for all the jobs (worker/warm.py), not one per command."""


@dataclass(frozen=True)
class PhaseResult:
    """What the runner measured for one phase."""

    name: str
    jobs: int
    parallel: int
    sandbox: bool
    elapsed_s: float
    job_ms: list[float]
    failures: int
    first_failure: str | None
    warm: bool = False
    cpu_ms_per_job: float | None = None
    """The runner's and its jobs' CPU time over the phase, per job (None for a sandboxed phase)."""

    @property
    def jobs_per_s(self) -> float:
        """Throughput of the phase."""
        return self.jobs / self.elapsed_s


def _steps(runtime: Runtime, limits: Limits, sandboxed: bool, *, gvisor: bool = False) -> dict[str, Any]:
    """The compile and run command lines and environments, as the worker would build them (``gvisor``: as
    on gVisor's kernel, worker/gvisor.py; the runner fills in the filter's descriptor)."""
    home = SANDBOX_WORKDIR if sandboxed else Path(SCRATCH)
    steps: dict[str, Any] = {}
    plans = [("run", runtime.run, limits.memory_mb, run_limits(limits, runtime).processes)]
    if runtime.compile is not None:
        processes = compile_limits(limits, runtime).processes
        plans.append(("compile", runtime.compile, runtime.compile_memory_mb, processes))
    for step, template, memory_mb, processes in plans:
        argv = command(template, runtime, memory_mb)
        if sandboxed:
            limit = min(processes, gvisor_kernel.JOB_PROCESSES) if gvisor else processes
            spec = SandboxSpec(
                Path(SCRATCH),
                limit,
                STATUS_FD,
                seccomp_fd=STATUS_FD,
                disable_userns=not gvisor,
                share_net=gvisor,
            )
            argv = bwrap_argv(spec, argv)
            argv[argv.index("--seccomp") + 1] = SECCOMP_FD
        steps[step] = {"argv": argv, "env": job_env(runtime, home, memory_mb)}
    return steps


def _warm_steps(runtime: Runtime, limits: Limits, *, gvisor: bool) -> dict[str, Any]:
    """The requests the warm sandbox's init gets for the compile and run steps (worker/warm_init.py), as
    the worker sends them: the ``prlimit`` wrapper with the step's limits, the spawner, then the command."""
    steps: dict[str, Any] = {}
    for step, plan in _steps(runtime, limits, False).items():
        process_limits = (compile_limits if step == "compile" else run_limits)(limits, runtime)
        processes = process_limits.processes
        processes = min(processes, gvisor_kernel.JOB_PROCESSES) if gvisor else processes
        process_limits = dataclasses.replace(process_limits, processes=processes)
        prefix = [*process_limits.exec_prefix(dies_with_parent=True), *warm_init.SPAWNER]
        steps[step] = {
            "request": {
                "op": "run",
                "argv": [*prefix, *plan["argv"]],
                "env": {
                    name: value.replace(SCRATCH, str(SANDBOX_WORKDIR)) for name, value in plan["env"].items()
                },
                "cwd": str(SANDBOX_WORKDIR),
            }
        }
    return steps


def _warm_sandbox(*, gvisor: bool) -> list[str]:
    """The warm sandbox's command line, as worker/warm.py builds it (the runner fills in the slot, the
    filter's and the control socket's descriptors)."""
    spec = SandboxSpec(Path(SCRATCH), 0, -1, seccomp_fd=-1, disable_userns=not gvisor, share_net=gvisor)
    return [*bwrap_options(spec), "--as-pid-1", "--", *init_command("/usr/bin/python3", CONTROL_FD)]


def floor_spec(runtime: Runtime, program: Program, phases: list[Phase]) -> dict[str, Any]:
    """The runner's input for ``program`` under the default limits."""
    limits = Limits().effective()
    return {
        "source_file": runtime.source_file,
        "source": program.source,
        "tests": [{"stdin": stdin, "expected": expected} for stdin, expected in program.tests],
        "status_fd": STATUS_FD,
        "modes": {
            "bare": _steps(runtime, limits, False),
            "sandbox": _steps(runtime, limits, True),
            "sandbox_gvisor": _steps(runtime, limits, True, gvisor=True),
            "warm": _warm_steps(runtime, limits, gvisor=False),
            "warm_gvisor": _warm_steps(runtime, limits, gvisor=True),
        },
        "warm_sandboxes": {
            "warm": _warm_sandbox(gvisor=False),
            "warm_gvisor": _warm_sandbox(gvisor=True),
        },
        "seccomp_filters": {
            "sandbox": job_filter(refuse_user_namespaces=False).hex(),
            "sandbox_gvisor": job_filter(refuse_user_namespaces=True).hex(),
            "warm": job_filter(refuse_user_namespaces=False, refuse_message_queues=True).hex(),
            "warm_gvisor": job_filter(refuse_user_namespaces=True, refuse_message_queues=True).hex(),
        },
        "phases": [vars(phase) for phase in phases],
    }


def container_args(
    image: str, cluster: str, language: str, cpus: float, settings: Mapping[str, str]
) -> dict[str, Any]:
    """``containers.run`` arguments: a worker's (master/spec.py, under the cluster's ``EXECUTIONER_*``
    ``settings``) with ``cpus`` CPUs, the runner as the command, no network, and an executable ``/tmp`` (a
    worker's job scratch space is its own tmpfs, where programs may be executed). The runner and its spec
    are mounted at ``/bench`` (:func:`_run_floor`)."""
    fields = {name.removeprefix("EXECUTIONER_").lower(): value for name, value in settings.items()}
    master = MasterSettings.model_validate(
        {**fields, "cluster": cluster, "worker_cpus": cpus, "worker_image": image}
    )
    name = f"{cluster}-floor-{language}-{secrets.token_hex(3)}"
    args = worker_run_args(master, language, name)
    args.update(
        entrypoint=["python3", "/bench/floor_runner.py", "/bench/spec.json"],
        command=None,
        environment={},
        labels={LABEL_CLUSTER: cluster, LABEL_LANGUAGE: language, LABEL_ROLE: ROLE_FLOOR},
        network="none",
        # Docker mounts a tmpfs noexec unless told otherwise.
        tmpfs={"/tmp": f"rw,exec,nosuid,nodev,size={master.worker_tmp_mb}m"},
    )
    return args


def run_for_json(args: dict[str, Any], timeout_s: float, what: str = "the floor runner") -> dict[str, Any]:
    """Create a container from ``args`` (``containers.run`` arguments), wait for it to exit, remove it, and
    return the JSON document its program printed on stdout; fails with its stderr when it did not exit 0.
    Blocking. The floor and ``python -m bench.sandbox_cost`` run their measurements inside worker-like
    containers this way."""
    engine = docker.from_env(timeout=60)
    try:
        container = create_container(engine, args)
        try:
            container.start()
            status = container.wait(timeout=timeout_s)
            stdout = container.logs(stdout=True, stderr=False).decode()
            stderr = container.logs(stdout=False, stderr=True).decode()
        finally:
            with contextlib.suppress(NotFound):
                container.remove(force=True)
        if status.get("StatusCode") != 0:
            raise RuntimeError(f"{what} exited {status.get('StatusCode')}: {stderr[-2000:]}")
        document: dict[str, Any] = json.loads(stdout)
        return document
    finally:
        engine.close()


def _run_floor(spec: dict[str, Any], args: dict[str, Any], timeout_s: float) -> dict[str, Any]:
    """Mount the runner and ``spec`` into the container made from ``args`` and run it."""
    with tempfile.TemporaryDirectory(prefix="executioner-bench-floor-") as directory:
        mount = Path(directory)
        mount.chmod(0o755)  # the container runs as the worker's unprivileged user
        shutil.copy(RUNNER, mount / "floor_runner.py")
        shutil.copy(RUNNER_WARM, mount / "floor_warm.py")
        (mount / "spec.json").write_text(json.dumps(spec))
        for path in mount.iterdir():
            path.chmod(0o644)
        args["volumes"] = {str(mount): {"bind": "/bench", "mode": "ro"}}
        return run_for_json(args, timeout_s)


async def measure_floor(
    *,
    runtime: Runtime,
    program: Program,
    phases: list[Phase],
    image: str,
    cluster: str,
    cpus: float,
    settings: Mapping[str, str],
    timeout_s: float,
) -> dict[str, PhaseResult]:
    """Run ``phases`` of ``program`` in one container of ``image`` confined like the cluster's workers
    (``settings``: its ``EXECUTIONER_*`` overrides) but with ``cpus`` CPUs; results by phase name."""
    spec = floor_spec(runtime, program, phases)
    args = container_args(image, cluster, runtime.id, cpus, settings)
    document = await asyncio.to_thread(_run_floor, spec, args, timeout_s)
    return {p["name"]: PhaseResult(**p) for p in document["phases"]}
