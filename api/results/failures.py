"""Finishing a submission we could not run with ``internal_error``: our failure, not the user's program's,
so the verdict says so and the message explains (a job the outbox can never publish, a job workers
dead-lettered)."""

import orjson
from sqlalchemy.ext.asyncio import AsyncConnection

from api.lib.clock import utcnow
from api.results.progress import forget_tests
from common.tables import submissions
from schemas import JobMessage, Outcome, Status, Verdict

_c = submissions.c


async def finish_with_internal_error(conn: AsyncConnection, job: JobMessage, message: str) -> None:
    """Mark ``job``'s submission finished with ``internal_error``, unless it is finished already. Only a
    row of the job's language is touched: a job sent to the wrong topic with a taken id is not its row."""
    outcome = Outcome(verdict=Verdict.INTERNAL_ERROR, limits=job.limits.effective(), message=message)
    finished = await conn.execute(
        submissions.update()
        .where(_c.id == str(job.id), _c.language == job.language, _c.status != Status.FINISHED.value)
        .values(
            status=Status.FINISHED.value,
            verdict=Verdict.INTERNAL_ERROR.value,
            outcome=orjson.dumps(outcome.model_dump(mode="json")).decode(),
            finished_at=utcnow(),
            # The result's seq is one more than the last event recorded before it.
            last_seq=_c.last_seq + 1,
        )
    )
    if finished.rowcount:
        await forget_tests(conn, job.id)
