"""The master's Prometheus metrics, served on ``EXECUTIONER_MASTER_METRICS_PORT`` (unset: not served).

The pool gauges are read at scrape time from what the last reconcile pass reported, so they are never
out of step with ``pool_status``; a standby master reports leadership 0 and no pools. Labels are
bounded: the managed languages, Docker's container states folded into three, fixed action kinds.
"""

import logging
import socket
import threading
from collections.abc import Callable, Iterator, Mapping
from wsgiref.simple_server import WSGIServer

from prometheus_client import REGISTRY, Counter, start_http_server
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector

from master.settings import MasterSettings
from schemas.pools import PoolStatus

log = logging.getLogger(__name__)

reconcile_actions = Counter(
    "executioner_master_reconcile_actions",
    "What reconcile passes did to worker containers, by language, kind (start, stop, remove) and outcome "
    "(ok, failed; deferred: a start no up host had room for).",
    ["language", "kind", "outcome"],
)

autoscaler_decisions = Counter(
    "executioner_master_autoscaler_decisions",
    "Autoscaler decisions, by language and direction: up and down (a new size stored), capped (an "
    "observation where the queue asked for more workers than the hosts have room for).",
    ["language", "direction"],
)

# Everything a wildcard address listens on; Prometheus is then told the machine's name instead.
_ANY_ADDRESS = {"0.0.0.0", "::", ""}


def metrics_address(settings: MasterSettings) -> str | None:
    """``address:port`` where Prometheus finds this master's metrics (None when it serves none)."""
    if settings.master_metrics_port is None:
        return None
    host = settings.master_metrics_host
    if host in _ANY_ADDRESS:
        host = socket.gethostname()
    elif ":" in host:
        host = f"[{host}]"
    return f"{host}:{settings.master_metrics_port}"


# Docker's container states as a pool sees them; exited and dead containers are removed by the next
# pass and counted as failures in pool_status, not here.
_WORKER_STATES = {
    "running": "running",
    "created": "starting",
    "restarting": "starting",
    "stopping": "stopping",
}
WORKER_STATES = ("running", "starting", "stopping")


def workers_by_state(status: PoolStatus) -> dict[tuple[str, str], int]:
    """How many of a pool's containers are running, starting and stopping on each host (every state of
    every host that has one of the pool's containers, zeros included)."""
    hosts = sorted({container.host or "" for container in status.containers}) or [""]
    counts = {(host, state): 0 for host in hosts for state in WORKER_STATES}
    for container in status.containers:
        state = _WORKER_STATES.get(container.state)
        if state is not None:
            counts[(container.host or "", state)] += 1
    return counts


class PoolCollector(Collector):
    """Reads the master's leadership and last pool report when Prometheus scrapes."""

    def __init__(self, statuses: Callable[[], Mapping[str, PoolStatus]], active: Callable[[], bool]) -> None:
        self._statuses = statuses
        self._active = active

    def collect(self) -> Iterator[GaugeMetricFamily]:
        """The gauges of this scrape."""
        active = self._active()
        yield GaugeMetricFamily(
            "executioner_master_leader", "1 on the active master of the cluster, 0 on a standby.", active
        )
        desired = GaugeMetricFamily(
            "executioner_master_workers_desired",
            "Workers a language's pool should have.",
            labels=["language"],
        )
        workers = GaugeMetricFamily(
            "executioner_master_workers",
            "A language's worker containers by Docker host and state (running, starting, stopping).",
            labels=["language", "host", "state"],
        )
        lag = GaugeMetricFamily(
            "executioner_master_queue_lag",
            "Jobs of jobs.<language> not yet committed by its workers (queued or running).",
            labels=["language"],
        )
        statuses = self._statuses() if active else {}
        for language, status in sorted(statuses.items()):
            desired.add_metric([language], status.desired)
            for (host, state), count in workers_by_state(status).items():
                workers.add_metric([language, host, state], count)
            if status.lag is not None:
                lag.add_metric([language], status.lag)
        yield desired
        yield workers
        yield lag


class MetricsServer:
    """The HTTP server of ``/metrics`` (prometheus-client's own, on a thread) and the pool collector."""

    def __init__(self, collector: PoolCollector) -> None:
        self._collector = collector
        self._server: WSGIServer | None = None
        self._thread: threading.Thread | None = None

    def start(self, address: str, port: int) -> None:
        """Register the collector and serve every metric of the process on ``address:port``."""
        REGISTRY.register(self._collector)
        self._server, self._thread = start_http_server(port, addr=address)
        log.info("metrics on http://%s:%d/metrics", address, port)

    def stop(self) -> None:
        """Stop serving and unregister the collector."""
        if self._server is not None and self._thread is not None:
            self._server.shutdown()
            self._server.server_close()
            self._thread.join()
            self._server = self._thread = None
            REGISTRY.unregister(self._collector)
