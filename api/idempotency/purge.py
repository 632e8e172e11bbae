"""The background task that deletes idempotency keys older than their time to live, in batches (one short
transaction each, so the purge never holds many row locks or a long transaction)."""

import asyncio
import logging
from datetime import timedelta

from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncEngine

from api.db.batched import delete_in_batches
from api.lib.clock import utcnow
from common.tables import idempotency_keys

log = logging.getLogger(__name__)


async def purge_expired(engine: AsyncEngine, *, ttl_s: float, batch: int) -> int:
    """Delete every key older than ``ttl_s``, ``batch`` rows per transaction; returns how many."""
    cutoff = utcnow() - timedelta(seconds=ttl_s)
    expired = idempotency_keys.delete().where(idempotency_keys.c.created_at < cutoff)
    return await delete_in_batches(engine, expired, batch)


async def purge_forever(engine: AsyncEngine, *, ttl_s: float, batch: int, interval_s: float) -> None:
    """Purge every ``interval_s`` seconds until cancelled; a MySQL outage only delays the next purge."""
    while True:
        try:
            deleted = await purge_expired(engine, ttl_s=ttl_s, batch=batch)
        except (SQLAlchemyError, OSError) as exc:
            log.warning("purging expired idempotency keys failed (%s); trying again later", exc)
        else:
            if deleted:
                log.info("purged %d expired idempotency keys", deleted)
        await asyncio.sleep(interval_s)
