"""The outbox relay: publishes outbox rows to Kafka and deletes them once acknowledged.

Rows are claimed with ``SELECT ... FOR UPDATE SKIP LOCKED`` inside the transaction that later deletes
them, so several API replicas share the work without publishing a row twice at the same time. A Kafka
outage leaves the rows where they are; the relay retries with back-off and, after repeated failures,
replaces its producer (one whose broker vanished does not always recover on its own).
"""

import asyncio
import contextlib
import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import sqlalchemy as sa
from aiokafka import AIOKafkaProducer
from aiokafka.errors import InvalidTopicError, KafkaError, MessageSizeTooLargeError
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from api.db.tables import outbox
from api.lib.kafka import Outage
from api.outbox.rejected import fail_unpublishable
from common.kafka import make_producer
from common.lifecycle import wait_or_stop

log = logging.getLogger(__name__)

# Errors that no retry can fix: the job itself can never be published.
UNPUBLISHABLE = (MessageSizeTooLargeError, InvalidTopicError)
PUBLISH_TIMEOUT_S = 45.0


@dataclass(frozen=True, slots=True)
class OutboxRecord:
    """One claimed outbox row."""

    id: int
    topic: str
    key: bytes
    payload: bytes


@dataclass
class Delivery:
    """What became of one batch: rows Kafka acknowledged, rows it never will, and a transient error."""

    delivered: list[int] = field(default_factory=list)
    rejected: list[tuple[OutboxRecord, Exception]] = field(default_factory=list)
    error: BaseException | None = None


class OutboxRelay:
    """Background task publishing the outbox. :meth:`wake` after inserting rows; :meth:`request_stop`
    to make :meth:`run` return after the batch in flight."""

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
    ) -> None:
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

    def wake(self) -> None:
        """Look at the outbox now rather than at the next poll (never blocks)."""
        self._wake.set()

    def request_stop(self) -> None:
        """Ask :meth:`run` to finish the batch in flight and return."""
        self._stopping.set()
        self._wake.set()

    async def run(self) -> None:
        """Relay until :meth:`request_stop`."""
        if not await wait_or_stop(self._topics_ready.wait(), self._stopping):
            return
        try:
            while not self._stopping.is_set():
                self._wake.clear()
                try:
                    full = await self._relay_batch()
                except (SQLAlchemyError, OSError) as exc:
                    await self._pause(self._db_outage.failed(exc))
                    continue
                self._db_outage.recovered()
                if not full:
                    with contextlib.suppress(TimeoutError):
                        await asyncio.wait_for(self._wake.wait(), self._poll_interval_s)
        finally:
            await self._discard_producer()

    async def _relay_batch(self) -> bool:
        """Publish one batch; True when the outbox may hold more rows right away."""
        claim = (
            sa.select(outbox.c.id, outbox.c.topic, outbox.c.msg_key, outbox.c.payload)
            .order_by(outbox.c.id)
            .limit(self._batch_size)
            .with_for_update(skip_locked=True)
        )
        async with self._engine.begin() as conn:
            rows = [OutboxRecord(*row) for row in await conn.execute(claim)]
            if not rows:
                return False
            delivery = await self._publish(rows)
            await self._settle(conn, delivery)
        if delivery.error is not None:
            await self._on_kafka_failure(delivery.error)
            return False
        self._kafka_outage.recovered()
        return len(rows) == self._batch_size

    async def _publish(self, rows: Sequence[OutboxRecord]) -> Delivery:
        delivery = Delivery()
        try:
            producer = await self._ensure_producer()
        except KafkaError as exc:
            delivery.error = exc
            return delivery
        pending = []
        try:
            # aiokafka bounds each step by request_timeout_ms; this guards the batch as a whole.
            async with asyncio.timeout(PUBLISH_TIMEOUT_S):
                for row in rows:
                    try:
                        pending.append((row, await producer.send(row.topic, row.payload, key=row.key)))
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

    @staticmethod
    async def _settle(conn: AsyncConnection, delivery: Delivery) -> None:
        """Delete the rows that are done with; rows that failed transiently stay for the next round."""
        for row, exc in delivery.rejected:
            log.error("outbox row %d (topic %s) can never be published: %s", row.id, row.topic, exc)
            await fail_unpublishable(conn, row.payload, f"the job could not be queued: {exc}")
        done = delivery.delivered + [row.id for row, _ in delivery.rejected]
        if done:
            await conn.execute(outbox.delete().where(outbox.c.id.in_(done)))

    async def _on_kafka_failure(self, exc: BaseException) -> None:
        delay = self._kafka_outage.failed(exc)
        if self._kafka_outage.failures % self._replace_producer_after == 0:
            log.info("replacing the Kafka producer after %d failures", self._kafka_outage.failures)
            await self._discard_producer()
        await self._pause(delay)

    async def _pause(self, seconds: float) -> None:
        # Back-off ends early on stop, but not on wake: POSTs during an outage must not speed up retries.
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._stopping.wait(), seconds)

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
