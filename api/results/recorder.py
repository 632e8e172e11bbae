"""The results recorder: the API replicas' shared consumer group on ``results``, writing to MySQL.

Offsets are committed after the batch's MySQL transaction (:mod:`api.lib.consumer`), so a crash between
the two only replays events, and replaying is harmless (:mod:`api.results.apply`).
"""

import asyncio
import logging
import time
from collections.abc import Collection
from dataclasses import dataclass

from opentelemetry import trace
from opentelemetry.context import Context
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from api.lib.consumer import AfterCommit, MySQLConsumer, Record, record_position
from api.metrics.instruments import counting, observe_written, results_recorded
from api.results.apply import ResultMessage, apply_events
from common.tracing import context_from_kafka, is_traced
from schemas import DecodeError, ResultEvent, decode_result

log = logging.getLogger(__name__)
tracer = trace.get_tracer(__name__)


@dataclass(frozen=True, slots=True)
class TracedEvent:
    """A result event and the trace context of its record (the worker's result publish)."""

    message: ResultMessage
    context: Context


class ResultEvents:
    """The recorder's :class:`~api.lib.consumer.Sink`: result events, applied to ``submissions``;
    ``languages`` are the runtime ids a result may be counted under by its own ``language``."""

    def __init__(self, languages: Collection[str]) -> None:
        self._languages = frozenset(languages)

    def prepare(self, records: list[Record]) -> list[TracedEvent]:
        """The decodable result events of ``records``."""
        events: list[TracedEvent] = []
        for record in records:
            try:
                events.append(
                    TracedEvent(decode_result(record.value or b""), context_from_kafka(record.headers))
                )
            except DecodeError as exc:
                # Not ours to dead-letter: a producer outside the API wrote it. Log and move on.
                log.error("skipping undecodable result at %s: %s", record_position(record), exc.reason)
        return events

    async def write(self, conn: AsyncConnection, items: list[TracedEvent]) -> AfterCommit:
        """Apply the events, each submission's in order, in the order of their ids: the order the
        streams' batches lock rows in (:mod:`api.events.source`), so the two never deadlock. A traced
        ``result`` gets a span of the write in its job's trace."""
        started = time.time_ns()
        messages = sorted((item.message for item in items), key=lambda message: str(message.id))
        recorded = await apply_events(conn, messages, languages=self._languages)
        for item in items:
            if isinstance(item.message, ResultEvent) and is_traced(item.context):
                span = tracer.start_span(
                    "record result", context=item.context, kind=trace.SpanKind.CONSUMER, start_time=started
                )
                span.set_attribute("executioner.submission_id", str(item.message.id))
                span.end()
        return counting(results_recorded, recorded)

    def describe(self, item: TracedEvent) -> str:
        """``<event> <id> seq <n>``."""
        return f"result event {item.message.event} {item.message.id} seq {item.message.seq}"


def results_recorder(
    *,
    engine: AsyncEngine,
    bootstrap: str,
    topic: str,
    group_id: str,
    topics_ready: asyncio.Event,
    languages: Collection[str],
    fetch_wait_ms: int = 0,
) -> MySQLConsumer[TracedEvent]:
    """Consumes ``results`` in the recorder group and applies every event to MySQL (``languages``: the
    runtime ids of this cluster)."""
    return MySQLConsumer(
        name="recorder",
        sink=ResultEvents(languages),
        engine=engine,
        bootstrap=bootstrap,
        topics=[topic],
        group_id=group_id,
        topics_ready=topics_ready,
        on_written=observe_written,
        fetch_wait_ms=fetch_wait_ms,
    )
