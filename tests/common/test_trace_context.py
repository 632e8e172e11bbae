"""The W3C trace context over Kafka headers and outbox rows (common/tracing.py): what a batch grader
writes is what the worker reads, and nothing else is taken for it."""

import pytest
from opentelemetry import trace
from opentelemetry.trace import NonRecordingSpan, SpanContext, TraceFlags

from common.tracing import (
    context_from_http,
    context_from_kafka,
    context_from_traceparent,
    current_traceparent,
    is_traced,
    kafka_headers,
    traces_url,
)

pytestmark = pytest.mark.unit

TRACE_ID = 0x4BF92F3577B34DA6A3CE929D0E0E4736
SPAN_ID = 0x00F067AA0BA902B7
TRACEPARENT = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"


def span_context(context: object) -> SpanContext:
    return trace.get_current_span(context).get_span_context()  # type: ignore[arg-type]


def test_a_graders_traceparent_header_is_the_parent_the_worker_continues() -> None:
    context = context_from_kafka([("other", b"x"), ("traceparent", TRACEPARENT.encode())])
    assert is_traced(context)
    parent = span_context(context)
    assert (parent.trace_id, parent.span_id, parent.is_remote) == (TRACE_ID, SPAN_ID, True)


def test_headers_written_are_the_ones_read() -> None:
    span = NonRecordingSpan(SpanContext(TRACE_ID, SPAN_ID, is_remote=False, trace_flags=TraceFlags(1)))
    headers = kafka_headers(trace.set_span_in_context(span))
    assert headers == [("traceparent", TRACEPARENT.encode())]
    assert span_context(context_from_kafka(headers)).span_id == SPAN_ID
    with trace.use_span(span):
        assert current_traceparent() == TRACEPARENT
    assert span_context(context_from_traceparent(TRACEPARENT)).trace_id == TRACE_ID


@pytest.mark.parametrize(
    "headers",
    [
        [],
        None,
        [("traceparent", b"not a trace context")],
        [("traceparent", b"00-00000000000000000000000000000000-00f067aa0ba902b7-01")],  # all-zero id
        [("x-traceparent", TRACEPARENT.encode())],
    ],
)
def test_no_or_a_malformed_header_means_no_parent(headers: list[tuple[str, bytes]] | None) -> None:
    assert not is_traced(context_from_kafka(headers))


def test_outside_any_trace_nothing_is_written() -> None:
    assert kafka_headers() == []
    assert current_traceparent() is None
    assert not is_traced(context_from_traceparent(None))


def test_an_http_requests_traceparent_is_continued() -> None:
    assert span_context(context_from_http({"traceparent": TRACEPARENT})).trace_id == TRACE_ID
    assert not is_traced(context_from_http({}))


def test_the_traces_url_is_under_the_base_endpoint() -> None:
    assert traces_url("http://collector:4318") == "http://collector:4318/v1/traces"
    assert traces_url("http://collector:4318/") == "http://collector:4318/v1/traces"
