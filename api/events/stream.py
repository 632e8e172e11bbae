"""The SSE event sequence of one submission: current state first, then live events, until the result.

Event ids are the result events' ``seq`` (``queued`` 0, ``running`` 1, test *i* 2+*i*, ``result`` last),
so a client resuming with ``Last-Event-ID: n`` gets only what it has not seen. Every client sees every
test once, in order: a stream opened mid-run replays the tests recorded so far, then the live ones; a test
that went by before it subscribed and was not recorded yet is read back when the next one shows the gap,
or taken from the recorded outcome before the result. The ``result`` frame is the recorded row
(:mod:`api.events.source`), so GET agrees with it on every replica.
"""

import contextlib
import logging
import math
import random
import time
from collections.abc import AsyncGenerator, Iterable, Iterator, Mapping
from typing import Any, Protocol
from uuid import UUID

import orjson
from opentelemetry import trace
from sqlalchemy.exc import SQLAlchemyError
from sse_starlette import ServerSentEvent

from api.events.broker import Subscription
from api.events.source import StreamState
from api.results.progress import RecordedTest, finished_test_view
from api.submissions.repository import SubmissionRow
from api.submissions.views import submission_view
from schemas import Outcome, ResultEvent, Status, StatusEvent, TestEvent
from schemas.results import SEQ_QUEUED, SEQ_RUNNING, seq_for_test

log = logging.getLogger(__name__)
tracer = trace.get_tracer(__name__)

JITTER = 0.2
"""Each wait is drawn within ±20% of its nominal length: streams opened together do not re-read together."""


class Source(Protocol):
    """What a stream reads from (and records to) MySQL: :class:`api.events.source.SubmissionSource`."""

    async def state(self, submission_id: UUID, after: int) -> StreamState | None: ...

    async def tests(self, submission_id: UUID, after: int, before: int) -> list[RecordedTest]: ...

    async def finished(self, event: ResultEvent) -> SubmissionRow | None: ...


def _frame(name: str, seq: int, data: Mapping[str, Any]) -> ServerSentEvent:
    return ServerSentEvent(data=orjson.dumps(data).decode(), event=name, id=str(seq))


def _status_frame(row_id: str, status: Status, worker: str | None, seq: int) -> ServerSentEvent:
    return _frame("status", seq, {"id": row_id, "status": status.value, "worker": worker})


def _test_frames(tests: Iterable[RecordedTest], sent: int) -> Iterator[ServerSentEvent]:
    for test in tests:
        if test.seq > sent:
            yield _frame("test", test.seq, test.view)


def _state_frames(state: StreamState, sent: int) -> Iterator[ServerSentEvent]:
    """An unfinished submission's stored state: its status, then the tests it has finished."""
    row = state.row
    seq = SEQ_QUEUED if row.status is Status.QUEUED else SEQ_RUNNING
    if seq > sent:
        yield _status_frame(row.id, row.status, row.worker, seq)
    yield from _test_frames(state.tests, sent)


def _result_frames(row: SubmissionRow, sent: int, *, replay_tests: bool) -> Iterator[ServerSentEvent]:
    """A finished submission: with ``replay_tests``, the tests not sent yet (from its outcome); then
    ``result``, whose data is what GET /api/v1/submissions/{id} returns, without ``submitted``."""
    if replay_tests and row.outcome is not None:
        tests = Outcome.model_validate(row.outcome).tests
        recorded = (RecordedTest(seq_for_test(t.index), finished_test_view(t)) for t in tests)
        yield from _test_frames((t for t in recorded if t.seq < row.last_seq), sent)
    if row.last_seq > sent:
        yield _frame("result", row.last_seq, submission_view(row))


def _seq(frame: ServerSentEvent) -> int:
    return int(str(frame.id))


def recheck_delays(first_s: float, most_s: float) -> Iterator[float]:
    """The waits between a stream's re-reads of MySQL: ``first_s``, doubling, then ``most_s`` for ever.

    Why they grow: the re-read is only a safety net (the fan-out delivers results live), and at thousands
    of idle streams a fixed interval is thousands of queries a second that delay the live events."""
    delay = first_s
    while True:
        yield min(delay, most_s)
        delay *= 2


async def submission_events(
    *,
    subscription: Subscription,
    state: StreamState,
    recent: ResultEvent | None,
    last_event_id: int | None,
    source: Source,
    recheck_s: float,
    recheck_max_s: float | None = None,
    ping_s: float | None = None,
) -> AsyncGenerator[ServerSentEvent, None]:
    """Yield the submission's events the client has not seen; end after ``result``.

    ``subscription`` must have been taken *before* ``state`` was read, so no event falls between them;
    ``recent`` is the broker's memory of a result that may have gone by just before. The stream owns the
    subscription and closes it when it ends. While it waits it re-reads the submission after
    :func:`recheck_delays` (``recheck_s``, doubling up to ``recheck_max_s``, each with some jitter), and
    sends a ping comment every ``ping_s`` it has sent nothing (the stream's own timer: no task of its own).
    """
    sid = subscription.submission_id
    sent = -1 if last_event_id is None else last_event_id
    delays = recheck_delays(recheck_s, recheck_max_s or recheck_s)
    waits = _Waits(delays, ping_s)
    # A stream opened on a finished submission shows only the result (it holds every test); one that
    # follows the run shows each test, and before the result any it missed.
    following = state.row.status is not Status.FINISHED and recent is None
    # A resumed stream sends every event after the client's last, so the tests it missed come before
    # the result even when the run has finished meanwhile.
    replay_tests = following or last_event_id is not None
    final = None if state.row.status is Status.FINISHED else recent
    frames = None if following or final else _result_frames(state.row, sent, replay_tests=replay_tests)
    try:
        if following:
            for frame in _state_frames(state, sent):
                yield frame
                sent = _seq(frame)
        del state, recent  # a waiting stream holds no row: its spec carries any inline tests
        while frames is None:
            if final is not None:
                try:
                    row = await source.finished(final)
                except (SQLAlchemyError, OSError) as exc:
                    log.debug("stream of %s could not record its result yet: %s", sid, exc)
                else:
                    if row is None:
                        return
                    frames = _result_frames(row, sent, replay_tests=replay_tests)
                    break
            event = await subscription.next(waits.next_s())
            if event is None:
                if subscription.closed:
                    return  # shutting down
                if not waits.recheck_due():
                    yield PING  # it woke for the ping alone
                    waits.sent()
                    continue
                reread = await _reread(source, sid, sent, replay_tests=replay_tests)
                if reread is None:
                    return
                progress, frames = reread
                for frame in progress:
                    yield frame
                    sent = _seq(frame)
                continue
            if event.seq <= sent:
                continue
            if isinstance(event, ResultEvent):
                final = event
                continue
            for frame in await _live_frames(source, event, sent):
                yield frame
                sent = _seq(frame)
            waits.sent()
        for frame in frames:
            with _delivery(frame, subscription):
                yield frame  # resumed once the frame was written to the client
    finally:
        subscription.close()


async def _reread(
    source: Source, sid: UUID, sent: int, *, replay_tests: bool
) -> tuple[list[ServerSentEvent], Iterator[ServerSentEvent] | None] | None:
    """The safety net: a result recorded by another replica whose fan-out this one missed. The frames of
    what changed, and the result's frames once it is finished; None when the submission is gone."""
    try:
        fresh = await source.state(sid, sent)
    except (SQLAlchemyError, OSError) as exc:
        log.debug("stream of %s could not re-read MySQL: %s", sid, exc)
        return [], None  # MySQL is down for now; live events still arrive meanwhile
    if fresh is None:
        return None
    if fresh.row.status is Status.FINISHED:
        return [], _result_frames(fresh.row, sent, replay_tests=replay_tests)
    return list(_state_frames(fresh, sent)), None


PING = ServerSentEvent(comment="ping")
"""Keeps proxies from closing an idle stream; EventSource ignores comments."""


class _Waits:
    """How long a waiting stream sleeps: until its next MySQL re-read or its next ping, whichever is first.
    A re-read is due once its (jittered) delay has passed since the last one; a ping, ``ping_s`` after
    the last frame or ping."""

    def __init__(self, delays: Iterator[float], ping_s: float | None) -> None:
        self._delays, self._ping_s = delays, ping_s
        now = time.monotonic()
        self._recheck_at = now + self._jittered()
        self._ping_at = math.inf if ping_s is None else now + ping_s

    def _jittered(self) -> float:
        return next(self._delays) * random.uniform(1 - JITTER, 1 + JITTER)

    def next_s(self) -> float:
        """Seconds until the first of the two is due (0 when one already is)."""
        return max(0.0, min(self._recheck_at, self._ping_at) - time.monotonic())

    def recheck_due(self) -> bool:
        """Whether the re-read is due (then the next one is scheduled); if not, the wake was for a ping."""
        now = time.monotonic()
        if self._recheck_at > now:
            return False
        self._recheck_at = now + self._jittered()
        return True

    def sent(self) -> None:
        """A frame went out: no ping needed for another ``ping_s``."""
        if self._ping_s is not None:
            self._ping_at = time.monotonic() + self._ping_s


@contextlib.contextmanager
def _delivery(frame: ServerSentEvent, subscription: Subscription) -> Iterator[None]:
    """A span of sending the ``result`` frame, in its job's trace when the fan-out saw the result go by
    (none for other frames, nor for a result read from MySQL: there is no trace to add it to)."""
    parent = subscription.result_trace() if frame.event == "result" else None
    if parent is None:
        yield
        return
    span = tracer.start_span("SSE result delivery", context=parent, kind=trace.SpanKind.SERVER)
    span.set_attribute("executioner.submission_id", str(subscription.submission_id))
    try:
        yield
    finally:
        span.end()


async def _live_frames(source: Source, event: StatusEvent | TestEvent, sent: int) -> list[ServerSentEvent]:
    """The frames of a live event: a test's, after any tests between it and ``sent`` (they went by before
    the subscription and were not recorded yet when the stream read MySQL: read them again now)."""
    if isinstance(event, StatusEvent):
        return [_status_frame(str(event.id), event.status, event.worker, event.seq)]
    frames: list[ServerSentEvent] = []
    if event.seq > max(sent, SEQ_RUNNING) + 1:
        try:
            frames += _test_frames(await source.tests(event.id, sent, event.seq), sent)
        except (SQLAlchemyError, OSError) as exc:
            log.debug("stream of %s could not read the tests it missed: %s", event.id, exc)
    frames.append(_frame("test", event.seq, finished_test_view(event.test)))
    return frames
