"""Jobs the outbox can never publish: finish their submissions with ``internal_error``.

That is our failure, not the user's program's, so the verdict says so and the message explains.
"""

import logging

import orjson
from sqlalchemy.ext.asyncio import AsyncConnection

from api.db.tables import submissions
from api.lib.clock import utcnow
from schemas import DecodeError, Outcome, Status, Verdict, decode_job

log = logging.getLogger(__name__)


async def fail_unpublishable(conn: AsyncConnection, payload: bytes, message: str) -> None:
    """Mark the submission whose job is ``payload`` finished with ``internal_error``."""
    try:
        job = decode_job(payload)
    except DecodeError as exc:
        log.error("an outbox payload is not a job (%s); nothing to mark", exc.reason)
        return
    outcome = Outcome(verdict=Verdict.INTERNAL_ERROR, limits=job.limits.effective(), message=message)
    await conn.execute(
        submissions.update()
        .where(submissions.c.id == str(job.id), submissions.c.status != Status.FINISHED.value)
        .values(
            status=Status.FINISHED.value,
            verdict=Verdict.INTERNAL_ERROR.value,
            outcome=orjson.dumps(outcome.model_dump(mode="json")).decode(),
            finished_at=utcnow(),
            # The result's seq is one more than the last event before it (queued, 0).
            last_seq=submissions.c.last_seq + 1,
        )
    )
