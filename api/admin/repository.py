"""The admin API's rows: desired sizes in ``pools`` (written here), what the master observed in
``pool_status`` (read), each worker's finished jobs in ``submissions`` and each language's
``dead_letters`` (counted)."""

import logging
from collections.abc import Collection
from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa
from pydantic import ValidationError
from sqlalchemy.dialects.mysql import Insert, insert
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from api.admin.requests import Autoscaled, FixedSize, PoolSize
from api.lib.clock import utcnow
from common.tables import dead_letters, pool_status, pools, submissions
from schemas import Status
from schemas.pools import PoolStatus

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class PoolRow:
    """A ``pools`` row."""

    language: str
    replicas: int
    min_replicas: int | None
    max_replicas: int | None
    autoscale: bool


@dataclass(frozen=True, slots=True)
class PoolsSnapshot:
    """Everything the admin view of the pools is made of, read at one moment."""

    rows: dict[str, PoolRow]
    statuses: dict[str, PoolStatus]
    jobs_done: dict[str, int]
    """Finished submissions per worker (container name) of the reported pools."""
    dead_letters: dict[str, int]
    """Dead letters recorded per language (of the ``jobs.<language>`` topic they were rejected from)."""
    lock_holder: int | None
    """MySQL connection id holding the reporting master's lock now; None when nobody holds it."""


async def read_pools(engine: AsyncEngine, languages: Collection[str] | None = None) -> PoolsSnapshot:
    """The pools of ``languages`` (default: all)."""
    async with engine.connect() as conn:
        rows = await _pool_rows(conn, languages)
        statuses = await read_statuses(conn, languages)
        workers = [c.name for s in statuses.values() for c in s.containers]
        jobs_done = await _jobs_done(conn, workers)
        rejected = await _dead_letters(conn, languages)
        reported = [s for s in statuses.values() if s.master is not None]
        holder = None
        if reported:
            newest = max(reported, key=lambda s: s.observed_at).master
            assert newest is not None
            holder = await conn.scalar(sa.select(sa.func.is_used_lock(newest.lock)))
    return PoolsSnapshot(rows, statuses, jobs_done, rejected, None if holder is None else int(holder))


async def _pool_rows(conn: AsyncConnection, languages: Collection[str] | None) -> dict[str, PoolRow]:
    query = sa.select(
        pools.c.language, pools.c.replicas, pools.c.min_replicas, pools.c.max_replicas, pools.c.autoscale
    )
    if languages is not None:
        query = query.where(pools.c.language.in_(list(languages)))
    return {row.language: PoolRow(*row) for row in await conn.execute(query)}


async def read_statuses(
    conn: AsyncConnection, languages: Collection[str] | None = None
) -> dict[str, PoolStatus]:
    """The master's last report of each pool (of ``languages``, default all) it could be read."""
    query = sa.select(pool_status.c.language, pool_status.c.observed)
    if languages is not None:
        query = query.where(pool_status.c.language.in_(list(languages)))
    found = {}
    for language, observed in await conn.execute(query):
        try:
            found[language] = PoolStatus.model_validate_json(observed)
        except ValidationError as exc:  # written by a master we do not understand: show the rest
            log.warning("unreadable pool_status of %s: %s", language, exc)
    return found


async def _jobs_done(conn: AsyncConnection, workers: list[str]) -> dict[str, int]:
    if not workers:
        return {}
    rows = await conn.execute(
        sa.select(submissions.c.worker, sa.func.count())
        .where(submissions.c.worker.in_(workers), submissions.c.status == Status.FINISHED.value)
        .group_by(submissions.c.worker)
    )
    return {worker: count for worker, count in rows}


async def _dead_letters(conn: AsyncConnection, languages: Collection[str] | None) -> dict[str, int]:
    query = (
        sa.select(dead_letters.c.language, sa.func.count())
        .where(dead_letters.c.language.is_not(None))
        .group_by(dead_letters.c.language)
    )
    if languages is not None:
        query = query.where(dead_letters.c.language.in_(list(languages)))
    return {language: count for language, count in await conn.execute(query)}


async def store_pool_size(engine: AsyncEngine, language: str, size: PoolSize) -> None:
    """Write the desired size of ``language``'s pool (creating its row if need be). The master notices
    within ``EXECUTIONER_POOLS_POLL_S``."""
    now = utcnow()
    stmt = _fixed(language, size, now) if isinstance(size, FixedSize) else _autoscaled(language, size, now)
    async with engine.begin() as conn:
        await conn.execute(stmt)


def _fixed(language: str, size: FixedSize, now: datetime) -> Insert:
    """A fixed size; the autoscaling bounds are cleared."""
    values = {"replicas": size.replicas, "min_replicas": None, "max_replicas": None, "autoscale": False}
    stmt = insert(pools).values(language=language, updated_at=now, **values)
    return stmt.on_duplicate_key_update(updated_at=now, **values)


def _autoscaled(language: str, size: Autoscaled, now: datetime) -> Insert:
    """Turn autoscaling on; the current size is kept when it lies within the new bounds, else moved to
    the nearest one, so the master acts on the bounds at once and the autoscaler goes on from there."""
    stmt = insert(pools).values(
        language=language,
        replicas=size.minimum,
        min_replicas=size.minimum,
        max_replicas=size.maximum,
        autoscale=True,
        updated_at=now,
    )
    return stmt.on_duplicate_key_update(
        replicas=sa.func.least(sa.func.greatest(pools.c.replicas, size.minimum), size.maximum),
        min_replicas=size.minimum,
        max_replicas=size.maximum,
        autoscale=True,
        updated_at=now,
    )
