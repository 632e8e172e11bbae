"""The figures of a grading run: counts per verdict, throughput and completion-time percentiles."""

import math
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from grader.results import JobResult, JobState


def percentile(values: Sequence[float], q: float) -> float | None:
    """The ``q``-th percentile (0 < q <= 100) by the nearest-rank method: the smallest value with at
    least ``q`` % of the values at or below it. None for no values."""
    if not 0 < q <= 100:
        raise ValueError(f"percentile {q} is not in (0, 100]")
    if not values:
        return None
    ordered = sorted(values)
    rank = math.ceil(q / 100 * len(ordered))
    return ordered[rank - 1]


@dataclass(frozen=True, slots=True)
class GradeSummary:
    """What a grading run achieved."""

    total: int
    """Jobs to grade."""
    verdicts: dict[str, int] = field(default_factory=dict)
    """Finished jobs per verdict."""
    missing: dict[str, int] = field(default_factory=dict)
    """Jobs without a result, per state (``rejected``, ``failed``, ``timeout``)."""
    elapsed_s: float = 0.0
    """From sending the first job to receiving the last result (or giving up)."""
    p50_ms: float | None = None
    """Median completion time (sent → result) of the finished jobs."""
    p99_ms: float | None = None

    @property
    def finished(self) -> int:
        """Jobs with a result."""
        return sum(self.verdicts.values())

    @property
    def complete(self) -> bool:
        """Whether every job got a result."""
        return self.finished == self.total

    @property
    def jobs_per_s(self) -> float:
        """Results received per second of the run."""
        return self.finished / self.elapsed_s if self.elapsed_s > 0 else 0.0

    def to_json(self) -> dict[str, Any]:
        """The summary as plain JSON values."""
        return {
            "total": self.total,
            "finished": self.finished,
            "verdicts": self.verdicts,
            "missing": self.missing,
            "elapsed_s": round(self.elapsed_s, 3),
            "jobs_per_s": round(self.jobs_per_s, 2),
            "p50_ms": self.p50_ms,
            "p99_ms": self.p99_ms,
        }


def _by_count(counts: Counter[str]) -> dict[str, int]:
    return dict(sorted(counts.items(), key=lambda item: (-item[1], item[0])))


def summarize(results: Sequence[JobResult], elapsed_s: float) -> GradeSummary:
    """The summary of ``results`` (one per job) of a run that took ``elapsed_s``."""
    verdicts = Counter(r.verdict or "?" for r in results if r.state is JobState.FINISHED)
    missing = Counter(r.state.value for r in results if r.state is not JobState.FINISHED)
    latencies = [r.latency_ms for r in results if r.state is JobState.FINISHED and r.latency_ms is not None]
    return GradeSummary(
        total=len(results),
        verdicts=_by_count(verdicts),
        missing=_by_count(missing),
        elapsed_s=elapsed_s,
        p50_ms=percentile(latencies, 50),
        p99_ms=percentile(latencies, 99),
    )
