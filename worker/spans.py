"""The worker's spans of one job, in the trace its record's ``traceparent`` header names (a new trace when
it has none): consuming it, compiling, each test, publishing its result.

Compiling and the tests run in a pool process, which exports nothing (it loads no client of any kind);
their spans are made here, in the worker's main process, from the wall times the pool process reports,
ending when the report arrived.
"""

import contextlib
import time
from collections.abc import Iterator

from opentelemetry import trace

from common.tracing import context_from_kafka
from schemas.results import RunReport
from worker.job_start import JobRecord

tracer = trace.get_tracer(__name__)


@contextlib.contextmanager
def consuming(record: JobRecord) -> Iterator[trace.Span]:
    """The span of handling ``record`` from fetch to acknowledged result, current within the block."""
    with tracer.start_as_current_span(
        f"consume {record.topic}",
        context=context_from_kafka(record.headers),
        kind=trace.SpanKind.CONSUMER,
        attributes={
            "messaging.system": "kafka",
            "messaging.destination.name": record.topic,
            "messaging.destination.partition.id": str(record.partition),
            "messaging.kafka.offset": record.offset,
        },
    ) as span:
        yield span


def publishing_result() -> contextlib.AbstractContextManager[trace.Span]:
    """The span of publishing a job's ``result`` event, current within the block (so the event's
    headers carry it, and the API's recorder and SSE delivery continue from it)."""
    return tracer.start_as_current_span("publish result", kind=trace.SpanKind.PRODUCER)


def record_run(name: str, report: RunReport, *, started_ns: int | None = None) -> None:
    """A finished span ``name`` for one run of the compiler or the program: from ``started_ns`` (default:
    its wall time before now) for its wall time, with its verdict."""
    now = time.time_ns()
    wall_ns = report.wall_ms * 1_000_000
    start = now - wall_ns if started_ns is None else started_ns
    span = tracer.start_span(name, start_time=start)
    span.set_attributes({"executioner.verdict": report.verdict.value, "executioner.wall_ms": report.wall_ms})
    span.end(end_time=min(now, start + wall_ns))
