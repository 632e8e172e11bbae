"""``python -m bench`` (``make bench``): bring up a private cluster on the shared services, run the
scenarios next to their bare-execution floors, write ``bench/results/<timestamp>.json`` and ``.png`` and
print a table. Exit status 1 when a scenario failed (its error is in the JSON; the others still ran)."""

import asyncio
import contextlib
import dataclasses
import logging
import os
import platform
import resource
import signal
import subprocess
import sys
import traceback
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from bench import plot, report
from bench.cluster import REPO, BenchCluster
from bench.kafka_io import Producer, ResultsWatcher
from bench.options import BenchOptions, parse
from bench.progress import say
from bench.scenarios import (
    Context,
    backlog,
    compiled,
    fanout,
    hosts,
    isolation,
    latency,
    scaling,
    throughput,
)
from bench.services import ServicesError, resolve
from common.runtimes import default_runtimes_dir, load_runtimes
from devstack.console import DevstackError

Scenario = Callable[[Context], Awaitable[dict[str, Any]]]
RUNS: dict[str, Scenario] = {
    "throughput": throughput.run,
    "latency": latency.run,
    "compiled": compiled.run,
    "isolation": isolation.run,
    "scaling": scaling.run,
    "backlog": backlog.run,
    "hosts": hosts.run,
    "fanout": fanout.run,
}


LOG_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"


def raise_fd_limit() -> None:
    """Open files up to the hard limit, for this process and the API it starts (the fan-out's streams)."""
    _, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))


def _host() -> dict[str, Any]:
    pages = os.sysconf("SC_PHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
    commit = subprocess.run(
        ["git", "rev-parse", "--short", "HEAD"], cwd=REPO, capture_output=True, text=True, check=False
    ).stdout.strip()
    return {
        "cores": os.cpu_count(),
        "memory_mib": pages // (1024 * 1024),
        "kernel": platform.release(),
        "python": platform.python_version(),
        "commit": commit or None,
        # Other work on the machine moves every number: 1, 5 and 15-minute load averages at the start.
        "load_average_at_start": list(os.getloadavg()),
    }


async def _scenarios(options: BenchOptions, cluster: BenchCluster, found: dict[str, Any], logs: Path) -> None:
    """Run the chosen scenarios on the started cluster, recording each result (or error) in ``found``."""
    services = cluster.services
    watcher = ResultsWatcher(services.kafka_bootstrap, cluster.topics.results)
    await watcher.start()
    try:
        async with Producer(services.kafka_bootstrap) as producer:
            ctx = Context(options, cluster, watcher, producer, load_runtimes(default_runtimes_dir()))
            for name in options.scenarios:
                say(f"== {name}")
                try:
                    found[name] = await RUNS[name](ctx)
                except Exception as exc:  # reported in the results; the next scenario still runs
                    found[name] = {"error": f"{type(exc).__name__}: {exc}"}
                    with (logs / "bench-errors.log").open("a") as log:
                        log.write(f"== {name}\n{traceback.format_exc()}\n")
                    say(f"{name} FAILED: {found[name]['error']} (traceback in {logs}/bench-errors.log)")
                if not cluster.alive():
                    raise RuntimeError(f"the API or the master exited; see {logs}")
    finally:
        await watcher.stop()


async def _run(options: BenchOptions) -> int:
    started = datetime.now(UTC)
    stamp = started.strftime("%Y%m%dT%H%M%SZ")
    logs = options.results_dir / f"{stamp}-logs"
    logs.mkdir(parents=True, exist_ok=True)
    # Library chatter (aiokafka's retries while a new topic elects leaders) goes to a file, not the table.
    logging.basicConfig(filename=logs / "bench.log", level=logging.INFO, format=LOG_FORMAT)
    languages = [
        "python",
        *(("cpp", "java") if "compiled" in options.scenarios else ()),
        *(("c",) if "isolation" in options.scenarios else ()),
    ]
    this = asyncio.current_task()
    assert this is not None
    # SIGTERM ends the run as Ctrl-C does: the cluster is stopped and what was measured is written.
    asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, this.cancel)
    found: dict[str, Any] = {}
    document: dict[str, Any] = {
        "started_at": started.isoformat(),
        "quick": options.quick,
        "host": _host(),
        "cluster": {
            "workers": options.workers,
            "pool_size": options.pool_size,
            "worker_cpus": options.worker_cpus,
            "http_clients": options.http_clients,
            "settings": options.settings,
        },
        "counts": dataclasses.asdict(options.counts),
        "scenarios": found,
    }
    failure: str | None = None
    try:
        say(f"services: {options.services}; scenarios: {', '.join(options.scenarios)}; logs in {logs}")
        services = await asyncio.to_thread(resolve, options.services, languages)
        document["services"] = services.source
        cluster = BenchCluster(options, services, languages, logs)
        try:
            await cluster.start()
            await _scenarios(options, cluster, found, logs)
        finally:
            say("stopping the cluster")
            await cluster.stop()
    except (ServicesError, DevstackError, RuntimeError) as exc:
        failure = str(exc)
        say(f"error: {failure}")
    finally:
        document["finished_at"] = datetime.now(UTC).isoformat()
        document["host"]["load_average_at_end"] = list(os.getloadavg())
        if failure is not None:
            document["error"] = failure
        _write(options, stamp, document)
    ok = failure is None and all("error" not in r for r in found.values())
    return 0 if ok else 1


def _write(options: BenchOptions, stamp: str, document: dict[str, Any]) -> None:
    path = options.results_dir / f"{stamp}.json"
    report.write_json(document, path)
    title = f"Executioner bench {stamp} ({'quick' if options.quick else 'full'}, {os.cpu_count()} cores)"
    drawn = plot.plot(document["scenarios"], title, path.with_suffix(".png"))
    print(report.table(document["scenarios"]), flush=True)
    say(f"results: {path}" + (f" and {path.with_suffix('.png')}" if drawn else ""))


def main(argv: list[str] | None = None) -> int:
    """Run the benchmark; returns the exit status."""
    options = parse(argv)
    raise_fd_limit()
    with contextlib.suppress(KeyboardInterrupt, asyncio.CancelledError):
        return asyncio.run(_run(options))
    return 130


if __name__ == "__main__":
    sys.exit(main())
