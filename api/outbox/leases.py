"""Outbox leases: which relay publishes which rows, decided in short transactions.

A relay claims free rows (never claimed, or whose lease ran out) by stamping them with its name and a
lease end on MySQL's clock, and commits at once. It publishes with no transaction open, then settles in
another short one: rows Kafka acknowledged and rows it never will are deleted, rows that failed
transiently are released for the next round. A relay that dies mid-way leaves its rows leased until the
lease ends; then any relay claims them again (published twice at worst, never lost). Both transactions
run at READ COMMITTED (api/db/leases.py says why): every new submission's outbox row goes at the end of
the primary key.
"""

import logging
from collections.abc import Sequence
from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncEngine

from api.db.leases import lease, short_transaction, unleased
from api.outbox.rejected import fail_unpublishable
from common.tables import outbox

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class OutboxRecord:
    """One claimed outbox row."""

    id: int
    topic: str
    key: bytes
    payload: bytes
    traceparent: str | None
    """The W3C trace context of the request that stored the row (None: not traced)."""


async def claim(engine: AsyncEngine, owner: str, limit: int, lease_s: float) -> list[OutboxRecord]:
    """Lease up to ``limit`` free rows, oldest first, to ``owner`` for ``lease_s`` seconds."""
    candidates = (
        sa.select(outbox.c.id, outbox.c.topic, outbox.c.msg_key, outbox.c.payload, outbox.c.traceparent)
        .where(unleased(outbox))
        .order_by(outbox.c.id)
        .limit(limit)
    )
    rows = await lease(engine, outbox.c.id, candidates, owner, lease_s)
    return [OutboxRecord(row.id, row.topic, row.msg_key, row.payload, row.traceparent) for row in rows]


async def settle(
    engine: AsyncEngine,
    owner: str,
    *,
    done: Sequence[int],
    rejected: Sequence[tuple[OutboxRecord, Exception]],
    retry: Sequence[int],
) -> None:
    """Delete the rows in ``done``; finish the submissions of ``rejected`` rows with ``internal_error``
    and delete those rows too; release the rows in ``retry`` that ``owner`` still holds."""
    async with short_transaction(engine) as conn:
        for row, exc in rejected:
            log.error("outbox row %d (topic %s) can never be published: %s", row.id, row.topic, exc)
            await fail_unpublishable(conn, row.payload, f"the job could not be queued: {exc}")
        # Delivered rows go even if our lease ran out meanwhile: publishing them again gains nothing.
        finished = [*done, *(row.id for row, _ in rejected)]
        if finished:
            await conn.execute(outbox.delete().where(outbox.c.id.in_(finished)))
        if retry:
            await conn.execute(_release(owner, retry))


async def release(engine: AsyncEngine, owner: str, ids: Sequence[int]) -> None:
    """Give back the rows in ``ids`` that ``owner`` still holds, unpublished."""
    async with short_transaction(engine) as conn:
        await conn.execute(_release(owner, ids))


def _release(owner: str, ids: Sequence[int]) -> sa.Update:
    # Only while still ours: a row whose lease ran out may already belong to another relay.
    return (
        outbox.update()
        .where(outbox.c.id.in_(ids), outbox.c.claimed_by == owner)
        .values(claimed_by=None, lease_until=None)
    )
