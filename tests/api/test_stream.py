"""The SSE event sequence, driven by a real Broker and a stand-in for MySQL (rows, kept tests, recording)."""

import asyncio
from collections.abc import AsyncGenerator
from dataclasses import dataclass, field, replace
from typing import Any
from uuid import UUID, uuid4

import orjson
import pytest
from sse_starlette import ServerSentEvent

from api.events.broker import Broker
from api.events.source import StreamState
from api.events.stream import recheck_delays, submission_events
from api.results.progress import RecordedTest, finished_test_view
from api.submissions.repository import SubmissionRow
from schemas import ResultEvent, Status, Verdict
from tests.api.support import (
    finished_test,
    graded_result,
    queued_row,
    recorded_row,
    running,
    single_run_result,
)


@dataclass
class Stored:
    """MySQL as a stream sees it: one row, the tests kept for it, the results streams recorded."""

    row: SubmissionRow
    kept: list[RecordedTest] = field(default_factory=list)
    recorded: list[ResultEvent] = field(default_factory=list)

    async def state(self, submission_id: UUID, after: int) -> StreamState:
        running_now = self.row.status is Status.RUNNING
        return StreamState(self.row, [t for t in self.kept if t.seq > after] if running_now else [])

    async def tests(self, submission_id: UUID, after: int, before: int) -> list[RecordedTest]:
        return [t for t in self.kept if after < t.seq < before]

    async def finished(self, event: ResultEvent) -> SubmissionRow:
        self.recorded.append(event)
        if self.row.status is not Status.FINISHED:  # the first result recorded stays
            self.row, self.kept = recorded_row(self.row, event), []
        return self.row


def kept(sid: UUID, *indexes: int) -> list[RecordedTest]:
    return [RecordedTest(2 + i, finished_test_view(finished_test(sid, i).test)) for i in indexes]


pytestmark = pytest.mark.unit


def decode(frame: ServerSentEvent) -> tuple[str, int, Any]:
    return str(frame.event), int(str(frame.id)), orjson.loads(str(frame.data))


async def stream_of(
    broker: Broker,
    stored: Stored,
    *,
    last_event_id: int | None = None,
    recheck_s: float = 0.05,
    ping_s: float | None = None,
) -> AsyncGenerator[ServerSentEvent, None]:
    sid = UUID(stored.row.id)
    subscription = broker.subscribe(sid)
    state = await stored.state(sid, -1 if last_event_id is None else last_event_id)
    return submission_events(
        subscription=subscription,
        state=state,
        recent=broker.recent_result(sid),
        last_event_id=last_event_id,
        source=stored,
        recheck_s=recheck_s,
        ping_s=ping_s,
    )


def running_row(sid: UUID, last_seq: int) -> SubmissionRow:
    return replace(queued_row(sid), status=Status.RUNNING, last_seq=last_seq, worker="worker-a")


async def test_result_that_went_by_just_before_subscribing_is_recorded_then_shown() -> None:
    broker = Broker()
    sid = uuid4()
    stored = Stored(queued_row(sid))
    broker.publish(single_run_result(sid, seq=2))

    received = [decode(f) async for f in await stream_of(broker, stored)]

    assert [(name, seq) for name, seq, _ in received] == [("result", 2)]
    assert received[0][2]["stdout"] == "42\n"
    assert stored.recorded == [single_run_result(sid, seq=2)], "recorded before it was shown"
    assert broker.subscriber_count == 0, "the stream closed its subscription"


async def test_the_result_shown_is_the_recorded_one() -> None:
    broker = Broker()
    sid = uuid4()
    stored = Stored(recorded_row(running_row(sid, 1), single_run_result(sid, stdout="first run\n")))
    stored.row = replace(stored.row, status=Status.RUNNING)  # recorded, as far as this stream's read saw
    stream = await stream_of(broker, stored)
    stored.row = replace(stored.row, status=Status.FINISHED)
    # A second run of the job printed something else; MySQL kept the first.
    broker.publish(single_run_result(sid, stdout="second run\n"))

    frames = [decode(f) async for f in stream]

    assert frames[-1][0] == "result"
    assert frames[-1][2]["stdout"] == "first run\n"


async def test_a_stream_opened_mid_run_replays_the_kept_tests_then_follows() -> None:
    broker = Broker()
    sid = uuid4()
    stored = Stored(running_row(sid, 3), kept(sid, 0, 1))
    stream = await stream_of(broker, stored)
    for event in (finished_test(sid, 1), finished_test(sid, 2), graded_result(sid, [Verdict.ACCEPTED] * 3)):
        broker.publish(event)

    frames = [decode(f) async for f in stream]

    assert [(name, seq) for name, seq, _ in frames] == [
        ("status", 1),
        ("test", 2),
        ("test", 3),
        ("test", 4),
        ("result", 5),
    ]
    assert [data["index"] for name, _, data in frames if name == "test"] == [0, 1, 2]


async def test_resuming_mid_run_replays_only_the_tests_not_seen() -> None:
    broker = Broker()
    sid = uuid4()
    stored = Stored(running_row(sid, 4), kept(sid, 0, 1, 2))
    stream = await stream_of(broker, stored, last_event_id=2)
    broker.publish(graded_result(sid, [Verdict.ACCEPTED] * 3))

    assert [decode(f)[:2] async for f in stream] == [("test", 3), ("test", 4), ("result", 5)]


async def test_a_test_missed_between_subscribing_and_recording_is_read_back() -> None:
    broker = Broker()
    sid = uuid4()
    stored = Stored(running_row(sid, 2), kept(sid, 0))
    stream = await stream_of(broker, stored)
    assert [decode(await anext(stream))[:2] for _ in range(2)] == [("status", 1), ("test", 2)]
    # Test 1 went by before the subscription; the recorder stores it only now.
    stored.kept += kept(sid, 1)
    broker.publish(finished_test(sid, 2))
    broker.publish(graded_result(sid, [Verdict.ACCEPTED] * 3))

    assert [decode(f)[:2] async for f in stream] == [("test", 3), ("test", 4), ("result", 5)]


async def test_tests_missed_before_the_result_come_from_the_recorded_outcome() -> None:
    broker = Broker()
    sid = uuid4()
    stream = await stream_of(broker, Stored(running_row(sid, 1)))
    assert decode(await anext(stream))[:2] == ("status", 1)
    broker.publish(graded_result(sid, [Verdict.ACCEPTED, Verdict.WRONG_ANSWER]))

    frames = [decode(f) async for f in stream]

    assert [(name, seq) for name, seq, _ in frames] == [("test", 2), ("test", 3), ("result", 4)]
    assert frames[1][2] == finished_test_view(finished_test(sid, 1, Verdict.WRONG_ANSWER).test)


async def test_a_finished_submission_streams_only_its_result() -> None:
    broker = Broker()
    sid = uuid4()
    stored = Stored(recorded_row(queued_row(sid), graded_result(sid, [Verdict.ACCEPTED] * 2)))

    assert [decode(f)[:2] async for f in await stream_of(broker, stored)] == [("result", 4)]


async def test_events_not_newer_than_last_event_id_are_skipped() -> None:
    broker = Broker()
    sid = uuid4()
    stream = await stream_of(broker, Stored(running_row(sid, 1)), last_event_id=2)
    for event in (running(sid), finished_test(sid, 0), finished_test(sid, 1), single_run_result(sid, seq=4)):
        broker.publish(event)

    assert [decode(f)[:2] async for f in stream] == [("test", 3), ("result", 4)]


async def test_state_change_seen_only_in_mysql_is_streamed() -> None:
    broker = Broker()
    sid = uuid4()
    stored = Stored(queued_row(sid))
    stream = await stream_of(broker, stored)
    assert decode(await anext(stream))[:2] == ("status", 0)
    stored.row = replace(running_row(sid, 1), worker="w")
    assert decode(await anext(stream)) == ("status", 1, {"id": str(sid), "status": "running", "worker": "w"})
    await stream.aclose()
    assert broker.subscriber_count == 0


async def test_broker_shutdown_ends_the_stream() -> None:
    broker = Broker()
    stream = await stream_of(broker, Stored(queued_row(uuid4())))
    assert decode(await anext(stream))[:2] == ("status", 0)
    broker.close()

    assert [f async for f in stream] == []


async def test_an_idle_stream_pings_between_its_rereads_and_a_live_event_puts_the_ping_off() -> None:
    broker = Broker()
    sid = uuid4()
    stored = Stored(queued_row(sid))
    stream = await stream_of(broker, stored, recheck_s=3600, ping_s=0.05)
    assert decode(await anext(stream))[:2] == ("status", 0)
    assert [(await anext(stream)).comment for _ in range(3)] == ["ping"] * 3
    # The live event comes first: it was there before the next ping was due.
    broker.publish(running(sid))
    assert decode(await anext(stream))[:2] == ("status", 1)
    stored.row = recorded_row(running_row(sid, 1), single_run_result(sid, seq=2))
    broker.publish(single_run_result(sid, seq=2))
    assert [f.event async for f in stream] == ["result"]


def test_a_waiting_stream_starts_no_task_of_its_own() -> None:
    # Thousands of idle streams each wait here: a timer handle, not a task (and its frame) per wait.
    # On a loop of its own: the tests' shared loop runs other tests' Kafka clients, which start tasks.
    async def wait_then_close() -> None:
        broker = Broker()
        subscription = broker.subscribe(uuid4())
        before = asyncio.all_tasks()
        waiting = asyncio.ensure_future(subscription.next(3600))
        await asyncio.sleep(0)
        assert asyncio.all_tasks() - before == {waiting}  # the one this test started, nothing under it
        subscription.close()
        assert await waiting is None
        assert subscription.closed

    asyncio.run(wait_then_close())


async def test_resuming_a_finished_submission_sends_the_tests_missed_then_the_result() -> None:
    broker = Broker()
    sid = uuid4()
    stored = Stored(recorded_row(running_row(sid, 2), graded_result(sid, [Verdict.ACCEPTED] * 3)))
    resumed = await stream_of(broker, stored, last_event_id=2)  # the client saw test 0
    assert [decode(f)[:2] async for f in resumed] == [("test", 3), ("test", 4), ("result", 5)]
    opened = await stream_of(broker, stored)  # a new client: the result holds every test
    assert [decode(f)[:2] async for f in opened] == [("result", 5)]


def test_a_waiting_stream_rereads_mysql_less_and_less_often() -> None:
    delays = recheck_delays(5.0, 60.0)
    assert [next(delays) for _ in range(7)] == [5.0, 10.0, 20.0, 40.0, 60.0, 60.0, 60.0]
