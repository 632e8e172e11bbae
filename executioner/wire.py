"""What both clients share: the requests' paths, headers and bodies, and reading an SSE event."""

from typing import Any

import orjson
from httpx_sse import ServerSentEvent

from executioner.models import StreamEvent

SUBMISSIONS = "/api/v1/submissions"
RECONNECTS = 5
"""How many times in a row a stream is resumed after its connection drops before the error is raised."""
RECONNECT_DELAY_S = 0.5
"""The wait before the first resume; it doubles for each further one in a row."""


def auth_headers(key: str | None) -> dict[str, str]:
    """A submitter key as a bearer token (none: the API runs with keys off)."""
    return {"Authorization": f"Bearer {key}"} if key else {}


def submission_body(language: str, source: str, fields: dict[str, Any]) -> dict[str, Any]:
    """``POST /api/v1/submissions``'s JSON: the language and source, plus any other field of the API
    (``stdin``, ``tests``, ``limits``, ``args``, ``files``...) passed as is (the API validates them)."""
    return {"language": language, "source": source, **fields}


def stream_headers(last_event_id: int | None) -> dict[str, str]:
    """``Last-Event-ID`` when resuming after the event with that id."""
    return {} if last_event_id is None else {"Last-Event-ID": str(last_event_id)}


def stream_event(sse: ServerSentEvent) -> StreamEvent | None:
    """The event, or None for what carries none (httpx-sse yields an empty one after a keep-alive)."""
    if not sse.data:
        return None
    return StreamEvent(event=sse.event, id=int(sse.id), data=orjson.loads(sse.data))
