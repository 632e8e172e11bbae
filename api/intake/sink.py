"""Recording jobs produced straight to ``jobs.<language>``: one submission row each, with ``origin`` kafka.

Most records are jobs the API published itself; their rows exist, so one ``SELECT`` of the batch's keys
finds them and only the others are decoded. A row the recorder created first (a result arrived before the
intake saw the job) is filled in, its status and results untouched. Every statement is idempotent, so
replays change nothing.
"""

import asyncio
import logging
from collections.abc import Mapping
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.dialects.mysql import insert
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from api.db.submission_rows import Origin, new_submission_row
from api.db.tombstones import deleted_among
from api.deadletters.rows import finish_dead_lettered
from api.intake.admission import JobAdmission, key_id
from api.keys.repository import read_keys
from api.lib.clock import utcnow
from api.lib.consumer import AfterCommit, MySQLConsumer, Record, record_position, record_time
from api.metrics.instruments import counting, observe_written, submissions_accepted
from common.contract import AdmissionLimits
from common.runtimes import Runtime
from common.tables import submissions
from schemas import JobMessage

log = logging.getLogger(__name__)

_c = submissions.c


class JobIntake:
    """The intake's :class:`~api.lib.consumer.Sink`: records of the jobs topics, as submission rows."""

    def __init__(self, admission: JobAdmission, *, check_keys: bool = False) -> None:
        self._admission = admission
        self._check_keys = check_keys

    def prepare(self, records: list[Record]) -> list[Record]:
        """The records themselves: which to decode depends on what MySQL holds."""
        return records

    async def write(self, conn: AsyncConnection, items: list[Record]) -> AfterCommit | None:
        """Record the jobs of ``items`` that have no complete row yet; count them once committed."""
        keys = [key_id(record.key) for record in items]
        complete = await _complete_ids(conn, {key for key in keys if key})
        jobs: dict[str, tuple[JobMessage, datetime]] = {}
        for record, key in zip(items, keys, strict=True):
            if key in complete:
                continue  # the usual case: the API published this job itself
            job = self._admission.admit(record)
            # A job seen twice (a grader retrying) is recorded once, as first produced.
            if job is None or str(job.id) in complete or str(job.id) in jobs:
                continue
            jobs[str(job.id)] = (job, record_time(record))
        if self._check_keys:
            await _drop_refused_keys(conn, jobs)
        if not jobs:
            return None
        await conn.execute(_upsert(list(jobs.values())))
        await finish_dead_lettered(conn, [job for job, _ in jobs.values()])
        log.debug("intake: recorded %d jobs produced straight to Kafka", len(jobs))
        return counting(
            submissions_accepted, ((job.language, Origin.KAFKA.value) for job, _ in jobs.values())
        )

    def describe(self, item: Record) -> str:
        """Where the record is."""
        return f"job record {record_position(item)}"


async def _drop_refused_keys(conn: AsyncConnection, jobs: dict[str, tuple[JobMessage, datetime]]) -> None:
    """Leave out of ``jobs`` those whose ``key_id`` names no usable key (the workers dead-letter them)."""
    keys = await read_keys(conn, {job.key_id for job, _ in jobs.values() if job.key_id})
    now = utcnow()
    for sid, (job, _) in list(jobs.items()):
        if job.key_id is None:
            continue
        key = keys.get(job.key_id)
        reason = f"unknown key {job.key_id}" if key is None else key.refusal(now)
        if reason is not None:
            log.debug("intake: not recording job %s (%s)", sid, reason)
            del jobs[sid]


async def _complete_ids(conn: AsyncConnection, ids: set[str]) -> set[str]:
    """Those of ``ids`` whose rows exist with their job (not an empty row the recorder created), or
    that were deleted (:mod:`api.db.tombstones`)."""
    if not ids:
        return set()
    rows = await conn.execute(sa.select(_c.id).where(_c.id.in_(sorted(ids)), _c.language != ""))
    complete = set(rows.scalars())
    return complete | await deleted_among(conn, ids - complete)


def _upsert(jobs: list[tuple[JobMessage, datetime]]) -> sa.Executable:
    """Insert the jobs' rows; fill the ones the recorder created without a job (origin kafka, no
    language), keeping their status and results; leave every other existing row alone."""
    stmt = insert(submissions).values(
        [new_submission_row(job, origin=Origin.KAFKA, created_at=created_at) for job, created_at in jobs]
    )
    new = stmt.inserted
    empty = sa.and_(_c.language == "", _c.origin == Origin.KAFKA.value)

    def fill(column: sa.ColumnElement[object], value: sa.ColumnElement[object]) -> sa.Case[object]:
        return sa.case((empty, value), else_=column)

    # A list keeps the order: MySQL assigns left to right, so ``language`` goes last and every condition
    # sees the row as it was.
    return stmt.on_duplicate_key_update(
        [
            ("source", fill(_c.source, new.source)),
            ("stdin", fill(_c.stdin, new.stdin)),
            ("spec", fill(_c.spec, new.spec)),
            ("created_at", fill(_c.created_at, sa.func.least(_c.created_at, new.created_at))),
            ("owner_key", fill(_c.owner_key, new.owner_key)),
            ("language", fill(_c.language, new.language)),
        ]
    )


def job_intake(
    *,
    engine: AsyncEngine,
    bootstrap: str,
    languages: dict[str, str],
    group_id: str,
    topics_ready: asyncio.Event,
    limits: AdmissionLimits,
    runtimes: Mapping[str, Runtime] | None = None,
    check_keys: bool = False,
    fetch_wait_ms: int = 0,
) -> MySQLConsumer[Record]:
    """Consumes the jobs topics (``languages``: topic → language) in the intake group, recording the jobs
    within ``limits`` that keep to their ``runtimes``' allow-lists."""
    admission = JobAdmission(languages, limits, runtimes or {})
    return MySQLConsumer(
        name="intake",
        sink=JobIntake(admission, check_keys=check_keys),
        engine=engine,
        bootstrap=bootstrap,
        topics=sorted(languages),
        group_id=group_id,
        topics_ready=topics_ready,
        on_written=observe_written,
        fetch_wait_ms=fetch_wait_ms,
    )
