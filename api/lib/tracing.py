"""The span of an HTTP request that starts a submission's trace (or continues the caller's, when the
request carries a W3C ``traceparent``)."""

import contextlib
from collections.abc import Iterator, Mapping

from opentelemetry import trace

from common.tracing import context_from_http

tracer = trace.get_tracer(__name__)


@contextlib.contextmanager
def request_span(name: str, headers: Mapping[str, str]) -> Iterator[trace.Span]:
    """A server span ``name`` (``POST /api/v1/submissions``), current within the block: the outbox row
    stored in it records it, so the job's trace starts here."""
    with tracer.start_as_current_span(
        name, context=context_from_http(headers), kind=trace.SpanKind.SERVER
    ) as span:
        yield span
