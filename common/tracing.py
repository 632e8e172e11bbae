"""Traces across the Kafka hops: the OpenTelemetry set-up every process shares, and the W3C Trace Context
carried in Kafka headers (``traceparent``, ``tracestate``) and in outbox rows.

Tracing is off unless an OTLP/HTTP endpoint is configured (``OTEL_EXPORTER_OTLP_ENDPOINT``): then the
global tracer provider stays OpenTelemetry's no-op one, spans cost next to nothing, and a context that came
in (a batch grader's ``traceparent``) is still passed on unchanged to the messages that follow from it.
Only the W3C format is read and written, whatever ``OTEL_PROPAGATORS`` says: it is the public contract
(docs/kafka-contract.md, Tracing).
"""

from collections.abc import Iterable, Mapping

from opentelemetry import trace
from opentelemetry.context import Context
from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
from opentelemetry.sdk.resources import SERVICE_NAME, Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor
from opentelemetry.trace.propagation.tracecontext import TraceContextTextMapPropagator

KafkaHeaders = Iterable[tuple[str, bytes]]
"""Headers of a Kafka record as aiokafka gives and takes them."""
TRACEPARENT = "traceparent"
_W3C = TraceContextTextMapPropagator()
_FIELDS = frozenset(_W3C.fields)  # traceparent, tracestate


def traces_url(endpoint: str) -> str:
    """The OTLP/HTTP traces URL under the base ``endpoint`` (as the OpenTelemetry specification derives it
    from ``OTEL_EXPORTER_OTLP_ENDPOINT``)."""
    return endpoint.rstrip("/") + "/v1/traces"


def configure_tracing(service: str, endpoint: str | None) -> TracerProvider | None:
    """Export this process's spans, as ``service``, to the OTLP/HTTP collector at ``endpoint`` (batched,
    in a background thread; flushed at exit). None and nothing done when ``endpoint`` is unset."""
    if not endpoint:
        return None
    provider = TracerProvider(resource=Resource.create({SERVICE_NAME: service}))
    provider.add_span_processor(BatchSpanProcessor(OTLPSpanExporter(endpoint=traces_url(endpoint))))
    trace.set_tracer_provider(provider)
    return provider


def kafka_headers(context: Context | None = None) -> list[tuple[str, bytes]]:
    """The trace context of ``context`` (default: the current one) as Kafka headers; none without one."""
    carrier: dict[str, str] = {}
    _W3C.inject(carrier, context=context)
    return [(name, value.encode("ascii")) for name, value in carrier.items()]


def context_from_kafka(headers: KafkaHeaders | None) -> Context:
    """The trace context a record's headers carry (an empty context when they carry none or a malformed
    one: the consumer then starts a trace of its own)."""
    carrier = {}
    for name, value in headers or ():
        if name.lower() in _FIELDS and value is not None:
            carrier[name.lower()] = value.decode("latin-1")
    return _W3C.extract(carrier)


def context_from_http(headers: Mapping[str, str]) -> Context:
    """The trace context of an HTTP request's ``traceparent``/``tracestate`` headers, if any."""
    carrier = {name: value for name in _FIELDS if (value := headers.get(name)) is not None}
    return _W3C.extract(carrier)


def is_traced(context: Context) -> bool:
    """Whether ``context`` names a span (of a trace some producer started)."""
    return trace.get_current_span(context).get_span_context().is_valid


def current_traceparent() -> str | None:
    """The current span's ``traceparent`` (to store with an outbox row), or None outside any trace."""
    carrier: dict[str, str] = {}
    _W3C.inject(carrier)
    return carrier.get(TRACEPARENT)


def context_from_traceparent(traceparent: str | None) -> Context:
    """The context a stored ``traceparent`` names (an empty one for None or a malformed value)."""
    return _W3C.extract({TRACEPARENT: traceparent} if traceparent else {})


def current_trace_id() -> str | None:
    """The current trace's id as 32 hex digits (for log lines), or None outside any trace."""
    context = trace.get_current_span().get_span_context()
    return trace.format_trace_id(context.trace_id) if context.is_valid else None
