"""The outbox relay: publishes outbox rows to Kafka and deletes them once acknowledged.

Each round leases a batch of rows to this relay in a short transaction, publishes them with no
transaction open and settles them in another short one (:mod:`api.outbox.leases`). So a slow or frozen
Kafka never holds a lock that a new submission waits for, and several API replicas share the work without
publishing a row twice at the same time. A Kafka outage leaves the rows where they are; the relay retries
with back-off and, after repeated failures, replaces its producer (one whose broker vanished does not
always recover on its own).
"""

import asyncio
import logging
import os
import secrets
import socket
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from aiokafka import AIOKafkaProducer
from aiokafka.errors import InvalidTopicError, KafkaError, MessageSizeTooLargeError
from opentelemetry import trace
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncEngine

from api.lib.kafka import Outage
from api.metrics.instruments import relay_publish
from api.outbox.handoff import Handoffs, RowLease
from api.outbox.leases import OutboxRecord, claim, release, settle
from common.kafka import make_producer
from common.lifecycle import first_of, sleep_or_stop, wait_or_stop
from common.tracing import context_from_traceparent, kafka_headers

log = logging.getLogger(__name__)
tracer = trace.get_tracer(__name__)

# Errors that no retry can fix: the job itself can never be published.
UNPUBLISHABLE = (MessageSizeTooLargeError, InvalidTopicError)
PUBLISH_TIMEOUT_S = 45.0
# A lease outlives the longest round (publish, then settle), so only a dead relay's rows are taken over.
LEASE_S = PUBLISH_TIMEOUT_S + 15.0
# A row handed over in memory is published only while its lease still outlasts a whole publish.
HANDOFF_MARGIN_S = 5.0
RELEASE_ON_STOP_TIMEOUT_S = 5.0


def relay_name() -> str:
    """A name no other relay has, which says where it runs (host, pid): the ``claimed_by`` of its rows."""
    return f"{socket.gethostname()[:40]}:{os.getpid()}:{secrets.token_hex(4)}"


@dataclass
class Delivery:
    """What became of one batch: rows Kafka acknowledged, rows it never will, and a transient error."""

    delivered: list[int] = field(default_factory=list)
    rejected: list[tuple[OutboxRecord, Exception]] = field(default_factory=list)
    error: BaseException | None = None


class OutboxRelay:
    """Background task publishing the outbox. :meth:`publish_soon` after inserting rows (a row
    inserted under :meth:`lease_new_row` skips the claim round: :mod:`api.outbox.handoff`);
    :meth:`request_stop` to make :meth:`run` return after the batch in flight."""

    def __init__(
        self,
        *,
        engine: AsyncEngine,
        bootstrap: str,
        topics_ready: asyncio.Event,
        batch_size: int = 100,
        poll_interval_s: float = 1.0,
        replace_producer_after: int = 3,
        producer_factory: Callable[[], AIOKafkaProducer] | None = None,
        lease_s: float = LEASE_S,
    ) -> None:
        if lease_s <= PUBLISH_TIMEOUT_S:
            raise ValueError(f"a lease must outlast a publish ({PUBLISH_TIMEOUT_S} s), not {lease_s} s")
        self.name = relay_name()
        self._lease_s = lease_s
        self._engine = engine
        self._make_producer = producer_factory or (lambda: make_producer(bootstrap, "executioner-api-relay"))
        self._topics_ready = topics_ready
        self._batch_size = batch_size
        self._poll_interval_s = poll_interval_s
        self._replace_producer_after = replace_producer_after
        self._producer: AIOKafkaProducer | None = None
        self._wake = asyncio.Event()
        self._stopping = asyncio.Event()
        self._kafka_outage = Outage(log, "Kafka (outbox relay)")
        self._db_outage = Outage(log, "MySQL (outbox relay)")
        self._handed = Handoffs(
            self.name,
            lease_s=lease_s,
            fresh_for_s=lease_s - PUBLISH_TIMEOUT_S - HANDOFF_MARGIN_S,
            limit=batch_size,
        )
        self._claimed_at = 0.0

    def lease_new_row(self) -> RowLease | None:
        """The lease to insert a new outbox row under, so that this relay publishes it without claiming
        it (:meth:`publish_soon`); None: insert it free."""
        return self._handed.lease()

    def publish_soon(self, record: OutboxRecord | None = None) -> None:
        """After a commit that inserted outbox rows: publish ``record`` (inserted under
        :meth:`lease_new_row`) with no claim round, and look at the outbox now (never blocks)."""
        if record is not None:
            self._handed.hand_over(record)
        self._wake.set()

    def request_stop(self) -> None:
        """Ask :meth:`run` to finish the batch in flight and return."""
        self._stopping.set()
        self._wake.set()

    async def run(self) -> None:
        """Relay until :meth:`request_stop`."""
        try:
            if not await wait_or_stop(self._topics_ready.wait(), self._stopping):
                return
            while not self._stopping.is_set():
                self._wake.clear()
                try:
                    full = await self._relay_batch()
                except (SQLAlchemyError, OSError) as exc:
                    await self._pause(self._db_outage.failed(exc))
                    continue
                self._db_outage.recovered()
                if not full:
                    await first_of(self._wake.wait(), within_s=self._poll_interval_s)
        finally:
            if left := self._handed.close():
                await self._release_on_stop(left)
            await self._discard_producer()

    async def _relay_batch(self) -> bool:
        """Publish one batch; True when the outbox may hold more rows right away."""
        rows, stale = self._handed.take(self._batch_size)
        if stale:
            await release(self._engine, self.name, [row.id for row in stale])
        more = bool(self._handed)
        # Handed rows go first, but free rows (another replica's, a dead relay's, a rejudge's, ours
        # when too many were waiting) are still claimed at least once per poll interval.
        if not rows or time.monotonic() - self._claimed_at >= self._poll_interval_s:
            claimed = await claim(self._engine, self.name, self._batch_size, self._lease_s)
            self._claimed_at = time.monotonic()
            more = more or len(claimed) == self._batch_size
            rows += claimed
        if not rows:
            return more
        publishing = time.monotonic()
        try:
            delivery = await self._publish(rows)
        except asyncio.CancelledError:
            await self._release_on_stop(rows)
            raise
        if delivery.error is None and delivery.delivered:
            relay_publish.observe(time.monotonic() - publishing)
        settled = {*delivery.delivered, *(row.id for row, _ in delivery.rejected)}
        retry = [row.id for row in rows if row.id not in settled]
        await settle(
            self._engine, self.name, done=delivery.delivered, rejected=delivery.rejected, retry=retry
        )
        if delivery.error is not None:
            await self._on_kafka_failure(delivery.error)
            return False
        self._kafka_outage.recovered()
        return more or bool(self._handed)

    async def _release_on_stop(self, rows: Sequence[OutboxRecord]) -> None:
        # Stopped mid-publish: hand the rows back now rather than leaving them leased until LEASE_S.
        try:
            async with asyncio.timeout(RELEASE_ON_STOP_TIMEOUT_S):
                await release(self._engine, self.name, [row.id for row in rows])
        except (TimeoutError, SQLAlchemyError, OSError) as exc:
            log.warning("could not release %d outbox rows on stop (%s); their lease will end", len(rows), exc)

    async def _publish(self, rows: Sequence[OutboxRecord]) -> Delivery:
        # One span per row, in the trace of the request that stored it, from send to acknowledgement.
        spans = {row.id: self._publish_span(row) for row in rows}
        try:
            delivery = await self._send_all(rows, spans)
        except BaseException:
            for span in spans.values():
                span.end()
            raise
        failed = {row.id: str(exc) for row, exc in delivery.rejected}
        for row_id, span in spans.items():
            if row_id not in delivery.delivered:
                span.set_status(trace.StatusCode.ERROR, failed.get(row_id, str(delivery.error)))
            span.end()
        return delivery

    @staticmethod
    def _publish_span(row: OutboxRecord) -> trace.Span:
        return tracer.start_span(
            f"publish {row.topic}",
            context=context_from_traceparent(row.traceparent),
            kind=trace.SpanKind.PRODUCER,
            attributes={
                "messaging.system": "kafka",
                "messaging.destination.name": row.topic,
                "executioner.submission_id": row.key.decode(errors="replace"),  # the key is the job's id
            },
        )

    async def _send_all(self, rows: Sequence[OutboxRecord], spans: dict[int, trace.Span]) -> Delivery:
        delivery = Delivery()
        pending = []
        try:
            # aiokafka bounds each step by request_timeout_ms; this guards the batch as a whole, so a
            # round always ends well within the rows' lease.
            async with asyncio.timeout(PUBLISH_TIMEOUT_S):
                try:
                    producer = await self._ensure_producer()
                except KafkaError as exc:
                    delivery.error = exc
                    return delivery
                for row in rows:
                    try:
                        headers = kafka_headers(trace.set_span_in_context(spans[row.id]))
                        ack = await producer.send(row.topic, row.payload, key=row.key, headers=headers)
                        pending.append((row, ack))
                    except UNPUBLISHABLE as exc:
                        delivery.rejected.append((row, exc))
                    except KafkaError as exc:
                        delivery.error = exc
                        break
                acks = await asyncio.gather(*(ack for _, ack in pending), return_exceptions=True)
        except TimeoutError as exc:
            delivery.error = exc
            return delivery  # nothing counts as delivered: the rows stay and are sent again later
        for (row, _), ack in zip(pending, acks, strict=True):
            if isinstance(ack, UNPUBLISHABLE):
                delivery.rejected.append((row, ack))
            elif isinstance(ack, BaseException):
                delivery.error = delivery.error or ack
            else:
                delivery.delivered.append(row.id)
        return delivery

    async def _on_kafka_failure(self, exc: BaseException) -> None:
        delay = self._kafka_outage.failed(exc)
        if self._kafka_outage.failures % self._replace_producer_after == 0:
            log.info("replacing the Kafka producer after %d failures", self._kafka_outage.failures)
            await self._discard_producer()
        await self._pause(delay)

    async def _pause(self, seconds: float) -> None:
        # Back-off ends early on stop, but not on wake: POSTs during an outage must not speed up retries.
        await sleep_or_stop(seconds, self._stopping)

    async def _ensure_producer(self) -> AIOKafkaProducer:
        if self._producer is None:
            producer = self._make_producer()
            try:
                await producer.start()
            except BaseException:
                await producer.stop()
                raise
            self._producer = producer
        return self._producer

    async def _discard_producer(self) -> None:
        producer, self._producer = self._producer, None
        if producer is not None:
            try:
                # A producer whose broker is gone may wait a long time to flush; it has nothing we need.
                await asyncio.wait_for(producer.stop(), 5.0)
            except (TimeoutError, KafkaError) as exc:
                log.debug("Kafka producer did not stop cleanly: %s", exc)
