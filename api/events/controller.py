"""``GET /api/v1/submissions/{id}/events``: a submission's live events as Server-Sent Events."""

from typing import Annotated

from litestar import get
from litestar.di import NamedDependency
from litestar.openapi import ResponseSpec
from litestar.params import FromPath, HeaderParameter
from sse_starlette import EventSourceResponse
from starlette.background import BackgroundTask
from starlette.responses import Response as StarletteResponse

from api.events.stream import submission_events
from api.keys.guard import route_opt
from api.lib.errors import documented_errors, not_found
from api.lib.numbers import INT32_MAX, parse_whole_number
from api.lib.openapi import KEY_SECURITY
from api.metrics.instruments import counted_stream
from api.services import Services
from api.submissions.requests import parse_submission_id
from schemas import Status


def _event_id(header: str | None) -> int | None:
    # A malformed Last-Event-ID is treated as absent: the client gets the full stream, which is what an
    # EventSource without an id would get too.
    return None if header is None else parse_whole_number(header, INT32_MAX)


@get(
    "/api/v1/submissions/{submission_id:str}/events",
    name="submission-events",
    media_type="text/event-stream",
    tags=["submissions"],
    summary="Live events of a submission (SSE)",
    responses={
        200: ResponseSpec(
            str,
            media_type="text/event-stream",
            description="Server-Sent Events (status, test, result), each `data` a JSON object.",
            generate_examples=False,
        ),
        **documented_errors({400: "Invalid request.", 404: "No such submission."}),
    },
    security=KEY_SECURITY,
    opt=route_opt("read", owned="submission_id", shared=True),
)
async def stream_submission_events(
    submission_id: FromPath[str],
    services: NamedDependency[Services],
    last_event_id: Annotated[str | None, HeaderParameter(name="Last-Event-ID", required=False)] = None,
) -> StarletteResponse:
    """Server-Sent Events: ``status`` (the current state first), ``test`` per finished test (those
    finished before the stream opened first, in order), and ``result`` (data = ``GET
    /api/v1/submissions/{id}`` without ``submitted``, as recorded), after which the stream ends. Event
    ids are sequence numbers; reconnecting with ``Last-Event-ID`` skips what was seen. 204 when the
    submission is finished and the client has seen its result (EventSource then stops reconnecting)."""
    sid = parse_submission_id(submission_id)
    resume_after = _event_id(last_event_id)
    # Subscribe before reading the row: an event published in between is queued, not lost.
    subscription = services.broker.subscribe(sid)
    try:
        state = await services.source.state(sid, after=-1 if resume_after is None else resume_after)
    except BaseException:
        subscription.close()
        raise
    if state is None:
        subscription.close()
        raise not_found("submission")
    row = state.row
    if row.status is Status.FINISHED and resume_after is not None and resume_after >= row.last_seq:
        subscription.close()
        return StarletteResponse(status_code=204)
    events = submission_events(
        subscription=subscription,
        state=state,
        recent=services.broker.recent_result(sid),
        last_event_id=resume_after,
        source=services.source,
        recheck_s=services.settings.sse_recheck_s,
        recheck_max_s=services.settings.sse_recheck_max_s,
        ping_s=services.settings.sse_ping_s,
    )
    # Per idle stream this keeps sse-starlette's tasks to three (the stream, the client's disconnect, the
    # server's shutdown): pings come from the stream's own wait, not a task. On shutdown the stream is
    # ended at once, cleanly (its closing chunk sent); the client reconnects, to another replica.
    return EventSourceResponse(
        counted_stream(events),
        ping=0,
        shutdown_grace_period=0,
        # Covers a stream that never started iterating (its own finally would not run then).
        background=BackgroundTask(subscription.close),
    )
