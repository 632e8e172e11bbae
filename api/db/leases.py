"""Row leases on MySQL's clock, shared by the outbox relay and the webhook sender.

A replica claims free rows (never claimed, or whose lease ran out) by stamping them with its name
(``claimed_by``) and a lease end (``lease_until``) in one short transaction, and works on them with no
transaction open; a replica that dies leaves its rows to the others once the lease ends.

The transactions run at READ COMMITTED: there ``FOR UPDATE SKIP LOCKED`` and writes by key lock only the
rows they touch, while under REPEATABLE READ they may also lock the gap at the end of the primary key, where
new rows go.
"""

from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine


def seconds_from_now(seconds: float) -> sa.ColumnElement[datetime]:
    """MySQL's ``NOW(6)`` plus ``seconds`` (every replica schedules on the database's clock)."""
    return sa.func.timestampadd(sa.text("MICROSECOND"), int(seconds * 1_000_000), sa.func.now(6))


def unleased(table: sa.Table) -> sa.ColumnElement[bool]:
    """Rows of ``table`` nobody holds: never claimed, or their lease ran out."""
    return sa.or_(table.c.lease_until.is_(None), table.c.lease_until < sa.func.now(6))


@asynccontextmanager
async def short_transaction(engine: AsyncEngine) -> AsyncIterator[AsyncConnection]:
    """A transaction at READ COMMITTED (see the module's docstring)."""
    async with engine.connect() as pooled:
        # SQLAlchemy resets the level when the connection goes back to the pool.
        conn = await pooled.execution_options(isolation_level="READ COMMITTED")
        async with conn.begin():
            yield conn


async def lease(
    engine: AsyncEngine, key: sa.Column[Any], candidates: sa.Select[Any], owner: str, lease_s: float
) -> Sequence[sa.Row[Any]]:
    """Claim the rows ``candidates`` selects (it should filter on :func:`unleased`, order and limit) for
    ``owner`` for ``lease_s`` seconds; rows another replica is claiming right now are skipped. ``key`` is
    the claimed table's primary key column, which ``candidates`` must select."""
    async with short_transaction(engine) as conn:
        rows: Sequence[sa.Row[Any]] = (await conn.execute(candidates.with_for_update(skip_locked=True))).all()
        if rows:
            await conn.execute(
                sa.update(key.table)
                .where(key.in_([getattr(row, key.name) for row in rows]))
                .values(claimed_by=owner, lease_until=seconds_from_now(lease_s))
            )
    return rows
