"""Bookkeeping shared by both transports: what was sent when, what is settled, the in-flight window and
progress reports. The first outcome of a job wins; later ones (duplicates) change nothing."""

import asyncio
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from grader.jobs import GradeJob
from grader.results import JobResult, JobState


@dataclass(frozen=True, slots=True)
class Progress:
    """Where a grading run is, for a progress bar."""

    total: int
    sent: int
    finished: int
    """Jobs with a result."""
    missing: int
    """Jobs settled without a result (rejected or failed)."""
    elapsed_s: float

    @property
    def settled(self) -> int:
        """Jobs that will not change any more."""
        return self.finished + self.missing


ProgressCallback = Callable[[Progress], None]


def error(code: str, message: str, field: str | None = None) -> dict[str, Any]:
    """The ``error`` of a job without a result, in the API's error shape."""
    return {"code": code, "message": message, "field": field}


def utc_now() -> datetime:
    """Now, in UTC."""
    return datetime.now(UTC)


class Tracker:
    """The state of every job of one run, by its index in the list of jobs."""

    def __init__(
        self,
        jobs: Sequence[GradeJob],
        *,
        on_progress: ProgressCallback | None = None,
        window: int | None = None,
    ) -> None:
        self.jobs = jobs
        self._on_progress = on_progress
        self._window = asyncio.Semaphore(window) if window else None
        self._ids: list[str | None] = [None] * len(jobs)
        self._sent: list[tuple[float, datetime] | None] = [None] * len(jobs)
        self._results: list[JobResult | None] = [None] * len(jobs)
        self._sent_count = self._finished = self._missing = 0
        self._first_sent: float | None = None
        self._last_settled: float | None = None
        self.all_settled = asyncio.Event()
        if not jobs:
            self.all_settled.set()

    async def slot(self) -> None:
        """Wait for room in the in-flight window (none when the window is unbounded)."""
        if self._window is not None:
            await self._window.acquire()

    def sent(self, index: int, submission_id: str | None = None) -> None:
        """Job ``index`` is being sent now (its submission id, when known already)."""
        now = time.monotonic()
        self._first_sent = self._first_sent or now
        self._sent[index] = (now, utc_now())
        self._ids[index] = submission_id
        self._sent_count += 1
        self._report()

    def accepted(self, index: int, submission_id: str) -> None:
        """The cluster gave job ``index`` the id ``submission_id`` (HTTP)."""
        self._ids[index] = submission_id

    def is_settled(self, index: int) -> bool:
        """Whether job ``index`` has its final state."""
        return self._results[index] is not None

    def finished(self, index: int, verdict: str, result: dict[str, Any]) -> bool:
        """Job ``index`` has a result; False if it was settled already."""
        return self._settle(index, JobState.FINISHED, verdict=verdict, result=result)

    def rejected(self, index: int, reason: dict[str, Any]) -> bool:
        """The cluster refused job ``index``; False if it was settled already."""
        return self._settle(index, JobState.REJECTED, error=reason)

    def failed(self, index: int, reason: dict[str, Any]) -> bool:
        """Job ``index`` could not be handed over; False if it was settled already."""
        return self._settle(index, JobState.FAILED, error=reason)

    def _settle(self, index: int, state: JobState, **fields: Any) -> bool:
        if self._results[index] is not None:
            return False
        now = time.monotonic()
        sent = self._sent[index]
        self._results[index] = JobResult(
            line=self.jobs[index].line,
            id=self._ids[index],
            state=state,
            submitted_at=sent[1] if sent else None,
            finished_at=utc_now() if state is JobState.FINISHED else None,
            latency_ms=(now - sent[0]) * 1000 if sent and state is JobState.FINISHED else None,
            **fields,
        )
        if state is JobState.FINISHED:
            self._finished += 1
        else:
            self._missing += 1
        self._last_settled = now
        if self._window is not None and sent is not None:
            self._window.release()
        if self._finished + self._missing == len(self.jobs):
            self.all_settled.set()
        self._report()
        return True

    def progress(self) -> Progress:
        """The counts now."""
        elapsed = time.monotonic() - self._first_sent if self._first_sent else 0.0
        return Progress(len(self.jobs), self._sent_count, self._finished, self._missing, elapsed)

    def _report(self) -> None:
        if self._on_progress is not None:
            self._on_progress(self.progress())

    def close(self, timeout_s: float) -> tuple[list[JobResult], float]:
        """Every job's result (``timeout`` for the unsettled ones) and the run's duration."""
        end = self._last_settled if self.all_settled.is_set() else time.monotonic()
        elapsed = end - self._first_sent if self._first_sent is not None and end is not None else 0.0
        results: list[JobResult] = []
        for index, job in enumerate(self.jobs):
            result = self._results[index]
            if result is None:
                sent = self._sent[index]
                what = "no result" if sent else "not sent"
                result = JobResult(
                    line=job.line,
                    id=self._ids[index],
                    state=JobState.TIMEOUT,
                    submitted_at=sent[1] if sent else None,
                    error=error("timeout", f"{what} within the timeout of {timeout_s:g} s"),
                )
            results.append(result)
        return results, elapsed
