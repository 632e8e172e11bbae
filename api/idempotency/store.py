"""Idempotency keys in MySQL, so they hold across API replicas and restarts.

A key's row is inserted in the transaction that inserts its submission (and before it): the two commit
together or not at all. A second request with the key finds the row, or, while the first request's
transaction is still open, waits on the row's lock; when that takes longer than the configured wait it is
answered 409 rather than held.
"""

from datetime import datetime, timedelta
from uuid import UUID

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError, OperationalError
from sqlalchemy.ext.asyncio import AsyncConnection

from api.idempotency.keys import HEADER, KeyClaim
from api.lib.errors import ApiError
from common.tables import idempotency_keys

_LOCK_WAIT_TIMEOUT = 1205
_DEADLOCK = 1213


def _in_use() -> ApiError:
    return ApiError(
        409,
        "idempotency_key_in_use",
        f"a request with this {HEADER} is still being processed; retry it in a moment",
        HEADER,
    )


def _reused() -> ApiError:
    return ApiError(
        422,
        "idempotency_key_reused",
        f"this {HEADER} was used for a different submission; use a new key for a new submission",
        HEADER,
    )


def _mysql_code(exc: OperationalError) -> int | None:
    args = getattr(exc.orig, "args", ())
    return args[0] if args and isinstance(args[0], int) else None


async def claim_key(
    conn: AsyncConnection,
    claim: KeyClaim,
    submission_id: UUID,
    *,
    now: datetime,
    ttl_s: float,
    wait_s: int,
) -> UUID | None:
    """Record ``claim`` for the new submission ``submission_id`` inside the caller's transaction.

    Returns None when the key is new (or had expired): the caller goes on to insert the submission.
    Returns the earlier submission's id when the key was used for the same request within ``ttl_s``.
    Raises 422 when it was used for another request, 409 when its first request has not committed
    within ``wait_s`` seconds.
    """
    try:
        # innodb_lock_wait_timeout bounds how long the INSERT waits for a concurrent request's open
        # transaction on the same key; set for this statement only, the connection goes back to a pool.
        await conn.execute(sa.text("SET SESSION innodb_lock_wait_timeout = :s"), {"s": wait_s})
        try:
            # A duplicate key undoes only this statement (InnoDB), not the caller's transaction.
            await conn.execute(
                idempotency_keys.insert().values(
                    key_hash=claim.key_hash,
                    fingerprint=claim.fingerprint,
                    submission_id=str(submission_id),
                    created_at=now,
                )
            )
            return None
        except IntegrityError:
            pass  # the key exists: a replay, a misuse or an expired key
        # A locking read sees the committed row whatever this transaction's snapshot is.
        query = (
            sa.select(
                idempotency_keys.c.fingerprint,
                idempotency_keys.c.submission_id,
                idempotency_keys.c.created_at,
            )
            .where(idempotency_keys.c.key_hash == claim.key_hash)
            .with_for_update(read=True)
        )
        row = (await conn.execute(query)).one()
        if row.created_at < now - timedelta(seconds=ttl_s):
            # Expired, not purged yet: the key is free again.
            await conn.execute(
                idempotency_keys.update()
                .where(idempotency_keys.c.key_hash == claim.key_hash)
                .values(fingerprint=claim.fingerprint, submission_id=str(submission_id), created_at=now)
            )
            return None
        if row.fingerprint != claim.fingerprint:
            raise _reused()
        return UUID(row.submission_id)
    except OperationalError as exc:
        if _mysql_code(exc) in (_LOCK_WAIT_TIMEOUT, _DEADLOCK):
            raise _in_use() from None
        raise
    finally:
        await conn.execute(sa.text("SET SESSION innodb_lock_wait_timeout = DEFAULT"))
