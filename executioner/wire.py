"""What both clients share: the requests' paths, headers and bodies, and reading an SSE event."""

from dataclasses import dataclass
from typing import Any

import httpx
import orjson
from httpx_sse import ServerSentEvent

from executioner.errors import ExecutionerError
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


def stream_event(sse: ServerSentEvent) -> StreamEvent | None:
    """The event, or None for what carries none (httpx-sse yields an empty one after a keep-alive)."""
    if not sse.data:
        return None
    return StreamEvent(event=sse.event, id=int(sse.id), data=orjson.loads(sse.data))


@dataclass(slots=True)
class StreamCursor:
    """Where a submission's stream stands, and the resume policy both clients follow: reconnect after
    the last event seen, with a doubling delay, until :data:`RECONNECTS` drops in a row."""

    submission_id: str
    last_event_id: int | None = None
    dropped: int = 0

    @property
    def path(self) -> str:
        return f"{SUBMISSIONS}/{self.submission_id}/events"

    def headers(self) -> dict[str, str]:
        """``Last-Event-ID`` when resuming after the event with that id."""
        return {} if self.last_event_id is None else {"Last-Event-ID": str(self.last_event_id)}

    def seen(self, event: StreamEvent) -> bool:
        """Record ``event``; True when it is the last one (the result)."""
        self.dropped, self.last_event_id = 0, event.id
        return event.event == "result"

    def resume_delay(self, error: httpx.TransportError | None) -> float:
        """The wait before reconnecting after the stream dropped (``error``) or ended before its result
        (None: the API replica went away); raises once it has dropped too often in a row."""
        if self.dropped >= RECONNECTS:
            if error is not None:
                raise error
            raise ExecutionerError(502, f"the stream of {self.submission_id} kept ending before its result")
        self.dropped += 1
        return float(RECONNECT_DELAY_S * 2 ** (self.dropped - 1))
