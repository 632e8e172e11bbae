"""The resume policy both Python clients follow when a submission's stream drops (pure logic)."""

import httpx
import pytest

from executioner.errors import ExecutionerError
from executioner.models import StreamEvent
from executioner.wire import RECONNECT_DELAY_S, RECONNECTS, StreamCursor

pytestmark = pytest.mark.unit


def event(kind: str, event_id: int) -> StreamEvent:
    return StreamEvent(event=kind, id=event_id, data={})


def test_resumes_after_the_last_event_seen() -> None:
    cursor = StreamCursor("s1")
    assert cursor.headers() == {}
    assert cursor.path == "/api/v1/submissions/s1/events"
    assert cursor.seen(event("test", 3)) is False
    assert cursor.headers() == {"Last-Event-ID": "3"}
    assert cursor.seen(event("result", 4)) is True


def test_the_delay_doubles_and_an_event_resets_it() -> None:
    cursor = StreamCursor("s1", last_event_id=7)
    assert [cursor.resume_delay(None) for _ in range(3)] == [
        RECONNECT_DELAY_S,
        2 * RECONNECT_DELAY_S,
        4 * RECONNECT_DELAY_S,
    ]
    cursor.seen(event("test", 8))
    assert cursor.resume_delay(None) == RECONNECT_DELAY_S


def test_too_many_drops_in_a_row_raise_the_transport_error() -> None:
    cursor = StreamCursor("s1")
    error = httpx.ReadError("connection reset")
    for _ in range(RECONNECTS):
        cursor.resume_delay(error)
    with pytest.raises(httpx.ReadError):
        cursor.resume_delay(error)


def test_a_stream_that_keeps_ending_early_is_a_502() -> None:
    cursor = StreamCursor("s1")
    for _ in range(RECONNECTS):
        cursor.resume_delay(None)
    with pytest.raises(ExecutionerError) as raised:
        cursor.resume_delay(None)
    assert raised.value.status == 502
