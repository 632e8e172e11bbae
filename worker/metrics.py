"""The worker's Prometheus metrics, served on ``EXECUTIONER_METRICS_PORT`` inside its container (the
master publishes that port on the Docker host's loopback only). Jobs do not reach it: each runs in a
network namespace of its own with only a loopback interface (docs/security.md). Labels are bounded:
the worker's one language and the verdicts of :class:`Verdict`.
"""

import threading
from wsgiref.simple_server import WSGIServer

from prometheus_client import Gauge, Histogram, start_http_server

from schemas.verdicts import Verdict

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


def job_finished(language: str, verdict: Verdict, seconds: float) -> None:
    """Count one job's duration under its verdict."""
    job_duration.labels(language, verdict.value).observe(seconds)


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
