"""The background task that deletes finished submissions older than ``EXECUTIONER_RETENTION_DAYS``, the
per-key usage counters no limit reads any more, and the ids of deleted submissions once kept long enough.

Each batch is one short transaction that selects up to ``batch`` finished submissions by the
``(status, created_at)`` index and deletes them by primary key, so the purge never holds many row locks
or a long transaction while new submissions are stored and results recorded. Queued and running
submissions are never deleted: their results would be recorded nowhere.
"""

import asyncio
import logging
from datetime import timedelta

import sqlalchemy as sa
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncEngine

from api.db.batched import delete_in_batches
from api.db.tombstones import forgotten_deletions
from api.lib.clock import utcnow
from common.tables import key_usage, submission_tests, submissions
from schemas import Status

log = logging.getLogger(__name__)

USAGE_KEPT = timedelta(days=2)
"""Usage windows older than this are deleted: the longest window a limit reads is the current day."""

_c = submissions.c


async def purge_old_submissions(engine: AsyncEngine, *, days: float, batch: int) -> int:
    """Delete the finished submissions created more than ``days`` ago, ``batch`` per transaction;
    returns how many."""
    cutoff = utcnow() - timedelta(days=days)
    old = (
        sa.select(_c.id)
        .where(_c.status == Status.FINISHED.value, _c.created_at < cutoff)
        .order_by(_c.created_at)
        .limit(batch)
    )
    deleted = 0
    while True:
        async with engine.begin() as conn:
            ids = list((await conn.execute(old)).scalars())
            if ids:
                await conn.execute(submission_tests.delete().where(submission_tests.c.submission_id.in_(ids)))
                await conn.execute(
                    submissions.delete().where(_c.id.in_(ids), _c.status == Status.FINISHED.value)
                )
        deleted += len(ids)
        if len(ids) < batch:
            return deleted


async def purge_old_usage(engine: AsyncEngine, *, batch: int) -> int:
    """Delete usage counters older than :data:`USAGE_KEPT`, ``batch`` per transaction; returns how many."""
    expired = key_usage.delete().where(key_usage.c.window_start < utcnow() - USAGE_KEPT)
    return await delete_in_batches(engine, expired, batch)


async def retention_forever(
    engine: AsyncEngine, *, days: float | None, batch: int, interval_s: float
) -> None:
    """Purge every ``interval_s`` seconds until cancelled (``days`` None: only the usage counters); a
    MySQL outage only delays the next purge."""
    while True:
        try:
            purged = 0 if days is None else await purge_old_submissions(engine, days=days, batch=batch)
            if purged:
                log.info("retention: deleted %d finished submissions older than %s days", purged, days)
            await purge_old_usage(engine, batch=batch)
            await delete_in_batches(engine, forgotten_deletions(), batch)
        except (SQLAlchemyError, OSError) as exc:
            log.warning("the retention purge failed (%s); trying again later", exc)
        await asyncio.sleep(interval_s)
