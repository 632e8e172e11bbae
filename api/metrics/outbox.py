"""The outbox's depth and the age of its oldest row, read at scrape time (one indexed query)."""

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncEngine

from common.tables import outbox


async def outbox_backlog(engine: AsyncEngine) -> tuple[int, float]:
    """The number of outbox rows and the age in seconds of the oldest (0 when none), on MySQL's clock."""
    query = sa.select(
        sa.func.count(),
        sa.func.coalesce(
            sa.func.timestampdiff(
                sa.text("MICROSECOND"), sa.func.min(outbox.c.created_at), sa.func.utc_timestamp(6)
            ),
            0,
        ),
    )
    async with engine.connect() as conn:
        count, age_us = (await conn.execute(query)).one()
    return int(count), max(0.0, int(age_us) / 1e6)
