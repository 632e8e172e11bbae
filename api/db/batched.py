"""Deleting many rows without holding many locks: one short transaction per batch."""

from sqlalchemy import Delete
from sqlalchemy.ext.asyncio import AsyncEngine


async def delete_in_batches(engine: AsyncEngine, statement: Delete, batch: int) -> int:
    """Run ``statement`` with a MySQL ``LIMIT batch``, each time in its own transaction, until a run
    deletes fewer than ``batch`` rows; returns how many rows were deleted in all."""
    limited = statement.with_dialect_options(mysql_limit=batch)
    deleted = 0
    while True:
        async with engine.begin() as conn:
            count = (await conn.execute(limited)).rowcount
        deleted += count
        if count < batch:
            return deleted
