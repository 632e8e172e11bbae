"""What the master reports per language in ``pool_status.observed`` (JSON, :mod:`schemas.pools`), for
the admin API."""

from collections.abc import Collection, Sequence
from datetime import datetime

from master.model import Failure, ObservedContainer
from schemas.pools import ContainerReport, FailureReport, MasterReport, PoolStatus

__all__ = ["ContainerReport", "FailureReport", "MasterReport", "PoolStatus", "pool_status"]


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
    lag: int | None = None,
    capacity_note: str | None = None,
    master: MasterReport | None = None,
) -> PoolStatus:
    """The report of one language's pool; ``containers`` are that language's.

    ``capacity_note`` says why the pool is held below what it needs for lack of host capacity (workers
    the budget left unstarted, or an autoscaling target capped); the more specific reasons come first.
    """
    running = sum(1 for c in containers if c.live and c.id not in stopping)
    problem = capacity_note
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
                host=c.host or None,
                metrics=c.metrics_address,
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
        lag=lag,
        master=master,
    )
