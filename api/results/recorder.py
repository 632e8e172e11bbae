"""The results recorder: the API replicas' shared consumer group on ``results``, writing to MySQL.

Offsets are committed by hand, after the batch's MySQL transaction committed, so a crash between the
two only replays events, and replaying is harmless (:mod:`api.results.apply`).
"""

import asyncio
import contextlib
import logging

from aiokafka import AIOKafkaConsumer, ConsumerRecord, TopicPartition
from aiokafka.errors import IllegalStateError, KafkaError
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncEngine

from api.db.engine import database_ok
from api.lib.kafka import Outage, start_client
from api.results.apply import ResultMessage, apply_events
from schemas import DecodeError, decode_result

log = logging.getLogger(__name__)

Batch = dict[TopicPartition, list[ConsumerRecord[bytes, bytes]]]


class MySQLDown(Exception):
    """MySQL does not answer: nothing of the batch was recorded."""


class ResultsRecorder:
    """Consumes ``results`` in the recorder group and applies every event to MySQL."""

    def __init__(
        self,
        *,
        engine: AsyncEngine,
        bootstrap: str,
        topic: str,
        group_id: str,
        topics_ready: asyncio.Event,
        max_records: int = 500,
    ) -> None:
        self._engine = engine
        self._bootstrap = bootstrap
        self._topic = topic
        self._group_id = group_id
        self._topics_ready = topics_ready
        self._max_records = max_records
        self._kafka_outage = Outage(log, "Kafka (results recorder)")
        self._db_outage = Outage(log, "MySQL (results recorder)")

    def _make_consumer(self) -> AIOKafkaConsumer:
        return AIOKafkaConsumer(
            self._topic,
            bootstrap_servers=self._bootstrap,
            client_id="executioner-api-recorder",
            group_id=self._group_id,
            enable_auto_commit=False,
            auto_offset_reset="earliest",
        )

    async def run(self) -> None:
        """Record results until cancelled."""
        await self._topics_ready.wait()
        consumer = await start_client(self._make_consumer, self._kafka_outage)
        try:
            while True:
                batch: Batch = await consumer.getmany(timeout_ms=1000, max_records=self._max_records)
                if batch:
                    await self._record(consumer, batch)
        finally:
            await consumer.stop()

    async def _record(self, consumer: AIOKafkaConsumer, batch: Batch) -> None:
        events = [event for records in batch.values() for event in self._decode(records)]
        try:
            await self._apply(events)
        except MySQLDown as exc:
            # Not recorded: rewind, so the next getmany returns the same records.
            for tp, records in batch.items():
                # A partition revoked meanwhile is its new owner's: it starts from the last commit.
                with contextlib.suppress(IllegalStateError):
                    consumer.seek(tp, records[0].offset)
            await asyncio.sleep(self._db_outage.failed(exc.__cause__ or exc))
            return
        self._db_outage.recovered()
        try:
            await consumer.commit({tp: records[-1].offset + 1 for tp, records in batch.items()})
        except KafkaError as exc:
            # Typically a rebalance: whoever owns the partition now replays these events, harmlessly.
            log.warning("could not commit recorder offsets (%s); events will be replayed", exc)

    async def _apply(self, events: list[ResultMessage]) -> None:
        """Apply the batch in one transaction; if MySQL refuses it while answering, apply the events one by
        one and skip those it refuses (retrying them would block their partition forever)."""
        try:
            async with self._engine.begin() as conn:
                await apply_events(conn, events)
            return
        except (SQLAlchemyError, OSError) as exc:
            await self._raise_if_down(exc)
        for event in events:
            try:
                async with self._engine.begin() as conn:
                    await apply_events(conn, [event])
            except (SQLAlchemyError, OSError) as exc:
                await self._raise_if_down(exc)
                log.error(
                    "skipping a result event MySQL refuses (%s %s seq %d): %s",
                    event.event,
                    event.id,
                    event.seq,
                    exc,
                )

    async def _raise_if_down(self, exc: BaseException) -> None:
        if not await database_ok(self._engine):
            raise MySQLDown from exc

    @staticmethod
    def _decode(records: list[ConsumerRecord[bytes, bytes]]) -> list[ResultMessage]:
        events: list[ResultMessage] = []
        for record in records:
            try:
                events.append(decode_result(record.value or b""))
            except DecodeError as exc:
                # Not ours to dead-letter: a producer outside the API wrote it. Log and move on.
                log.error(
                    "skipping undecodable result at %s[%d]@%d: %s",
                    record.topic,
                    record.partition,
                    record.offset,
                    exc.reason,
                )
        return events
