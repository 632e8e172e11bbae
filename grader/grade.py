"""``grade()``: send a batch of jobs to a cluster, over Kafka or HTTP, and collect one outcome per job."""

import asyncio
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any, Literal

from grader.jobs import GradeJob, prepare_jobs
from grader.results import JobResult
from grader.summary import GradeSummary, summarize
from grader.tracker import ProgressCallback, Tracker
from grader.via_http import HttpGrading
from grader.via_kafka import KafkaGrading
from schemas import Topics

DEFAULT_HTTP_CONCURRENCY = 32


@dataclass(frozen=True, slots=True)
class GradeOptions:
    """Where the cluster is and how to talk to it."""

    via: Literal["kafka", "http"] = "kafka"
    kafka_bootstrap: str = "127.0.0.1:9092"
    """Kafka ``host:port`` list (``via="kafka"``)."""
    topic_prefix: str = ""
    """The cluster's topic prefix (``EXECUTIONER_TOPIC_PREFIX``)."""
    api_url: str = "http://127.0.0.1:8000"
    """Base URL of the API (``via="http"``)."""
    concurrency: int | None = None
    """HTTP: submissions posted and followed at once (default 32). Kafka: most jobs in flight (default:
    no bound; Kafka is the queue)."""
    timeout_s: float = 600.0
    """For the whole run; jobs without a result by then are reported as ``timeout``."""

    def __post_init__(self) -> None:
        if self.via not in ("kafka", "http"):
            raise ValueError(f"via must be 'kafka' or 'http', not {self.via!r}")
        if self.concurrency is not None and self.concurrency < 1:
            raise ValueError("concurrency must be at least 1")
        if self.timeout_s <= 0:
            raise ValueError("timeout_s must be positive")


@dataclass(frozen=True, slots=True)
class GradeReport:
    """A run's results, one per job in input order, and their summary."""

    results: list[JobResult]
    summary: GradeSummary


def _prepared(jobs: Iterable[GradeJob | Mapping[str, Any]]) -> list[GradeJob]:
    """Check every job (ids completed, duplicates refused); raises :class:`grader.JobsFileError`."""
    return prepare_jobs(
        (job.line, job.message) if isinstance(job, GradeJob) else (position, job)
        for position, job in enumerate(jobs, start=1)
    )


async def grade(
    jobs: Iterable[GradeJob | Mapping[str, Any]],
    options: GradeOptions | None = None,
    *,
    on_progress: ProgressCallback | None = None,
) -> GradeReport:
    """Grade ``jobs`` (job messages as dicts, see docs/kafka-contract.md, or :func:`grader.read_jobs`'s)
    and return one :class:`grader.JobResult` per job, in order.

    Raises :class:`grader.JobsFileError` for invalid jobs (before sending anything) and
    :class:`grader.GradeError` when the cluster cannot be used at all. Jobs that got no result (refused,
    not delivered, out of time) are reported in the results, not raised.
    """
    options = options or GradeOptions()
    prepared = _prepared(jobs)
    if options.via == "kafka":
        tracker = Tracker(prepared, on_progress=on_progress, window=options.concurrency)
        run = KafkaGrading(tracker, options.kafka_bootstrap, Topics(options.topic_prefix)).run
    else:
        tracker = Tracker(prepared, on_progress=on_progress)
        concurrency = options.concurrency or DEFAULT_HTTP_CONCURRENCY
        run = HttpGrading(tracker, options.api_url, concurrency).run
    deadline = asyncio.timeout(options.timeout_s)
    try:
        async with deadline:
            await run()
    except TimeoutError:
        if not deadline.expired():
            raise
    results, elapsed = tracker.close(options.timeout_s)
    return GradeReport(results, summarize(results, elapsed))
