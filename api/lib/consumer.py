"""The consumer loop the API's Kafka-to-MySQL tasks share (results recorder, job intake, dead letters).

Each batch is written in one MySQL transaction, then its offsets are committed by hand, so a crash between
the two only replays records: every :class:`Sink` must make writing a record twice harmless. While MySQL is
down the batch is rewound and retried with back-off; a record MySQL refuses while answering is skipped
(retrying it would block its partition forever). Kafka outages are aiokafka's to ride out; starting the
consumer is retried until the broker answers.
"""

import asyncio
import contextlib
import logging
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Generic, Protocol, TypeAlias, TypeVar

from aiokafka import AIOKafkaConsumer, ConsumerRecord, TopicPartition
from aiokafka.errors import IllegalStateError, KafkaError
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from api.db.engine import database_ok
from api.lib.clock import utcnow
from api.lib.kafka import Outage, start_client

log = logging.getLogger(__name__)

FETCH_FILL_BYTES = 64 * 1024
"""With a fetch wait, the broker answers once it has this much for the fetch (or the wait is over)."""

Record: TypeAlias = ConsumerRecord[bytes, bytes]
Batch: TypeAlias = dict[TopicPartition, list[Record]]
T = TypeVar("T")


AfterCommit = Callable[[], None]
"""What a sink does once the transaction it wrote in committed."""


class Sink(Protocol[T]):
    """What one consumer does with its records: turn them into items (no I/O), write items idempotently."""

    def prepare(self, records: list[Record]) -> list[T]:
        """The items to write for ``records`` (decoding; records that are not items are logged, left out)."""
        ...

    async def write(self, conn: AsyncConnection, items: list[T]) -> AfterCommit | None:
        """Write ``items`` within the caller's transaction; writing them again must change nothing.
        Returns what to do once the transaction committed (count metrics: a batch whose transaction
        rolls back is written again, item by item)."""
        ...

    def describe(self, item: T) -> str:
        """The item, for a log line."""
        ...


class MySQLDown(Exception):
    """MySQL does not answer: nothing of the batch was written."""


@dataclass(frozen=True, slots=True)
class Written:
    """What a consumer tells its observer after each batch it wrote (for the API's metrics)."""

    consumer: str
    delays_s: list[float]
    """Per record: from its Kafka timestamp to now."""
    lag: int
    """Records left on the partitions this consumer has written batches of (as of their fetches)."""


class MySQLConsumer(Generic[T]):
    """Consumes ``topics`` in the consumer group ``group_id`` and writes every batch to MySQL through
    ``sink``. One instance per background task; :meth:`run` until cancelled. ``fetch_wait_ms`` > 0 lets
    the broker hold a fetch that long to fill it (:data:`FETCH_FILL_BYTES`)."""

    def __init__(
        self,
        *,
        name: str,
        sink: Sink[T],
        engine: AsyncEngine,
        bootstrap: str,
        topics: Sequence[str],
        group_id: str,
        topics_ready: asyncio.Event,
        max_records: int = 500,
        fetch_wait_ms: int = 0,
        on_written: Callable[["Written"], None] | None = None,
    ) -> None:
        self._name = name
        self._on_written = on_written
        self._sink = sink
        self._engine = engine
        self._bootstrap = bootstrap
        self._topics = list(topics)
        self._group_id = group_id
        self._topics_ready = topics_ready
        self._max_records = max_records
        self._fetch_wait_ms = fetch_wait_ms
        self._kafka_outage = Outage(log, f"Kafka ({name})")
        self._db_outage = Outage(log, f"MySQL ({name})")
        self._lags: dict[TopicPartition, int] = {}
        """Records left after the last written batch, per partition (for the lag gauge)."""

    @property
    def mysql_failures(self) -> int:
        """Consecutive batches not written because MySQL was down (0 when it answers)."""
        return self._db_outage.failures

    def _make_consumer(self) -> AIOKafkaConsumer:
        return AIOKafkaConsumer(
            *self._topics,
            bootstrap_servers=self._bootstrap,
            client_id=f"executioner-api-{self._name}",
            group_id=self._group_id,
            enable_auto_commit=False,
            auto_offset_reset="earliest",
            # Without a wait the broker answers each fetch with the first record: a request per record.
            fetch_min_bytes=FETCH_FILL_BYTES if self._fetch_wait_ms else 1,
            fetch_max_wait_ms=self._fetch_wait_ms or 500,
        )

    async def run(self) -> None:
        """Consume and write until cancelled. Waits for the topics to exist first."""
        await self._topics_ready.wait()
        consumer = await start_client(self._make_consumer, self._kafka_outage)
        try:
            while True:
                batch: Batch = await consumer.getmany(timeout_ms=1000, max_records=self._max_records)
                if batch:
                    await self._consume(consumer, batch)
        finally:
            await consumer.stop()

    async def _consume(self, consumer: AIOKafkaConsumer, batch: Batch) -> None:
        items = self._sink.prepare([record for records in batch.values() for record in records])
        try:
            await self._write(items)
        except MySQLDown as exc:
            # Not written: rewind, so the next getmany returns the same records.
            for tp, records in batch.items():
                # A partition revoked meanwhile is its new owner's: it starts from the last commit.
                with contextlib.suppress(IllegalStateError):
                    consumer.seek(tp, records[0].offset)
            await asyncio.sleep(self._db_outage.failed(exc.__cause__ or exc))
            return
        self._db_outage.recovered()
        self._observe(consumer, batch)
        try:
            await consumer.commit({tp: records[-1].offset + 1 for tp, records in batch.items()})
        except KafkaError as exc:
            # Typically a rebalance: whoever owns the partition now replays these records, harmlessly.
            log.warning("could not commit %s offsets (%s); records will be replayed", self._name, exc)

    def _observe(self, consumer: AIOKafkaConsumer, batch: Batch) -> None:
        """Tell ``on_written`` how late the batch's records were and how many remain on its partitions."""
        if self._on_written is None:
            return
        now_ms = time.time() * 1000
        delays = [
            max(0.0, now_ms - record.timestamp) / 1000
            for records in batch.values()
            for record in records
            if record.timestamp and record.timestamp > 0
        ]
        for tp, records in batch.items():
            highwater = consumer.highwater(tp)
            if highwater is not None:
                self._lags[tp] = max(0, highwater - records[-1].offset - 1)
        self._on_written(Written(self._name, delays, sum(self._lags.values())))

    async def _write(self, items: list[T]) -> None:
        """Write the batch in one transaction; if MySQL refuses it while answering, write the items one by
        one and skip those it refuses."""
        if not items:
            return
        try:
            async with self._engine.begin() as conn:
                committed = await self._sink.write(conn, items)
            if committed is not None:
                committed()
            return
        except (SQLAlchemyError, OSError) as exc:
            await self._raise_if_down(exc)
        for item in items:
            try:
                async with self._engine.begin() as conn:
                    committed = await self._sink.write(conn, [item])
                if committed is not None:
                    committed()
            except (SQLAlchemyError, OSError) as exc:
                await self._raise_if_down(exc)
                log.error(
                    "%s: skipping %s, which MySQL refuses: %s", self._name, self._sink.describe(item), exc
                )

    async def _raise_if_down(self, exc: BaseException) -> None:
        if not await database_ok(self._engine):
            raise MySQLDown from exc


def record_position(record: Record) -> str:
    """``topic[partition]@offset``, for log lines."""
    return f"{record.topic}[{record.partition}]@{record.offset}"


def record_time(record: Record) -> datetime:
    """When the record was produced (its Kafka timestamp), as MySQL stores times; now if it has none."""
    if not record.timestamp or record.timestamp <= 0:
        return utcnow()
    return datetime.fromtimestamp(record.timestamp / 1000, UTC).replace(tzinfo=None)
