"""The worker's Prometheus metrics, served on ``EXECUTIONER_METRICS_PORT`` inside its container (the
master publishes that port on the Docker host's loopback only). Jobs do not reach it: each runs in a
network namespace of its own with only a loopback interface (docs/security.md). Labels are bounded:
the worker's one language, the verdicts of :class:`~schemas.verdicts.Verdict` and two outcomes.
"""

import threading
from wsgiref.simple_server import WSGIServer

from prometheus_client import Counter, Gauge, Histogram, start_http_server

from schemas.results import Outcome

# Most jobs take tens of milliseconds to seconds; the top buckets cover compiled languages under load
# and jobs that run into their time limit.
JOB_DURATION_BUCKETS = (0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 120.0)

jobs_running = Gauge(
    "executioner_worker_jobs_running", "Jobs this worker is running now (pool slots in use).", ["language"]
)
job_duration = Histogram(
    "executioner_worker_job_duration_seconds",
    "From a job's start on a pool slot to its result being sent, by language and verdict.",
    ["language", "verdict"],
    buckets=JOB_DURATION_BUCKETS,
)


# Setting up a sandbox (a tmpfs scratch directory and the source in it) takes milliseconds.
SETUP_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0)
# A Kafka fetch that returns records, or a commit, takes milliseconds; seconds mean a struggling broker.
KAFKA_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)

pool_slots = Gauge(
    "executioner_worker_pool_slots",
    "Pool processes this worker runs jobs in (EXECUTIONER_POOL_SIZE): jobs_running / pool_slots is the "
    "slot utilisation.",
    ["language"],
)
sandbox_setup = Histogram(
    "executioner_worker_sandbox_setup_seconds",
    "From a pool process receiving a job to its scratch directory mounted and the source written.",
    ["language"],
    buckets=SETUP_BUCKETS,
)
compile_duration = Histogram(
    "executioner_worker_compile_seconds",
    "Wall time of compiling a job (compiled languages only), by language and the compiler's verdict.",
    ["language", "verdict"],
    buckets=JOB_DURATION_BUCKETS,
)
kafka_fetch = Histogram(
    "executioner_worker_kafka_fetch_seconds",
    "Time of a fetch from the jobs topic that returned records (empty long polls are not counted).",
    ["language"],
    buckets=KAFKA_BUCKETS,
)
kafka_commit = Histogram(
    "executioner_worker_kafka_commit_seconds",
    "Time of an offset commit on the jobs topic, by outcome (ok, failed).",
    ["language", "outcome"],
    buckets=KAFKA_BUCKETS,
)


def job_finished(language: str, outcome: Outcome, seconds: float) -> None:
    """Count one job's duration under its verdict, and its compile time when it was compiled."""
    job_duration.labels(language, outcome.verdict.value).observe(seconds)
    if outcome.compile is not None:
        compile_duration.labels(language, outcome.compile.verdict.value).observe(
            outcome.compile.wall_ms / 1000
        )


class MetricsServer:
    """prometheus-client's HTTP server on a thread, stopped with the worker."""

    def __init__(self) -> None:
        self._server: WSGIServer | None = None
        self._thread: threading.Thread | None = None

    def start(self, host: str, port: int) -> None:
        """Serve every metric of this process on ``host:port``."""
        self._server, self._thread = start_http_server(port, addr=host)

    def stop(self) -> None:
        """Stop serving."""
        if self._server is not None and self._thread is not None:
            self._server.shutdown()
            self._server.server_close()
            self._thread.join()
            self._server = self._thread = None


test_fetches = Counter("executioner_worker_test_fetches_total", "Test files fetched from the test store")
test_refetches = Counter(
    "executioner_worker_test_refetches_total",
    "Cached test files that failed their hash check and were fetched again",
)
