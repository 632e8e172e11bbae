"""Host status: what the active master reports about each Docker engine of the cluster.

The master writes one :class:`HostReport` per host as JSON into MySQL (``hosts.observed``); the admin API
reads it back. Fields are only ever added, and only as optional ones, as in :mod:`schemas.pools`.
"""

from datetime import datetime

from pydantic import BaseModel, ConfigDict


class HostReport(BaseModel):
    """One Docker engine as the master last saw it."""

    model_config = ConfigDict(extra="ignore", frozen=True)

    reachable: bool
    """Whether its engine answers (events stream open, pings succeed)."""
    down_since: datetime | None
    """When it stopped answering, while it does not; it counts as down after ``EXECUTIONER_HOST_DOWN_S``."""
    down: bool
    """Marked down: its workers were placed elsewhere."""
    cpus: float | None
    """CPUs the engine reports (None until it answered once)."""
    memory_mb: int | None
    """Memory the engine reports, MiB."""
    workers: dict[str, int]
    """Live workers of this cluster per language."""
    images_ok: bool
    """Every managed language's worker image is there, with the master's image id."""
    problem: str | None
    """Why the host takes fewer workers than it could (unreachable, an image it cannot get...)."""
    observed_at: datetime
    error: str | None = None
    """While the engine does not answer: the last connection or ping error (None before the master's
    first try, so the admin API can tell "not tried yet" from "tried and failed")."""
