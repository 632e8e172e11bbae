"""The JSON the admin API answers with: each pool's desired size (``pools``) next to what the active
master last observed (``pool_status``)."""

from collections.abc import Iterable
from datetime import datetime
from typing import TypedDict

from api.admin.repository import PoolRow, PoolsSnapshot
from api.lib.clock import iso, to_db_time
from schemas.pools import PoolStatus


class WorkerView(TypedDict):
    """One worker container of a pool."""

    id: str
    """The worker id: its container name, as results name it."""
    container: str
    """Docker's short container id."""
    state: str
    """Docker's state (``running``...), or ``stopping`` while it drains."""
    started_at: str | None
    jobs_done: int
    """Submissions it finished (as recorded in MySQL)."""


class PoolView(TypedDict):
    """One language's pool."""

    language: str
    desired: int
    running: int
    min: int | None
    """Autoscaling bounds; null for a fixed-size pool."""
    max: int | None
    autoscale: bool
    lag: int | None
    """Jobs queued or running that the workers have not finished; null when unknown."""
    workers: list[WorkerView]
    problem: str | None
    """Why the pool is not at its desired size (or not growing), when known."""
    dead_letters: int
    """Messages of ``jobs.<language>`` the workers rejected to ``dead-letter`` (see
    ``GET /api/v1/admin/dead-letters``)."""
    observed_at: str | None
    """When the master last reported this pool."""


class MasterView(TypedDict):
    """The master that wrote the reports."""

    id: str
    """``<host>:<pid>``."""
    active: bool
    """Whether it holds the cluster's lock now; if not, the reports are stale."""
    active_since: str | None


class PoolsView(TypedDict):
    """``GET /api/v1/admin/pools``."""

    master: MasterView | None
    pools: list[PoolView]


def _time(moment: datetime | None) -> str | None:
    return iso(None if moment is None else to_db_time(moment))


def master_view(snapshot: PoolsSnapshot) -> MasterView | None:
    """The newest report's master, and whether it still holds its lock."""
    reported = [s for s in snapshot.statuses.values() if s.master is not None]
    if not reported:
        return None
    master = max(reported, key=lambda s: s.observed_at).master
    assert master is not None
    return {
        "id": master.id,
        "active": snapshot.lock_holder == master.connection_id,
        "active_since": _time(master.active_since),
    }


def pool_view(language: str, snapshot: PoolsSnapshot, *, master_active: bool) -> PoolView:
    """One pool; ``master_active`` says whether its report is current."""
    row: PoolRow | None = snapshot.rows.get(language)
    status: PoolStatus | None = snapshot.statuses.get(language)
    problem = status.problem if status is not None else "no master has reported this pool yet"
    if status is not None and not master_active and problem is None:
        problem = "no active master: this report may be out of date"
    workers: list[WorkerView] = [
        {
            "id": c.name,
            "container": c.id,
            "state": c.state,
            "started_at": _time(c.started_at),
            "jobs_done": snapshot.jobs_done.get(c.name, 0),
        }
        for c in (status.containers if status is not None else [])
    ]
    autoscale = row is not None and row.autoscale
    return {
        "language": language,
        "desired": row.replicas if row is not None else 0,
        "running": status.running if status is not None else 0,
        "min": row.min_replicas if row is not None and autoscale else None,
        "max": row.max_replicas if row is not None and autoscale else None,
        "autoscale": autoscale,
        "lag": status.lag if status is not None else None,
        "workers": workers,
        "problem": problem,
        "dead_letters": snapshot.dead_letters.get(language, 0),
        "observed_at": _time(status.observed_at) if status is not None else None,
    }


def pools_view(languages: Iterable[str], snapshot: PoolsSnapshot) -> PoolsView:
    """Every pool of ``languages``, sorted, with the reporting master."""
    master = master_view(snapshot)
    active = master is not None and master["active"]
    pools = [pool_view(language, snapshot, master_active=active) for language in sorted(languages)]
    return {"master": master, "pools": pools}
