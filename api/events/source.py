"""What a stream reads from MySQL: a submission's state with the tests it has finished, and its final
result *as recorded*.

A stream never shows a result that is not in MySQL yet: on a result event from the fan-out it has the
event recorded (the recorder's own idempotent statement, :func:`api.results.apply.apply_events`, in one
transaction with the results other streams wait for), then shows the row as stored. So once any client
has seen ``result``, a GET on any replica returns the same finished submission; and when two runs of a
job disagree, every client sees the one that was recorded first.
"""

import asyncio
from collections import OrderedDict
from dataclasses import dataclass, field
from typing import TypeAlias
from uuid import UUID

from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncEngine

from api.lib.clock import to_db_time
from api.metrics.instruments import counting, results_recorded
from api.results.apply import apply_events
from api.results.progress import RecordedTest, read_tests
from api.submissions.repository import SubmissionRow, read_submission, read_submissions
from schemas import ResultEvent, Status

RECORD_BATCH = 200
"""The most results the streams record in one transaction."""

Queued: TypeAlias = tuple[ResultEvent, "asyncio.Future[SubmissionRow | None]"]
"""A result a stream waits to see recorded, and its wait."""


def _settle(waiting: list[Queued], submission_id: UUID, exc: BaseException) -> None:
    """Fail the waits for ``submission_id``'s result with ``exc`` (the stream tries again later)."""
    for event, waiter in waiting:
        if event.id == submission_id and not waiter.done():
            waiter.set_exception(exc)


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
        self._queue: list[Queued] = []
        self._queued = asyncio.Event()

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
        """The submission's row once ``event`` (or a result recorded before it) is in MySQL; None when
        there is no such submission. Results that streams show at about the same time are recorded
        together by :meth:`run` (which must be running); the recorder's later write changes nothing."""
        if (row := self._remembered(event)) is not None:
            return row
        waiter: asyncio.Future[SubmissionRow | None] = asyncio.get_running_loop().create_future()
        self._queue.append((event, waiter))
        self._queued.set()
        return await waiter

    async def run(self) -> None:
        """Record the queued results until cancelled: each batch in one transaction, then its rows read back
        in one ``SELECT``, so a burst of results costs one commit per batch, not one per stream."""
        try:
            while True:
                await self._queued.wait()
                self._queued.clear()
                while self._queue:
                    batch, self._queue = self._queue[:RECORD_BATCH], self._queue[RECORD_BATCH:]
                    await self._record_batch(batch)
        finally:
            for _, waiter in self._queue:
                waiter.cancel()
            self._queue.clear()

    async def _record_batch(self, batch: list[Queued]) -> None:
        waiting = [(event, waiter) for event, waiter in batch if not waiter.done()]  # gone: not waited for
        for event, waiter in waiting:
            if (row := self._remembered(event)) is not None:  # recorded by an earlier batch
                waiter.set_result(row)
        # One write per result however many streams show it; a submission's results keep their order.
        events = list({(e.id, e.seq, e.at): e for e, w in waiting if not w.done()}.values())
        if not events:
            return
        try:
            try:
                rows = await self._record(events)
            except (SQLAlchemyError, OSError):
                # A deadlock with the recorder's batch, say: each result alone, as streams did before.
                rows = {}
                for event in events:
                    try:
                        rows |= await self._record([event])
                    except (SQLAlchemyError, OSError) as exc:
                        _settle(waiting, event.id, exc)
        except BaseException:
            for _, waiter in waiting:
                waiter.cancel()
            raise
        for row in rows.values():
            if row.status is Status.FINISHED:
                self._remember(row)
        for event, waiter in waiting:
            if not waiter.done():
                waiter.set_result(rows.get(str(event.id)))

    async def _record(self, events: list[ResultEvent]) -> dict[str, SubmissionRow]:
        """Apply ``events`` in one transaction (rows locked in id order), then read their rows back."""
        async with self._engine.begin() as conn:
            recorded = await apply_events(conn, sorted(events, key=lambda e: str(e.id)))
        counting(results_recorded, recorded)()
        # After the commit, not within: that transaction's snapshot can predate a result the recorder
        # committed meanwhile, and would show such a row unfinished.
        async with self._engine.connect() as conn:
            return await read_submissions(conn, (e.id for e in events))

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
