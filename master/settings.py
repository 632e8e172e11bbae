"""The master's settings: ``EXECUTIONER_*`` environment variables, loaded once at start-up."""

import re
import socket
from pathlib import Path
from typing import Annotated, Literal

from pydantic import Field, field_validator

from common.runtimes import default_runtimes_dir
from common.settings import DatabaseSettings, KafkaSettings

# Docker allows these characters in label values and, after the first, in container names.
_NAME = r"^[a-zA-Z0-9][a-zA-Z0-9_.-]*$"
HOST_NAME = r"^[a-zA-Z0-9][a-zA-Z0-9_.-]{0,63}$"
"""A Docker host's name in the ``hosts`` table, the admin API and the CLI."""


class MasterSettings(KafkaSettings, DatabaseSettings):
    """Configuration of the master of one cluster."""

    cluster: Annotated[str, Field(pattern=_NAME, max_length=64)] = "dev"
    """Value of the ``org.executioner.cluster`` label; the master touches no container without it."""
    runtimes_dir: Path = Field(default_factory=default_runtimes_dir)
    languages: list[str] | None = None
    """Languages to manage (a JSON list); default: every runtime whose worker image exists at start-up."""
    default_replicas: Annotated[int, Field(ge=0)] = 1
    """Desired workers of a language that has no ``pools`` row yet (existing rows are never changed)."""

    worker_image: str = "executioner/worker-{language}:latest"
    """Image of a language's workers; ``{language}`` is replaced by the language id."""
    worker_command: list[str] | None = None
    """Overrides the image's command (a JSON list); for tests with stand-in images."""
    worker_kafka_bootstrap: str | None = None
    """Kafka as seen from inside the worker containers; default: ``kafka_bootstrap``."""
    worker_otlp_endpoint: str | None = None
    """The OTLP/HTTP collector as seen from inside the worker containers (their
    ``OTEL_EXPORTER_OTLP_ENDPOINT``); default: the master's own ``OTEL_EXPORTER_OTLP_ENDPOINT``. Workers
    trace only when one of the two is set."""
    worker_database_url: str | None = None
    """MySQL as seen from inside the worker containers, with a read-only account (``SELECT`` on
    ``submissions`` suffices; never the master's own): workers publish the stored result of a job whose id
    already finished instead of running it again. Unset: workers do not check."""
    worker_network: str = "bridge"
    worker_runtime: str | None = None
    """Docker runtime of the worker containers (``docker run --runtime``), e.g. ``runsc`` for gVisor, which
    ``make up`` builds (when Go is installed) and registers when this asks for it; unset: the daemon's
    default (runc). docs/security.md says what gVisor changes and what it costs."""
    worker_sandbox: Literal["bwrap", "warm"] = "warm"
    """How workers sandbox jobs (``EXECUTIONER_SANDBOX`` of the worker containers): ``warm`` (the default),
    one bubblewrap sandbox per pool slot, reset between jobs (docs/security.md, "Warm sandboxes"), about
    1 ms per command on runc; ``bwrap``, a fresh bubblewrap sandbox per command (10-20 ms per command).
    Same verdicts; a warm sandbox reports a program's own peak memory, a sandbox per command adds its own
    processes to it (docs/benchmarks.md, "Warm by default")."""
    worker_pool_size: Annotated[int, Field(ge=1)] = 1
    worker_memory_mb: Annotated[int, Field(ge=64)] = 1024
    worker_cpus: Annotated[float, Field(gt=0)] = 1.0
    worker_pids_limit: Annotated[int, Field(ge=16)] = 512
    worker_tmp_mb: Annotated[int, Field(ge=16)] = 256
    """Size of the writable tmpfs at ``/tmp`` (the root file system is read-only); counts as memory."""
    worker_test_cache_mb: Annotated[int, Field(ge=1)] = 128
    """``EXECUTIONER_TEST_CACHE_MB`` of the workers: stored problems' test files each keeps (on its
    ``/tmp`` tmpfs, so keep it well below ``worker_tmp_mb``; docs/problems.md)."""

    resync_s: Annotated[float, Field(gt=0)] = 5.0
    """Longest time between two reconcile passes when Docker reports nothing."""
    stop_grace_s: Annotated[float, Field(ge=0)] = 30.0
    """How long a stopping worker may drain after SIGTERM before Docker kills it."""
    stop_workers_on_exit: bool = False
    """Stop and remove this cluster's workers when the master exits (by default they keep running and a
    restarted master adopts them)."""
    crash_backoff_s: Annotated[float, Field(gt=0)] = 1.0
    """Wait before replacing a worker after one recent failure; doubles with each further failure."""
    crash_backoff_max_s: Annotated[float, Field(gt=0)] = 300.0
    crash_window_s: Annotated[float, Field(gt=0)] = 600.0
    """Failures older than this are forgotten, so a pool that has been healthy starts fresh."""
    docker_url: str | None = None
    """Docker daemon URL; default: ``DOCKER_HOST`` and friends, as the docker CLI reads them. Only used
    when ``docker_hosts`` is unset: it is then the one host's URL."""
    docker_hosts: str | None = None
    """The Docker engines the workers run on, comma-separated ``name=url`` (url as the docker SDK takes
    it: ``unix://...``, ``tcp://...`` with ``DOCKER_TLS_VERIFY``/``DOCKER_CERT_PATH``, ``ssh://...``);
    each is added to the ``hosts`` table at start-up if it is not there (the table, which admins edit at
    run time, wins). Unset: the local engine (``docker_url``) alone, named after this machine."""
    host_down_s: Annotated[float, Field(gt=0)] = 15.0
    """How long a host's engine may stop answering (events stream closed, pings failing) before it is
    marked down and its workers are started on the other hosts."""
    host_ping_s: Annotated[float, Field(gt=0)] = 2.0
    """How often each host's engine is pinged."""
    host_cpu_overcommit: Annotated[float, Field(gt=0)] = 4.0
    """Worker CPUs placed on a host per CPU it has: a worker's CPU limit is a ceiling, idle workers take
    none, so a host holds more workers than it has cores. 1 never places more than the host's cores."""

    worker_budget_cpus: Annotated[float, Field(gt=0)] | None = None
    """CPUs the master may give all its workers together (``worker_cpus`` each); unset: no CPU budget,
    since CPU limits are ceilings that workers can share when they are not all busy."""
    worker_budget_memory_mb: Annotated[int, Field(ge=64)] | None = None
    """Memory the master may give all its workers together (``worker_memory_mb`` + ``worker_tmp_mb``
    each); unset: the Docker host's total memory. Workers that do not fit are not started, and the pool's
    status says so."""

    autoscale_interval_s: Annotated[float, Field(gt=0)] = 2.0
    """How often the lag of each ``jobs.<language>`` topic is measured: one autoscaling observation."""
    autoscale_target_lag: Annotated[float, Field(gt=0)] = 2.0
    """Jobs queued or running per worker that an autoscaled pool aims at (it wants ``ceil(lag / this)``
    workers); around twice ``worker_pool_size`` keeps every slot busy with one job waiting behind it."""
    autoscale_up_observations: Annotated[int, Field(ge=1)] = 3
    """Consecutive observations above the target before an autoscaled pool grows."""
    autoscale_down_cooldown_s: Annotated[float, Field(ge=0)] = 60.0
    """How long an autoscaled pool's queue must ask for fewer workers before the pool shrinks (to the most
    it asked for meanwhile)."""
    pools_poll_s: Annotated[float, Field(gt=0)] = 1.0
    """How often the ``pools`` table is read for changed desired counts (an admin's ``PUT``)."""
    worker_metrics_port: Annotated[int, Field(ge=1, le=65535)] | None = None
    """Port of each worker's Prometheus metrics inside its container, published on the Docker host's
    loopback (``127.0.0.1``, a port Docker picks; ``docker port`` shows it); unset: workers serve none."""
    master_metrics_port: Annotated[int, Field(ge=1, le=65535)] | None = None
    """Port of the master's Prometheus metrics (``/metrics``); unset: not served."""
    master_metrics_host: str = "127.0.0.1"
    """Address the metrics port listens on (``0.0.0.0``: every interface, for a Prometheus elsewhere)."""
    leader_retry_s: Annotated[float, Field(gt=0)] = 1.0
    """How often a standby master tries to become the active one, and the active one checks its lock."""

    @field_validator("docker_hosts")
    @classmethod
    def _check_hosts(cls, value: str | None) -> str | None:
        if value is not None:
            parse_docker_hosts(value)
        return value

    @property
    def hosts(self) -> dict[str, str]:
        """Host name → Docker URL, from ``docker_hosts`` or the one local engine."""
        if self.docker_hosts is None:
            return {local_host_name(): self.docker_url or ""}
        return parse_docker_hosts(self.docker_hosts)

    @property
    def worker_bootstrap(self) -> str:
        """The Kafka bootstrap list handed to workers."""
        return self.worker_kafka_bootstrap or self.kafka_bootstrap

    @property
    def worker_traces_endpoint(self) -> str | None:
        """The OTLP/HTTP endpoint handed to workers (None: they do not trace)."""
        return self.worker_otlp_endpoint or self.otel_exporter_otlp_endpoint

    @property
    def worker_footprint_mb(self) -> int:
        """Memory one worker may take: its limit plus its ``/tmp`` tmpfs."""
        return self.worker_memory_mb + self.worker_tmp_mb

    def image_for(self, language: str) -> str:
        """The worker image of ``language``."""
        return self.worker_image.format(language=language)


def local_host_name() -> str:
    """This machine's name, made a valid host name (the default host is named after it)."""
    name = re.sub(r"[^a-zA-Z0-9_.-]", "-", socket.gethostname()).lstrip("-_.")[:64]
    return name or "local"


def parse_docker_hosts(value: str) -> dict[str, str]:
    """``name=url,name=url`` as a dict; ValueError naming the bad entry."""
    hosts: dict[str, str] = {}
    for entry in filter(None, (part.strip() for part in value.split(","))):
        name, sep, url = entry.partition("=")
        name, url = name.strip(), url.strip()
        if not sep or not url:
            raise ValueError(f"{entry!r} is not name=url")
        if not re.fullmatch(HOST_NAME, name):
            raise ValueError(f"host name {name!r}: letters, digits, '_.-', at most 64")
        if name in hosts:
            raise ValueError(f"host {name!r} is listed twice")
        hosts[name] = url
    if not hosts:
        raise ValueError("no host listed")
    return hosts
