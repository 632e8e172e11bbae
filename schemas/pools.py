"""Pool status: what the active master reports about each language's workers.

The master writes one :class:`PoolStatus` per language as JSON into MySQL (``pool_status.observed``);
the admin API reads it back. Like the Kafka formats, fields are only ever added, and only as optional
ones, so an API and a master of different versions still understand each other.
"""

from datetime import datetime

from pydantic import BaseModel, ConfigDict


class _Report(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True)


class ContainerReport(_Report):
    """One of the pool's containers. ``state`` is Docker's, or ``stopping`` while the master drains it."""

    id: str
    """Docker's short (12 hex digits) id."""
    name: str
    """The container's name, which is also the worker id in results (``submissions.worker``)."""
    state: str
    started_at: datetime | None
    host: str | None = None
    """The name of the Docker host it runs on."""
    metrics: str | None = None
    """``address:port`` where its Prometheus metrics are published (the Docker host's loopback); None
    when the master runs workers without a metrics port or Docker has not published it yet."""


class FailureReport(_Report):
    """A worker that died, or could not be started."""

    at: datetime
    container: str | None
    exit_code: int | None
    oom_killed: bool
    error: str | None
    logs: str
    """Its last log lines."""


class MasterReport(_Report):
    """The master that wrote the report: the one holding the cluster's MySQL lock."""

    id: str
    """``<host>:<pid>`` of the master process."""
    lock: str
    """Name of the MySQL lock (``GET_LOCK``) that makes it the active master."""
    connection_id: int
    """MySQL ``CONNECTION_ID()`` of the session holding the lock: ``IS_USED_LOCK(lock)`` returns it for
    as long as this master is active."""
    active_since: datetime
    metrics: str | None = None
    """``address:port`` of this master's Prometheus metrics; None when it serves none."""


class PoolStatus(_Report):
    """One language's pool as the master last saw it."""

    cluster: str
    image: str
    image_id: str | None
    """None when the image does not exist."""
    desired: int
    running: int
    """Live workers, not counting ones being stopped."""
    containers: list[ContainerReport]
    problem: str | None
    """Why the pool is short of ``desired`` (missing image, crash-loop back-off, host capacity), or why
    autoscaling holds it below what its queue asks for."""
    backoff_until: datetime | None
    """No worker is started before this time (crash-loop back-off)."""
    recent_failures: list[FailureReport]
    """Newest first."""
    observed_at: datetime
    lag: int | None = None
    """Jobs of ``jobs.<language>`` not yet committed by the language's worker group (queued or running);
    None when Kafka could not be asked."""
    master: MasterReport | None = None
