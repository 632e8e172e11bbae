"""What the sandbox costs per job: the same trivial Python job run through the worker's real execute path
with ``EXECUTIONER_SANDBOX=none`` and with a sandbox (``bwrap``, then ``warm``), alternately, inside a
worker container configured exactly as the master configures one: one container per sandbox mode (a pool
process has one mode; a warm slot's shared mount would otherwise be copied into every bubblewrap
sandbox's mount namespace). Prints JSON (milliseconds).

    python -m bench.sandbox_cost [--jobs 200] [--runtime runsc]

Needs the Docker engine and the ``executioner/worker-python`` image (``make images``).
"""

import argparse
import json
import secrets
import sys
from typing import Any

from bench.floor import run_for_json
from master.settings import MasterSettings
from master.spec import worker_run_args

VENV_PYTHON = "/opt/executioner/venv/bin/python"
TIMEOUT_S = 1800.0

# Runs inside the container, as a pool process would: single-threaded, a child subreaper, and (for the
# sandboxed runs) in its private mount namespace for scratch space.
INSIDE = r"""
import json, os, statistics, sys, time, uuid
from pathlib import Path
from common.runtimes import load_runtime
from schemas.jobs import JobMessage
from worker.execute import ExecConfig, execute_job
from worker.limits import ProcessLimits
from worker.process import run_process
from worker.proctree import become_subreaper
from worker.sandbox import SandboxConfig, confine
from worker.scratch import enter_private_mounts, tmpfs_scratch
from worker.warm import WarmSandbox

jobs, kind = int(sys.argv[1]), sys.argv[2]
on_gvisor = not Path("/proc/sys/user/max_user_namespaces").exists()
runtime = load_runtime(Path("/opt/executioner/runtime.toml"))
become_subreaper()
roots = {"none": Path("/tmp/bench-none"), kind: Path("/tmp/bench-sandbox")}
for root in roots.values():
    root.mkdir()
enter_private_mounts(roots[kind], own_network=on_gvisor)
configs = {k: ExecConfig(roots[k], "bench", SandboxConfig(k, gvisor=on_gvisor)) for k in roots}
warm = WarmSandbox(configs[kind].sandbox, roots[kind]) if kind == "warm" else None
limits = ProcessLimits(cpu_ms=2000, wall_ms=6000, memory_bytes=256 << 20, output_bytes=1 << 16)

def job_ms(kind):
    job = JobMessage(id=uuid.uuid4(), language=runtime.id, source="print(6 * 7)")
    started = time.perf_counter()
    outcome = execute_job(job, runtime, configs[kind], warm=warm if kind == "warm" else None)
    assert outcome.verdict == "accepted", outcome
    return (time.perf_counter() - started) * 1000

def true_ms(kind):
    config = configs[kind].sandbox
    if kind == "warm":
        with warm.job():
            started = time.perf_counter()
            result = warm.run(["true"], {"PATH": "/usr/bin:/bin"}, b"", limits)
            assert result.ended_normally, result
            return (time.perf_counter() - started) * 1000
    with tmpfs_scratch(roots[list(roots)[1]], 1 << 20, 64) as scratch:
        started = time.perf_counter()
        with confine(config, ["true"], scratch, limits) as confined:
            raw = run_process(confined.argv, cwd=confined.cwd, env={"PATH": "/usr/bin:/bin"}, stdin=b"",
                              limits=confined.limits, pass_fds=confined.pass_fds)
            result = confined.result(raw)
        assert result.ended_normally, result
        return (time.perf_counter() - started) * 1000

def summary(samples):
    ordered = sorted(samples)
    return {"median": round(statistics.median(ordered), 2), "mean": round(statistics.fmean(ordered), 2),
            "p95": round(ordered[int(0.95 * (len(ordered) - 1))], 2)}

report = {"jobs": jobs, "load_average_before": os.getloadavg()}  # the host's: other load skews it all
for name, measure in (("python_job", job_ms), ("true_command", true_ms)):
    for kind in roots:  # warm-up: page cache, the interpreter's first start
        for _ in range(5):
            measure(kind)
    samples = {kind: [] for kind in roots}
    for _ in range(jobs):
        for kind in roots:
            samples[kind].append(measure(kind))
    stats = {kind: summary(values) for kind, values in samples.items()}
    stats["added_median"] = round(stats[list(roots)[1]]["median"] - stats["none"]["median"], 2)
    report[name] = stats
report["load_average_after"] = os.getloadavg()
print(json.dumps(report))
"""


def measure(jobs: int, kind: str, runtime: str = "runc") -> dict[str, Any]:
    """Run the measurement of ``none`` against ``kind`` in a worker container on ``runtime``."""
    cluster = f"bench-{secrets.token_hex(3)}"
    settings = MasterSettings(cluster=cluster, worker_runtime=None if runtime == "runc" else runtime)
    args = worker_run_args(settings, "python", f"executioner-{cluster}")
    args["entrypoint"] = [VENV_PYTHON, "-c", INSIDE, str(jobs), kind]
    return run_for_json(args, TIMEOUT_S, "the sandbox cost measurement")


def main() -> None:
    """Print the per-job cost of each sandbox mode as JSON."""
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--jobs", type=int, default=200, help="measured jobs per mode (default 200)")
    parser.add_argument("--runtime", default="runc", help="Docker runtime: runc (default) or runsc")
    arguments = parser.parse_args()
    report = {kind: measure(arguments.jobs, kind, arguments.runtime) for kind in ("bwrap", "warm")}
    json.dump({"runtime": arguments.runtime, **report}, sys.stdout, indent=2)
    print()


if __name__ == "__main__":
    main()
