"""What one benchmark run does: the command line, parsed into one immutable :class:`BenchOptions`."""

import argparse
import os
from dataclasses import dataclass, field
from pathlib import Path

SCENARIOS = ("throughput", "latency", "compiled", "isolation", "scaling", "backlog", "hosts", "fanout")
"""Every scenario, in the order they run. ``fanout`` is last: it leaves queued jobs behind that no worker
ever takes (its results are synthetic), and ``backlog`` must find an empty queue."""
SERVICES = ("auto", "env", "dev", "test")
RESULTS_DIR = Path(__file__).resolve().parent / "results"


@dataclass(frozen=True)
class Counts:
    """How much work each scenario does."""

    jobs: int
    """Throughput: short Python jobs per mode (HTTP, Kafka) and per floor."""
    latency_jobs: int
    """Idle latency: sequential submissions."""
    compiled_jobs: int
    """Compiled languages: jobs (compile + 10 tests) per language, for throughput."""
    compiled_latency_jobs: int
    """Compiled languages: sequential jobs per language, for latency."""
    isolation_jobs: int
    """Isolation cost: sequential jobs per language and per isolation (runc, bubblewrap, gVisor)."""
    scaling_jobs: int
    """Scaling: short Python jobs per point of the curve (and for its floor)."""
    clients: int
    """SSE fan-out: concurrent idle SSE connections."""
    backlog: int
    """Backlog: jobs queued before the workers start."""


FULL = Counts(
    jobs=2000,
    latency_jobs=200,
    compiled_jobs=60,
    compiled_latency_jobs=20,
    isolation_jobs=100,
    scaling_jobs=400,
    clients=10_000,
    backlog=100_000,
)
QUICK = Counts(
    jobs=200,
    latency_jobs=50,
    compiled_jobs=12,
    compiled_latency_jobs=5,
    isolation_jobs=20,
    scaling_jobs=60,
    clients=1000,
    backlog=5000,
)


@dataclass(frozen=True)
class BenchOptions:
    """The whole configuration of one run."""

    scenarios: tuple[str, ...]
    counts: Counts
    quick: bool
    services: str
    workers: int
    """Python worker containers (the compiled scenario runs as many per language)."""
    pool_size: int
    """Jobs each worker runs at once."""
    worker_cpus: float
    cores: int
    """CPUs of this machine: the bare floor runs one job per core."""
    http_clients: int
    fanout_rate: float
    """Results per second the fan-out scenario publishes; 0: all at once."""
    stuck_below: float
    """Jobs per second below which a wait counts as stuck (its timeout)."""
    results_dir: Path
    settings: dict[str, str] = field(default_factory=dict)
    """Extra ``EXECUTIONER_*`` settings for the API and master processes."""


def _scenarios(text: str) -> tuple[str, ...]:
    chosen = {name.strip() for name in text.split(",") if name.strip()}
    unknown = chosen - set(SCENARIOS)
    if unknown or not chosen:
        raise argparse.ArgumentTypeError(
            f"unknown scenario(s) {', '.join(sorted(unknown)) or '(none given)'}; choose from "
            f"{', '.join(SCENARIOS)}"
        )
    return tuple(name for name in SCENARIOS if name in chosen)


def _setting(text: str) -> tuple[str, str]:
    name, sep, value = text.partition("=")
    if not sep or not name:
        raise argparse.ArgumentTypeError(f"expected NAME=VALUE, got {text!r}")
    name = name.upper()
    return (name if name.startswith("EXECUTIONER_") else f"EXECUTIONER_{name}"), value


def _positive(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, got {value}")
    return value


def parser() -> argparse.ArgumentParser:
    """The ``python -m bench`` command line."""
    cores = os.cpu_count() or 1
    p = argparse.ArgumentParser(
        prog="python -m bench",
        description="Benchmark an Executioner cluster against the bare-execution floor measured in the same "
        "run. Writes bench/results/<timestamp>.json and .png and prints a table.",
    )
    p.add_argument("--quick", action="store_true", help="small counts: a few minutes instead of an hour")
    p.add_argument(
        "--only",
        type=_scenarios,
        default=SCENARIOS,
        metavar="LIST",
        help=f"comma-separated scenarios (default: all of {','.join(SCENARIOS)})",
    )
    p.add_argument(
        "--services",
        choices=SERVICES,
        default="auto",
        help="where Kafka and MariaDB are: env (EXECUTIONER_KAFKA_BOOTSTRAP, EXECUTIONER_DATABASE_URL, "
        "EXECUTIONER_WORKER_KAFKA_BOOTSTRAP), the dev profile of `make up`, or the test profile (started "
        "when needed). auto: env when set, else dev when `make up` runs, else test",
    )
    counts = p.add_argument_group("counts (default: full run, or --quick)")
    for name, full, quick in zip(Counts.__dataclass_fields__, _values(FULL), _values(QUICK), strict=True):
        flag = "--" + name.replace("_", "-")
        counts.add_argument(flag, type=_positive, default=None, help=f"default {full:,} ({quick:,} quick)")
    cluster = p.add_argument_group("cluster")
    cluster.add_argument("--workers", type=_positive, default=1, help="worker containers (default 1)")
    cluster.add_argument(
        "--pool-size",
        type=_positive,
        default=cores,
        help=f"jobs per worker at once (default: cores, {cores})",
    )
    cluster.add_argument(
        "--worker-cpus", type=float, default=float(cores), help=f"CPU limit per worker (default {cores})"
    )
    cluster.add_argument(
        "--http-clients", type=_positive, default=32, help="concurrent HTTP clients (default 32)"
    )
    cluster.add_argument(
        "--set",
        dest="settings",
        type=_setting,
        action="append",
        default=[],
        metavar="NAME=VALUE",
        help="extra setting for the API and master, e.g. --set SSE_RECHECK_S=30 (repeatable)",
    )
    cluster.add_argument(
        "--fanout-rate",
        type=float,
        default=1000.0,
        help="results/s published to the fan-out's idle clients (default 1000, the target's; 0: one burst)",
    )
    cluster.add_argument(
        "--stuck-below",
        type=float,
        default=20.0,
        metavar="JOBS_PER_S",
        help="a wait fails when jobs finish slower than this (default 20; lower it on a shared machine)",
    )
    p.add_argument("--results-dir", type=Path, default=RESULTS_DIR, help="where results go")
    return p


def _values(counts: Counts) -> list[int]:
    return [getattr(counts, name) for name in Counts.__dataclass_fields__]


def parse(argv: list[str] | None = None) -> BenchOptions:
    """Parse the command line."""
    args = parser().parse_args(argv)
    base = QUICK if args.quick else FULL
    chosen = {name: getattr(args, name) or getattr(base, name) for name in Counts.__dataclass_fields__}
    return BenchOptions(
        scenarios=args.only,
        counts=Counts(**chosen),
        quick=args.quick,
        services=args.services,
        workers=args.workers,
        pool_size=args.pool_size,
        worker_cpus=args.worker_cpus,
        cores=os.cpu_count() or 1,
        http_clients=args.http_clients,
        fanout_rate=args.fanout_rate,
        stuck_below=args.stuck_below,
        results_dir=args.results_dir,
        settings=dict(args.settings),
    )
