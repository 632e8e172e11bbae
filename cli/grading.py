"""``executioner grade JOBS --via kafka|http --out RESULTS``: a batch of jobs through the cluster, every
result as JSONL, and a summary (counts per verdict, jobs/s, p50/p99 completion time).

Exit status: 0 every job has a result, 1 some job has none (refused, not delivered, out of time),
2 bad usage or an invalid jobs file, 3 the cluster cannot be used (unreachable, topics missing).
"""

import argparse
import asyncio
import sys
from pathlib import Path
from typing import Any

from cli.settings import CliSettings
from cli.table import render_table
from grader import (
    GradeError,
    GradeOptions,
    GradeSummary,
    JobsFileError,
    ProgressBar,
    grade,
    parse_jobs,
    write_results,
)

EXIT_INCOMPLETE = 1
EXIT_BAD_JOBS = 2
EXIT_UNUSABLE = 3


def add_parser(commands: Any, settings: CliSettings) -> None:
    """The ``grade`` subcommand, with defaults from the environment (``settings``)."""
    parser = commands.add_parser(
        "grade",
        help="run a JSONL file of jobs through the cluster and collect the results",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument(
        "jobs", help="JSONL file, one job message per line (docs/kafka-contract.md); - = stdin"
    )
    parser.add_argument("--via", choices=("kafka", "http"), required=True)
    parser.add_argument("--out", type=Path, required=True, help="results file (JSONL), replaced")
    parser.add_argument(
        "--bootstrap",
        default=settings.kafka_bootstrap,
        help="Kafka host:port list (default: $EXECUTIONER_KAFKA_BOOTSTRAP or %(default)s)",
    )
    parser.add_argument(
        "--topic-prefix",
        default=settings.topic_prefix,
        help="the cluster's topic prefix (default: $EXECUTIONER_TOPIC_PREFIX)",
    )
    parser.add_argument(
        "--api-url", default=settings.api_url, help="the API (default: $EXECUTIONER_API_URL or %(default)s)"
    )
    parser.add_argument(
        "--concurrency",
        type=int,
        help="http: submissions in flight (default 32); kafka: most jobs in flight (default: all)",
    )
    parser.add_argument(
        "--timeout", type=float, default=600.0, help="seconds for the whole run (%(default)s)"
    )
    parser.add_argument("--no-progress", action="store_true", help="no progress bar on stderr")


def summary_table(summary: GradeSummary) -> str:
    """The verdict counts, then one line of totals and timings."""
    rows = [(verdict, str(count)) for verdict, count in summary.verdicts.items()]
    rows += [(f"no result: {state}", str(count)) for state, count in summary.missing.items()]
    table = render_table(rows, header=("VERDICT", "JOBS"))

    def ms(value: float | None) -> str:
        return "-" if value is None else f"{value:.0f} ms"

    totals = (
        f"{summary.finished}/{summary.total} jobs with a result in {summary.elapsed_s:.1f} s: "
        f"{summary.jobs_per_s:.1f} jobs/s; completion time p50 {ms(summary.p50_ms)}, p99 {ms(summary.p99_ms)}"
    )
    return f"{table}\n{totals}"


def _read(source: str) -> bytes:
    return sys.stdin.buffer.read() if source == "-" else Path(source).read_bytes()


def run(args: argparse.Namespace) -> int:
    """Grade the jobs file; returns the exit status."""
    try:
        jobs = parse_jobs(_read(args.jobs).splitlines())
    except OSError as exc:
        print(f"executioner grade: cannot read {args.jobs}: {exc.strerror}", file=sys.stderr)
        return EXIT_BAD_JOBS
    except JobsFileError as exc:
        print(f"executioner grade: {args.jobs} has invalid jobs:\n{exc}", file=sys.stderr)
        return EXIT_BAD_JOBS
    try:
        options = GradeOptions(
            via=args.via,
            kafka_bootstrap=args.bootstrap,
            topic_prefix=args.topic_prefix,
            api_url=args.api_url,
            concurrency=args.concurrency,
            timeout_s=args.timeout,
        )
    except ValueError as exc:
        print(f"executioner grade: {exc}", file=sys.stderr)
        return EXIT_BAD_JOBS
    bar = ProgressBar(sys.stderr) if sys.stderr.isatty() and not args.no_progress else None
    try:
        report = asyncio.run(grade(jobs, options, on_progress=bar))
    except GradeError as exc:
        print(f"executioner grade: {exc}", file=sys.stderr)
        return EXIT_UNUSABLE
    finally:
        if bar is not None:
            bar.close()
    write_results(report.results, args.out)
    print(summary_table(report.summary))
    return 0 if report.summary.complete else EXIT_INCOMPLETE
