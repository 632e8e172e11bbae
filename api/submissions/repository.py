"""Reading and writing submission rows (and their outbox rows)."""

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from uuid import UUID

import orjson
import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from api.db.leases import seconds_from_now
from api.db.submission_rows import Origin, new_submission_row
from api.db.tombstones import remember_deleted
from api.idempotency.keys import KeyClaim
from api.idempotency.store import claim_key
from api.lib.clock import utcnow
from api.limits.quota import Quota, admit
from api.metrics.instruments import submissions_accepted
from api.outbox.handoff import RowLease
from api.outbox.leases import OutboxRecord
from api.webhooks.deliveries import Callback, insert_delivery
from common.tables import outbox, submission_tests, submissions
from common.tracing import current_traceparent
from schemas import JobMessage, Status


@dataclass(frozen=True, slots=True)
class SubmissionRow:
    """A submission as stored, without its (possibly large) source and stdin."""

    id: str
    language: str
    status: Status
    verdict: str | None
    spec: dict[str, Any]
    """``tests``, ``limits``, ``compare``, ``stop_on_first_failure`` as the job had them."""
    outcome: dict[str, Any] | None
    """The final result's :class:`~schemas.Outcome` as JSON, once finished."""
    last_seq: int
    worker: str | None
    origin: str
    created_at: datetime
    started_at: datetime | None
    finished_at: datetime | None


_COLUMNS = [
    submissions.c.id,
    submissions.c.language,
    submissions.c.status,
    submissions.c.verdict,
    submissions.c.spec,
    submissions.c.outcome,
    submissions.c.last_seq,
    submissions.c.worker,
    submissions.c.origin,
    submissions.c.created_at,
    submissions.c.started_at,
    submissions.c.finished_at,
]


@dataclass(frozen=True, slots=True)
class Stored:
    """What :func:`insert_submission` did."""

    earlier: UUID | None
    """The submission an ``Idempotency-Key`` already named (nothing was stored), or None."""
    rate_limit: dict[str, str]
    """The ``RateLimit-*`` headers of the key's per-minute limit once this one counted; empty without
    a quota."""
    outbox: OutboxRecord | None = None
    """The new outbox row, when it was inserted under a ``lease``: the relay's to publish."""


@dataclass(frozen=True, slots=True)
class KeyedRequest:
    """A submission sent with an ``Idempotency-Key``: the key's claim and how it is kept."""

    claim: KeyClaim
    ttl_s: float
    wait_s: int


async def insert_submission(
    engine: AsyncEngine,
    job: JobMessage,
    payload: bytes,
    topic: str,
    keyed: KeyedRequest | None = None,
    *,
    callback: Callback | None = None,
    owner_key: str | None = None,
    quota: Quota | None = None,
    user_source: str | None = None,
    lease: RowLease | None = None,
) -> Stored:
    """Store a new submission and its outbox row in one transaction: once this returns, it is durable.

    With ``keyed``, the key's row goes into the same transaction, first; when the key already names a
    submission of the same request, nothing is stored and that submission's id is returned as
    ``earlier`` (None: the new submission ``job.id`` was stored). Raises the 409/422
    :class:`~api.lib.errors.ApiError` of :func:`~api.idempotency.store.claim_key`.

    ``owner_key`` is the submitter key that owns it; with ``quota``, the key's limits are checked and
    counted in the same transaction (a 429 :class:`~api.lib.errors.ApiError` stores nothing).
    ``user_source``: what the submitter wrote, when ``job.source`` was composed from it. With
    ``lease`` (:meth:`~api.outbox.relay.OutboxRelay.lease_new_row`), the outbox row goes in leased and
    comes back as ``outbox``, for the relay to publish without claiming it.
    """
    now = utcnow()
    async with engine.begin() as conn:
        if keyed is not None:
            earlier = await claim_key(
                conn, keyed.claim, job.id, now=now, ttl_s=keyed.ttl_s, wait_s=keyed.wait_s
            )
            if earlier is not None:
                return Stored(earlier, {})
        rate_limit = {} if quota is None else await admit(conn, quota, now)
        row = new_submission_row(job, origin=Origin.HTTP, created_at=now, user_source=user_source)
        row["owner_key"] = owner_key
        await conn.execute(submissions.insert().values(row))
        key, traceparent = str(job.id).encode(), current_traceparent()  # the relay continues the trace
        leased = (
            {}
            if lease is None
            else {"claimed_by": lease.owner, "lease_until": seconds_from_now(lease.lease_s)}
        )
        inserted = await conn.execute(
            outbox.insert().values(
                topic=topic, msg_key=key, payload=payload, created_at=now, traceparent=traceparent, **leased
            )
        )
        if callback is not None:
            await insert_delivery(conn, str(job.id), callback, now)
    submissions_accepted.labels(job.language, Origin.HTTP.value).inc()  # committed: counted once
    if lease is None:
        return Stored(None, rate_limit)
    (row_id,) = inserted.inserted_primary_key or (None,)
    assert isinstance(row_id, int), "MySQL returns the AUTO_INCREMENT id of the row"
    record = OutboxRecord(row_id, topic, key, payload, traceparent)
    return Stored(None, rate_limit, record)


async def fetch_submission(engine: AsyncEngine, submission_id: UUID) -> SubmissionRow | None:
    """The submission ``submission_id``, or None when there is none."""
    async with engine.connect() as conn:
        return await read_submission(conn, submission_id)


async def read_submission(conn: AsyncConnection, submission_id: UUID) -> SubmissionRow | None:
    """:func:`fetch_submission` within the caller's transaction."""
    query = sa.select(*_COLUMNS).where(submissions.c.id == str(submission_id))
    row = (await conn.execute(query)).first()
    return None if row is None else _submission_row(row)


async def read_submissions(conn: AsyncConnection, ids: Iterable[UUID]) -> dict[str, SubmissionRow]:
    """The submissions of ``ids`` that exist, by id, in one query."""
    query = sa.select(*_COLUMNS).where(submissions.c.id.in_(sorted({str(i) for i in ids})))
    return {row.id: _submission_row(row) for row in await conn.execute(query)}


def _submission_row(row: sa.Row[Any]) -> SubmissionRow:
    return SubmissionRow(
        id=row.id,
        language=row.language,
        status=Status(row.status),
        verdict=row.verdict,
        spec=orjson.loads(row.spec) if row.spec else {},
        outcome=orjson.loads(row.outcome) if row.outcome else None,
        last_seq=row.last_seq,
        worker=row.worker,
        origin=row.origin,
        created_at=row.created_at,
        started_at=row.started_at,
        finished_at=row.finished_at,
    )


@dataclass(frozen=True, slots=True)
class SubmittedProgram:
    """The program and input a submission was sent with (kept apart from :class:`SubmissionRow`, which
    streams re-read often, because they can be large)."""

    source: str
    stdin: str


async def fetch_program(engine: AsyncEngine, submission_id: UUID) -> SubmittedProgram | None:
    """The source and stdin of submission ``submission_id``, or None when there is none."""
    query = sa.select(submissions.c.source, submissions.c.stdin).where(submissions.c.id == str(submission_id))
    async with engine.connect() as conn:
        row = (await conn.execute(query)).first()
    if row is None:
        return None
    return SubmittedProgram(source=row.source, stdin=row.stdin)


async def delete_finished_submission(engine: AsyncEngine, submission_id: UUID) -> bool:
    """Delete a finished submission; False when there is no finished submission ``submission_id``. A
    queued or running one is never deleted: its job is on its way and its result would be recorded
    nowhere. An idempotency key that named it stays until it expires (a replay then answers with an id
    GET no longer finds; ``idempotency_keys`` has no index by submission to delete it with)."""
    sid = str(submission_id)
    async with engine.begin() as conn:
        deleted = await conn.execute(
            submissions.delete().where(submissions.c.id == sid, submissions.c.status == Status.FINISHED.value)
        )
        if not deleted.rowcount:
            return False
        await conn.execute(submission_tests.delete().where(submission_tests.c.submission_id == sid))
        await remember_deleted(conn, [sid])  # a late event or job record must not bring it back
    return True
