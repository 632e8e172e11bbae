"""The SSE event sequence, driven by a real Broker and a stand-in for the MySQL re-read."""

from collections.abc import AsyncGenerator
from dataclasses import replace
from typing import Any
from uuid import UUID, uuid4

import orjson
import pytest
from sse_starlette import ServerSentEvent

from api.events.broker import Broker
from api.events.stream import recheck_delays, submission_events
from api.submissions.repository import SubmissionRow
from schemas import Status
from tests.api.support import finished_test, queued_row, running, single_run_result

pytestmark = pytest.mark.unit


def decode(frame: ServerSentEvent) -> tuple[str, int, Any]:
    return str(frame.event), int(str(frame.id)), orjson.loads(str(frame.data))


def stream_of(
    broker: Broker, row: SubmissionRow, *, last_event_id: int | None = None, reload: Any = None
) -> AsyncGenerator[ServerSentEvent, None]:
    sid = UUID(row.id)

    async def same_row() -> SubmissionRow:
        return row

    return submission_events(
        subscription=broker.subscribe(sid),
        row=row,
        recent=broker.recent_result(sid),
        last_event_id=last_event_id,
        reload=reload or same_row,
        recheck_s=0.05,
    )


async def test_result_that_went_by_just_before_subscribing_comes_from_memory() -> None:
    broker = Broker()
    sid = uuid4()
    broker.publish(single_run_result(sid, seq=2))

    received = [decode(f) async for f in stream_of(broker, queued_row(sid))]

    assert [(name, seq) for name, seq, _ in received] == [("result", 2)]
    assert received[0][2]["stdout"] == "42\n"
    assert broker.subscriber_count == 0, "the stream closed its subscription"


async def test_events_not_newer_than_last_event_id_are_skipped() -> None:
    broker = Broker()
    sid = uuid4()
    stream = stream_of(broker, replace(queued_row(sid), status=Status.RUNNING, last_seq=1), last_event_id=2)
    for event in (running(sid), finished_test(sid, 0), finished_test(sid, 1), single_run_result(sid, seq=4)):
        broker.publish(event)

    assert [decode(f)[:2] async for f in stream] == [("test", 3), ("result", 4)]


async def test_state_change_seen_only_in_mysql_is_streamed() -> None:
    broker = Broker()
    sid = uuid4()
    rows = [replace(queued_row(sid), status=Status.RUNNING, last_seq=1, worker="w")]

    async def reload() -> SubmissionRow:
        return rows[0]

    stream = stream_of(broker, queued_row(sid), reload=reload)
    assert decode(await anext(stream))[:2] == ("status", 0)
    assert decode(await anext(stream)) == ("status", 1, {"id": str(sid), "status": "running", "worker": "w"})
    await stream.aclose()
    assert broker.subscriber_count == 0


async def test_broker_shutdown_ends_the_stream() -> None:
    broker = Broker()
    stream = stream_of(broker, queued_row(uuid4()))
    assert decode(await anext(stream))[:2] == ("status", 0)
    broker.close()

    assert [f async for f in stream] == []


def test_a_waiting_stream_rereads_mysql_less_and_less_often() -> None:
    delays = recheck_delays(5.0, 60.0)
    assert [next(delays) for _ in range(7)] == [5.0, 10.0, 20.0, 40.0, 60.0, 60.0, 60.0]
