"""What the master reasons about: observed worker containers, the actions it plans, and failures."""

from dataclasses import dataclass
from datetime import datetime

LIVE_STATES = frozenset({"running", "restarting", "paused"})
"""Docker states of a container that counts towards its pool."""
DEAD_STATES = frozenset({"exited", "dead", "created"})
"""Docker states of a container that will not serve again. ``created`` is a container whose start failed:
the master creates and starts in one step and never leaves one merely created."""


@dataclass(frozen=True, slots=True)
class ObservedContainer:
    """One worker container as Docker reports it (its labels name the cluster and language)."""

    id: str
    name: str
    cluster: str
    language: str
    state: str
    """Docker's state: created, running, paused, restarting, removing, exited or dead."""
    created_at: datetime
    started_at: datetime | None = None
    finished_at: datetime | None = None
    exit_code: int | None = None
    oom_killed: bool = False
    error: str | None = None
    """Docker's reason when it could not start or run the container."""
    host: str = ""
    """The name of the Docker host it runs on."""
    metrics_address: str | None = None
    """``address:port`` where Docker published the worker's metrics port on its host."""

    @property
    def live(self) -> bool:
        """Whether it serves (or will again without our help)."""
        return self.state in LIVE_STATES

    @property
    def dead(self) -> bool:
        """Whether it has ended and only waits to be removed."""
        return self.state in DEAD_STATES

    @property
    def age_key(self) -> datetime:
        """When it began serving, for "youngest first" choices."""
        return self.started_at or self.created_at


@dataclass(frozen=True, slots=True)
class StartWorker:
    """Start one more worker of ``language`` (on ``host``, once placed)."""

    language: str
    host: str = ""


@dataclass(frozen=True, slots=True)
class StopWorker:
    """Stop a surplus worker gracefully (SIGTERM, drain), then remove it."""

    container: ObservedContainer


@dataclass(frozen=True, slots=True)
class RemoveDead:
    """Remove a container that ended without being asked to (its death is a recorded failure)."""

    container: ObservedContainer


Action = StartWorker | StopWorker | RemoveDead


@dataclass(frozen=True, slots=True)
class Failure:
    """A worker that died on its own, or one we could not start."""

    language: str
    at: datetime
    container_id: str | None = None
    container_name: str | None = None
    exit_code: int | None = None
    oom_killed: bool = False
    error: str | None = None
    """Why a start failed (a Docker error), when no container ran."""
    logs: str = ""
    """The last lines the container logged."""

    @classmethod
    def of_container(cls, container: ObservedContainer, now: datetime) -> "Failure":
        """The failure a dead container stands for, dated when it ended."""
        return cls(
            language=container.language,
            at=container.finished_at or now,
            container_id=container.id,
            container_name=container.name,
            exit_code=container.exit_code,
            oom_killed=container.oom_killed,
            error=container.error,
        )
