"""Waiting, for a bounded time, until a submission has finished: the synchronous requests (the native
and Judge0's ``wait=true``, Piston's ``execute``).

Like an SSE stream, it subscribes to the fan-out *before* reading MySQL, so a result cannot slip between
the two; a result seen live is recorded first (:meth:`SubmissionSource.finished`), so what the client
gets is what every later GET returns. MySQL is re-read every ``recheck_s`` in case another replica saw
the result.
"""

import asyncio
from uuid import UUID

from sqlalchemy.ext.asyncio import AsyncEngine

from api.events.broker import Broker
from api.events.source import SubmissionSource
from api.submissions.repository import SubmissionRow, fetch_submission
from schemas import ResultEvent, Status


async def wait_for_result(
    *,
    engine: AsyncEngine,
    broker: Broker,
    source: SubmissionSource,
    submission_id: UUID,
    timeout_s: float,
    recheck_s: float = 5.0,
) -> SubmissionRow | None:
    """The submission's row once finished, or as it is after ``timeout_s`` (or at shutdown); None when
    there is no such submission."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout_s
    subscription = broker.subscribe(submission_id)
    try:
        row = await fetch_submission(engine, submission_id)
        final = broker.recent_result(submission_id)
        while row is not None and row.status is not Status.FINISHED:
            if final is not None:
                row = await source.finished(final)
                final = None
                continue
            remaining = deadline - loop.time()
            if remaining <= 0:
                break
            event = await subscription.next(min(remaining, recheck_s))
            if isinstance(event, ResultEvent):
                final = event
            elif event is None:
                if subscription.closed:
                    break
                row = await fetch_submission(engine, submission_id)
        return row
    finally:
        subscription.close()
