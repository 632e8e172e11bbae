"""The SSE event sequence of one submission: current state first, then live events, until the result.

Event ids are the result events' ``seq`` (``queued`` 0, ``running`` 1, test *i* 2+*i*, ``result`` last),
so a client resuming with ``Last-Event-ID: n`` gets only what it has not seen.
"""

import logging
import random
from collections.abc import AsyncGenerator, Awaitable, Callable, Iterator
from typing import Any

import orjson
from sqlalchemy.exc import SQLAlchemyError
from sse_starlette import ServerSentEvent

from api.events.broker import ResultMessage, Subscription
from api.submissions.repository import SubmissionRow
from api.submissions.views import submission_view
from schemas import ResultEvent, Status, StatusEvent
from schemas.results import SEQ_QUEUED, SEQ_RUNNING

log = logging.getLogger(__name__)

Reload = Callable[[], Awaitable[SubmissionRow | None]]
JITTER = 0.2
"""Each wait is drawn within ±20% of its nominal length: streams opened together do not re-read together."""


def _frame(name: str, seq: int, data: dict[str, Any]) -> ServerSentEvent:
    return ServerSentEvent(data=orjson.dumps(data).decode(), event=name, id=str(seq))


def _status_frame(row: SubmissionRow, seq: int) -> ServerSentEvent:
    return _frame("status", seq, {"id": row.id, "status": row.status.value, "worker": row.worker})


def _result_frame(row: SubmissionRow, final: ResultEvent | None = None) -> ServerSentEvent:
    """``result``: data is what GET /api/v1/submissions/{id} returns once recorded, without ``submitted``."""
    return _frame("result", final.seq if final else row.last_seq, submission_view(row, final))


def _live_frame(row: SubmissionRow, event: ResultMessage) -> ServerSentEvent:
    if isinstance(event, ResultEvent):
        return _result_frame(row, event)
    if isinstance(event, StatusEvent):
        return _frame(
            "status", event.seq, {"id": row.id, "status": event.status.value, "worker": event.worker}
        )
    test = event.test
    data = {
        "index": test.index,
        "verdict": test.verdict.value,
        "time_ms": test.time_ms,
        "memory_kb": test.memory_kb,
    }
    return _frame("test", event.seq, data)


def recheck_delays(first_s: float, most_s: float) -> Iterator[float]:
    """The waits between a stream's re-reads of MySQL: ``first_s``, doubling, then ``most_s`` for ever.

    Why they grow: the re-read is only a safety net (the fan-out delivers results live), and at thousands
    of idle streams a fixed interval is thousands of queries a second that delay the live events."""
    delay = first_s
    while True:
        yield min(delay, most_s)
        delay *= 2


def _state_seq(row: SubmissionRow) -> int:
    """The seq the stored state corresponds to."""
    return SEQ_QUEUED if row.status is Status.QUEUED else max(row.last_seq, SEQ_RUNNING)


async def submission_events(
    *,
    subscription: Subscription,
    row: SubmissionRow,
    recent: ResultEvent | None,
    last_event_id: int | None,
    reload: Reload,
    recheck_s: float,
    recheck_max_s: float | None = None,
) -> AsyncGenerator[ServerSentEvent, None]:
    """Yield the submission's events the client has not seen; end after ``result``.

    ``subscription`` must have been taken *before* ``row`` was read, so no event falls between them;
    ``recent`` is the broker's memory of a result that may have gone by just before. The stream owns the
    subscription and closes it when it ends. While it waits it re-reads the submission after
    :func:`recheck_delays` (``recheck_s``, doubling up to ``recheck_max_s``, each with some jitter).
    """
    sent = -1 if last_event_id is None else last_event_id
    delays = recheck_delays(recheck_s, recheck_max_s or recheck_s)
    try:
        if row.status is Status.FINISHED:
            if row.last_seq > sent:
                yield _result_frame(row)
            return
        if recent is not None:
            if recent.seq > sent:
                yield _result_frame(row, recent)
            return
        if (seq := _state_seq(row)) > sent:
            yield _status_frame(row, seq)
            sent = seq
        while True:
            event = await subscription.next(next(delays) * random.uniform(1 - JITTER, 1 + JITTER))
            if event is None:
                if subscription.closed:
                    return  # shutting down
                # Safety net: a result recorded by another replica whose fan-out this one missed.
                try:
                    fresh = await reload()
                except (SQLAlchemyError, OSError) as exc:
                    log.debug("stream of %s could not re-read MySQL: %s", row.id, exc)
                    continue  # MySQL is down for now; live events still arrive meanwhile
                if fresh is None:
                    return
                row = fresh
                if row.status is Status.FINISHED:
                    if row.last_seq > sent:
                        yield _result_frame(row)
                    return
                if (seq := _state_seq(row)) > sent:
                    yield _status_frame(row, seq)
                    sent = seq
                continue
            if event.seq <= sent:
                continue
            yield _live_frame(row, event)
            sent = event.seq
            if isinstance(event, ResultEvent):
                return
    finally:
        subscription.close()
