"""What became of each job, and the JSONL file of them."""

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from pathlib import Path
from typing import IO, Any

import orjson


class JobState(StrEnum):
    """How a job's grading ended. Only ``finished`` carries a verdict."""

    FINISHED = "finished"
    """The cluster ran it: ``verdict`` and ``result`` are set (the user's program may still have failed)."""
    REJECTED = "rejected"
    """The cluster refused it (an HTTP 4xx, or a worker dead-lettered it): see ``error``."""
    FAILED = "failed"
    """It could not be handed to the cluster (Kafka did not acknowledge it, the API answered 5xx)."""
    TIMEOUT = "timeout"
    """No result before the overall timeout (or it was never sent before then)."""


@dataclass(frozen=True, slots=True)
class JobResult:
    """One line of the results file."""

    line: int
    """The job's line in the jobs file."""
    id: str | None
    """The submission id: the job's own over Kafka, the API's over HTTP (None if it never accepted it)."""
    state: JobState
    verdict: str | None = None
    result: dict[str, Any] | None = None
    """Over Kafka the ``outcome`` of the ``result`` message; over HTTP the ``result`` event's data (the
    ``GET /api/v1/submissions/{id}`` view)."""
    error: dict[str, Any] | None = None
    """Why there is no result: ``{"code", "message", "field"?}`` (over HTTP the API's own error)."""
    submitted_at: datetime | None = None
    """When this client sent the job (UTC)."""
    finished_at: datetime | None = None
    """When this client received its result (UTC)."""
    latency_ms: float | None = None
    """From sending the job to receiving its result."""

    @property
    def has_result(self) -> bool:
        """Whether the cluster ran the job."""
        return self.state is JobState.FINISHED

    def to_json(self) -> dict[str, Any]:
        """The JSONL record (every field, ``null`` when unset)."""
        return {
            "line": self.line,
            "id": self.id,
            "state": self.state.value,
            "verdict": self.verdict,
            "latency_ms": None if self.latency_ms is None else round(self.latency_ms, 1),
            "submitted_at": self.submitted_at.isoformat() if self.submitted_at else None,
            "finished_at": self.finished_at.isoformat() if self.finished_at else None,
            "result": self.result,
            "error": self.error,
        }


def dump_results(results: Iterable[JobResult], out: IO[bytes]) -> None:
    """Write one JSON line per result to a binary stream."""
    for result in results:
        out.write(orjson.dumps(result.to_json()) + b"\n")


def write_results(results: Iterable[JobResult], path: Path) -> None:
    """Write the results file at ``path`` (replacing it)."""
    with path.open("wb") as out:
        dump_results(results, out)
