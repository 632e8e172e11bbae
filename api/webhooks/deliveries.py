"""The ``webhook_deliveries`` table: a row per submission sent with a ``callback_url``, inserted in the
submission's own transaction (so an accepted webhook is as durable as its submission), claimed by one
API replica at a time with a lease (as outbox rows are), and settled after each attempt."""

from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from api.db.leases import lease, seconds_from_now, unleased
from common.tables import submissions, webhook_deliveries

MAX_ERROR_CHARS = 500


class Shape(StrEnum):
    """Which API's view of the submission the webhook carries."""

    NATIVE = "native"
    """``GET /api/v1/submissions/{id}``'s JSON, POSTed."""
    JUDGE0 = "judge0"
    """Judge0's submission (its default fields, Base64), PUT as Judge0 does."""


class State(StrEnum):
    """Where a delivery stands."""

    PENDING = "pending"
    DELIVERED = "delivered"
    FAILED = "failed"


@dataclass(frozen=True, slots=True)
class Callback:
    """A submission's webhook, as accepted."""

    url: str
    shape: Shape


@dataclass(frozen=True, slots=True)
class Due:
    """A claimed delivery whose submission finished."""

    submission_id: str
    url: str
    shape: Shape
    attempts: int
    finished_at: datetime
    """When its submission finished: retries stop ``webhook_retry_for_s`` after it."""


async def insert_delivery(
    conn: AsyncConnection, submission_id: str, callback: Callback, now: datetime
) -> None:
    """The delivery row of a new submission, in the caller's transaction (the submission's)."""
    await conn.execute(
        webhook_deliveries.insert().values(
            submission_id=submission_id,
            url=callback.url,
            shape=callback.shape.value,
            state=State.PENDING.value,
            attempts=0,
            next_attempt_at=sa.func.now(6),  # due at once; scheduling runs on MySQL's clock throughout
            created_at=now,
        )
    )


async def claim_due(engine: AsyncEngine, owner: str, limit: int, lease_s: float) -> list[Due]:
    """Lease to ``owner`` up to ``limit`` pending deliveries that are due and whose submission has
    finished, oldest first; a replica that dies holding them leaves them to others when the lease ends."""
    finished_at = (
        sa.select(submissions.c.finished_at)
        .where(submissions.c.id == webhook_deliveries.c.submission_id)
        .scalar_subquery()
    )
    candidates = (
        sa.select(
            webhook_deliveries.c.submission_id,
            webhook_deliveries.c.url,
            webhook_deliveries.c.shape,
            webhook_deliveries.c.attempts,
            finished_at.label("finished_at"),
        )
        .where(
            webhook_deliveries.c.state == State.PENDING.value,
            webhook_deliveries.c.next_attempt_at <= sa.func.now(6),
            finished_at.is_not(None),
            unleased(webhook_deliveries),
        )
        .order_by(webhook_deliveries.c.next_attempt_at)
        .limit(limit)
    )
    # Only the deliveries are locked (a subquery, no join): the recorder keeps writing submissions.
    rows = await lease(engine, webhook_deliveries.c.submission_id, candidates, owner, lease_s)
    return [Due(row.submission_id, row.url, Shape(row.shape), row.attempts, row.finished_at) for row in rows]


async def settle(
    engine: AsyncEngine,
    submission_id: str,
    *,
    state: State,
    attempts: int,
    error: str | None,
    retry_in_s: float = 0.0,
) -> None:
    """Record an attempt: delivered, failed for good, or pending again in ``retry_in_s`` seconds."""
    values: dict[str, object] = {
        "state": state.value,
        "attempts": attempts,
        "last_error": None if error is None else error[:MAX_ERROR_CHARS],
        "claimed_by": None,
        "lease_until": None,
        "next_attempt_at": seconds_from_now(retry_in_s),
    }
    if state is not State.PENDING:
        values["finished_at"] = sa.func.now(6)
    async with engine.begin() as conn:
        await conn.execute(
            webhook_deliveries.update()
            .where(webhook_deliveries.c.submission_id == submission_id)
            .values(**values)
        )


def expired(due: Due, now: datetime, retry_for_s: float) -> bool:
    """Whether ``due`` has been retried for as long as it may be."""
    return now - due.finished_at > timedelta(seconds=retry_for_s)
