"""What the master reports per language in ``pool_status.observed`` (JSON), for the admin API."""

from collections.abc import Collection, Sequence
from datetime import datetime

from pydantic import BaseModel, ConfigDict

from master.model import Failure, ObservedContainer


class _Report(BaseModel):
    model_config = ConfigDict(frozen=True)


class ContainerReport(_Report):
    """One of the pool's containers. ``state`` is Docker's, or ``stopping`` while the master drains it."""

    id: str
    """Docker's short (12 hex digits) id."""
    name: str
    state: str
    started_at: datetime | None


class FailureReport(_Report):
    """A worker that died, or could not be started."""

    at: datetime
    container: str | None
    exit_code: int | None
    oom_killed: bool
    error: str | None
    logs: str
    """Its last log lines."""


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
    """Why the pool is short of ``desired``, when the master knows: missing image, crash-loop back-off."""
    backoff_until: datetime | None
    """No worker is started before this time (crash-loop back-off)."""
    recent_failures: list[FailureReport]
    """Newest first."""
    observed_at: datetime


def pool_status(
    *,
    cluster: str,
    image: str,
    image_id: str | None,
    desired: int,
    containers: Sequence[ObservedContainer],
    stopping: Collection[str],
    failures: Sequence[Failure],
    backoff_until: datetime | None,
    now: datetime,
) -> PoolStatus:
    """The report of one language's pool; ``containers`` are that language's."""
    running = sum(1 for c in containers if c.live and c.id not in stopping)
    problem = None
    if image_id is None:
        problem = f"image {image} not found"
    elif backoff_until is not None:
        problem = f"workers keep failing: next start at {backoff_until.isoformat(timespec='seconds')}"
    return PoolStatus(
        cluster=cluster,
        image=image,
        image_id=image_id,
        desired=desired,
        running=running,
        containers=[
            ContainerReport(
                id=c.id[:12],
                name=c.name,
                state="stopping" if c.id in stopping else c.state,
                started_at=c.started_at,
            )
            for c in sorted(containers, key=lambda c: c.name)
        ],
        problem=problem,
        backoff_until=backoff_until,
        recent_failures=[
            FailureReport(
                at=f.at,
                container=f.container_name,
                exit_code=f.exit_code,
                oom_killed=f.oom_killed,
                error=f.error,
                logs=f.logs,
            )
            for f in failures
        ],
        observed_at=now,
    )
