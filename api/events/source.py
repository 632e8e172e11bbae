"""What a stream reads from MySQL: a submission's state with the tests it has finished, and its final
result *as recorded*.

A stream never shows a result that is not in MySQL yet: on a result event from the fan-out it records the
event itself (the recorder's own idempotent statement, :func:`api.results.apply.apply_events`), then shows
the row as stored. So once any client has seen ``result``, a GET on any replica returns the same finished
submission; and when two runs of a job disagree, every client sees the one that was recorded first.
"""

import asyncio
from collections import OrderedDict
from dataclasses import dataclass, field
from uuid import UUID

from sqlalchemy.ext.asyncio import AsyncEngine

from api.lib.clock import to_db_time
from api.results.apply import apply_events
from api.results.progress import RecordedTest, read_tests
from api.submissions.repository import SubmissionRow, fetch_submission, read_submission
from schemas import ResultEvent, Status


@dataclass(frozen=True, slots=True)
class StreamState:
    """A submission as stored, with the tests it has finished after a given seq (while it runs)."""

    row: SubmissionRow
    tests: list[RecordedTest] = field(default_factory=list)


class SubmissionSource:
    """MySQL as the streams of one replica read and write it."""

    def __init__(self, engine: AsyncEngine, remembered_results: int = 1024) -> None:
        self._engine = engine
        self._finished: OrderedDict[UUID, SubmissionRow] = OrderedDict()
        self._capacity = remembered_results
        self._recording: dict[UUID, asyncio.Lock] = {}

    async def state(self, submission_id: UUID, after: int) -> StreamState | None:
        """The submission and, while it runs, its recorded tests with seq above ``after``; None when
        there is no such submission. One transaction, so the row and its tests agree."""
        async with self._engine.connect() as conn:
            row = await read_submission(conn, submission_id)
            if row is None:
                return None
            tests = await read_tests(conn, submission_id, after) if row.status is Status.RUNNING else []
        return StreamState(row, tests)

    async def tests(self, submission_id: UUID, after: int, before: int) -> list[RecordedTest]:
        """The recorded tests with ``after < seq < before``."""
        async with self._engine.connect() as conn:
            return await read_tests(conn, submission_id, after, before)

    async def finished(self, event: ResultEvent) -> SubmissionRow | None:
        """The submission's row once ``event`` (or a result recorded before it) is in MySQL. Streams of
        this replica showing the same result write it once; the recorder's later write changes nothing."""
        if (row := self._remembered(event)) is not None:
            return row
        lock = self._recording.setdefault(event.id, asyncio.Lock())
        try:
            async with lock:
                if (row := self._remembered(event)) is not None:
                    return row
                async with self._engine.begin() as conn:
                    await apply_events(conn, [event])
                row = await fetch_submission(self._engine, event.id)
                if row is not None and row.status is Status.FINISHED:
                    self._remember(row)
                return row
        finally:
            if not lock.locked():
                self._recording.pop(event.id, None)

    def _remembered(self, event: ResultEvent) -> SubmissionRow | None:
        row = self._finished.get(event.id)
        # A result newer than the remembered one is a rejudge's (docs/problems.md): read it from MySQL.
        if row is None or row.finished_at is None or row.finished_at < to_db_time(event.at):
            return None
        self._finished.move_to_end(event.id)
        return row

    def _remember(self, row: SubmissionRow) -> None:
        if not self._capacity:
            return
        self._finished[UUID(row.id)] = row
        while len(self._finished) > self._capacity:
            self._finished.popitem(last=False)
