"""Apply result events to the ``submissions`` table, idempotently.

Every statement is guarded so that applying an event twice, or an older event after a newer one,
changes nothing: a status or test event only moves ``last_seq`` forward, and nothing changes a
finished submission.
"""

import logging
from collections.abc import Container, Iterable
from typing import NamedTuple

import orjson
import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from api.db.submission_rows import placeholder_submission_row
from api.db.tombstones import deleted_among
from api.lib.clock import to_db_time
from api.limits.quota import record_cpu
from api.results.progress import forget_tests, record_test
from common.tables import submissions
from schemas import Outcome, ResultEvent, Status, StatusEvent, TestEvent

log = logging.getLogger(__name__)

ResultMessage = StatusEvent | TestEvent | ResultEvent

_c = submissions.c
WORKER_COLUMN_LENGTH = 128  # submissions.worker is VARCHAR(128)


def _worker(name: str | None) -> str | None:
    """A worker name as the column can hold it."""
    return name[:WORKER_COLUMN_LENGTH] if name else name


def cpu_ms(outcome: Outcome) -> int:
    """The CPU time a job used: its compiler's, its run's and its tests'."""
    runs = [outcome.compile, outcome.run, *outcome.tests]
    return sum(run.time_ms for run in runs if run is not None)


def _statement(event: ResultMessage) -> sa.Update | None:
    at = to_db_time(event.at)
    unfinished = sa.and_(_c.id == str(event.id), _c.status != Status.FINISHED.value)
    if isinstance(event, ResultEvent):
        outcome = event.outcome
        return (
            submissions.update()
            .where(unfinished)
            .values(
                status=Status.FINISHED.value,
                verdict=outcome.verdict.value,
                outcome=orjson.dumps(outcome.model_dump(mode="json")).decode(),
                finished_at=at,
                started_at=sa.func.coalesce(_c.started_at, at),
                worker=sa.func.coalesce(_worker(outcome.worker), _c.worker),
                last_seq=sa.func.greatest(_c.last_seq, event.seq),
            )
        )
    newer = sa.and_(unfinished, _c.last_seq < event.seq)
    if isinstance(event, TestEvent):
        # A test result implies the job is running, even if its status event was lost.
        return (
            submissions.update()
            .where(newer)
            .values(
                last_seq=event.seq,
                status=Status.RUNNING.value,
                started_at=sa.func.coalesce(_c.started_at, at),
            )
        )
    if event.status is not Status.RUNNING:
        log.warning(
            "ignoring status event %r for %s: only 'running' comes from workers", event.status, event.id
        )
        return None
    return (
        submissions.update()
        .where(newer)
        .values(
            status=Status.RUNNING.value,
            last_seq=event.seq,
            started_at=sa.func.coalesce(_c.started_at, at),
            worker=sa.func.coalesce(_worker(event.worker), _c.worker),
        )
    )


async def _insert_unknown(conn: AsyncConnection, event: ResultMessage) -> bool:
    """Create the row of a submission the API has not seen yet (a batch grader produced the job straight
    to Kafka, and its result came first); False when it exists after all. Its source and language are
    unknown here: the job intake (:mod:`api.intake`) fills them in when it sees the job. A submission
    deleted meanwhile stays deleted (:mod:`api.db.tombstones`)."""
    exists = await conn.scalar(sa.select(sa.literal(1)).where(_c.id == str(event.id)))
    if exists or await deleted_among(conn, [str(event.id)]):
        return False
    row = placeholder_submission_row(event.id, created_at=to_db_time(event.at))
    await conn.execute(submissions.insert().prefix_with("IGNORE").values(row))
    return True


class Recorded(NamedTuple):
    """A result that finished its submission: the labels it is counted under once its transaction
    committed (:func:`api.metrics.instruments.counting` with ``results_recorded``)."""

    language: str
    verdict: str


async def apply_events(
    conn: AsyncConnection, events: Iterable[ResultMessage], *, languages: Container[str] = ()
) -> list[Recorded]:
    """Apply ``events`` in order within the caller's transaction; the results that finished their
    submission, to count once it committed. ``languages``: the runtime ids a result's own ``language``
    may name (it becomes a metric label, so any other counts as ``unknown``)."""
    recorded: list[Recorded] = []
    for event in events:
        statement = _statement(event)
        if statement is None:
            continue
        # rowcount counts matched rows (asyncmy sets CLIENT_FOUND_ROWS): 0 means a stale event or no row.
        matched = (await conn.execute(statement)).rowcount
        if matched == 0 and await _insert_unknown(conn, event):
            matched = (await conn.execute(statement)).rowcount
        if not matched:
            continue
        # Kept while running, for streams opened mid-run (api.results.progress); the outcome has them all.
        if isinstance(event, TestEvent):
            await record_test(conn, event)
        elif isinstance(event, ResultEvent):
            await forget_tests(conn, event.id)
            # This statement finished the submission: the one place each result is counted, and the
            # CPU it used charged to its key.
            row = (
                await conn.execute(sa.select(_c.language, _c.owner_key).where(_c.id == str(event.id)))
            ).one()
            # A job produced straight to Kafka may have no row of its own yet: the result names its language.
            named = event.language if event.language in languages else None
            language = row.language or named or "unknown"
            recorded.append(Recorded(language, event.outcome.verdict.value))
            if row.owner_key:
                await record_cpu(
                    conn, row.owner_key, row.language, cpu_ms(event.outcome), to_db_time(event.at)
                )
    return recorded
