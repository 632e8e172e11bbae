"""The ids of deleted submissions, kept for :data:`KEPT` after the delete.

The recorder and the job intake read Kafka in batches, so an event or a job record of a submission can
arrive after an admin deleted it. Without its id here, the recorder would take it for a job produced
straight to Kafka and create its row again, and the intake would record its job again.
"""

from collections.abc import Collection, Sequence
from datetime import timedelta

import sqlalchemy as sa
from sqlalchemy.dialects.mysql import insert
from sqlalchemy.ext.asyncio import AsyncConnection

from common.tables import deleted_submissions

KEPT = timedelta(days=7)
"""Far longer than any event takes to be recorded, even after an outage of the API."""

_c = deleted_submissions.c


async def remember_deleted(conn: AsyncConnection, ids: Sequence[str]) -> None:
    """Keep ``ids`` as deleted, within the caller's transaction (the one that deletes their rows)."""
    if ids:
        now = sa.func.utc_timestamp(6)
        rows = [{"id": submission_id, "deleted_at": now} for submission_id in ids]
        await conn.execute(insert(deleted_submissions).prefix_with("IGNORE").values(rows))


async def deleted_among(conn: AsyncConnection, ids: Collection[str]) -> set[str]:
    """Those of ``ids`` that were deleted."""
    if not ids:
        return set()
    rows = await conn.execute(sa.select(_c.id).where(_c.id.in_(sorted(ids))))
    return set(rows.scalars())


def forgotten_deletions() -> sa.Delete:
    """The deleted ids older than :data:`KEPT` (for the retention task to delete in batches)."""
    kept_since = sa.func.timestampadd(sa.text("SECOND"), -int(KEPT.total_seconds()), sa.func.utc_timestamp(6))
    return deleted_submissions.delete().where(_c.deleted_at < kept_since)
