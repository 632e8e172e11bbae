"""The API's Prometheus instruments, defined once, and the few helpers that feed them.

Every label value is bounded: language ids the API knows, a submission's origin, a dead letter's kind.
Nothing a client sends becomes a label (the HTTP middleware labels by route template, never by path).
"""

import time
from collections.abc import AsyncIterator, Callable, Iterable
from typing import TypeVar

from prometheus_client import Counter, Gauge, Histogram

from api.lib.consumer import Written

T = TypeVar("T")

# Fan-out delay: a result event reaches the broker within milliseconds normally; seconds mean a
# backlog on the results topic.
FANOUT_DELAY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0)

submissions_accepted = Counter(
    "executioner_submissions_accepted",
    "Submissions stored as queued, by language and origin (http: the API's POST; kafka: a batch "
    "grader's job recorded by the intake).",
    ["language", "origin"],
)
results_recorded = Counter(
    "executioner_results_recorded",
    "Submissions finished (their result recorded in MySQL), by language and verdict.",
    ["language", "verdict"],
)
outbox_rows = Gauge("executioner_outbox_rows", "Jobs stored but not yet published to Kafka (outbox rows).")
outbox_oldest_age = Gauge(
    "executioner_outbox_oldest_age_seconds", "Age of the oldest outbox row; 0 when the outbox is empty."
)
sse_streams_open = Gauge("executioner_sse_streams_open", "Server-Sent Event streams this API serves now.")
fanout_delay = Histogram(
    "executioner_fanout_delay_seconds",
    "From a result event's Kafka timestamp to its delivery to this API's SSE streams.",
    buckets=FANOUT_DELAY_BUCKETS,
)
# Publishing a batch to Kafka and getting every acknowledgement (acks=all) takes milliseconds.
PUBLISH_BUCKETS = (0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 45.0)
relay_publish = Histogram(
    "executioner_relay_publish_seconds",
    "Time for the outbox relay to publish one batch of jobs to Kafka and get every acknowledgement, of "
    "batches that were delivered.",
    buckets=PUBLISH_BUCKETS,
)
consumer_delay = Histogram(
    "executioner_consumer_delay_seconds",
    "From a record's Kafka timestamp to its batch written to MySQL, by consumer (recorder: result "
    "events; intake: every job record, whose batch graders' jobs it stores; dead-letters).",
    ["consumer"],
    buckets=FANOUT_DELAY_BUCKETS,
)
consumer_lag = Gauge(
    "executioner_consumer_lag_records",
    "Records of the consumer's topics not yet written by this replica, on the partitions it consumes "
    "(as of its last batch).",
    ["consumer"],
)
dead_letters = Counter(
    "executioner_dead_letters",
    "Dead letters recorded, by kind: rejected (a job the workers refused), undecodable (not a job), "
    "max_deliveries (a job that kept crashing its worker).",
    ["kind"],
)


def observe_written(written: Written) -> None:
    """Count one batch a Kafka consumer of the API wrote to MySQL (:class:`api.lib.consumer.Written`)."""
    delay = consumer_delay.labels(written.consumer)
    for seconds in written.delays_s:
        delay.observe(seconds)
    consumer_lag.labels(written.consumer).set(written.lag)


def dead_letter_kind(*, result_published: bool, decodable: bool) -> str:
    """The bounded ``kind`` label of a dead letter (its free-text reason stays in MySQL)."""
    if result_published:
        return "max_deliveries"
    return "rejected" if decodable else "undecodable"


def fanout_delay_s(record_timestamp_ms: int, now_s: float) -> float:
    """Seconds between a record's timestamp and ``now_s``; never negative (clocks differ slightly)."""
    return max(0.0, now_s - record_timestamp_ms / 1000)


def observe_fanout(record_timestamp_ms: int) -> None:
    """Count one result event delivered to the broker now."""
    fanout_delay.observe(fanout_delay_s(record_timestamp_ms, time.time()))


async def counted_stream(stream: AsyncIterator[T]) -> AsyncIterator[T]:
    """``stream``, counted in :data:`sse_streams_open` while it is being iterated."""
    sse_streams_open.inc()
    try:
        async for item in stream:
            yield item
    finally:
        sse_streams_open.dec()


def counting(counter: Counter, label_values: Iterable[tuple[str, ...]]) -> Callable[[], None]:
    """What counts each of ``label_values`` once on ``counter``: to run after the transaction that wrote
    what they count committed (a transaction that rolls back is written again, and would count twice)."""
    values = list(label_values)

    def count() -> None:
        for labels in values:
            counter.labels(*labels).inc()

    return count
