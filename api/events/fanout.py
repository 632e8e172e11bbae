"""The replica's group-less consumer of ``results``: every event, to this replica's :class:`Broker`.

Each API replica reads every partition itself: ``subscribe`` without a ``group_id`` assigns all of the
topic's partitions (and re-assigns when metadata shows more), and nothing is committed. Reading starts
at the end: SSE streams only need events from now on; earlier ones are in MySQL.
"""

import asyncio
import logging

from aiokafka import AIOKafkaConsumer, ConsumerRecord, TopicPartition

from api.events.broker import Broker
from api.lib.kafka import Outage, start_client
from api.metrics.instruments import observe_fanout
from common.tracing import context_from_kafka, is_traced
from schemas import DecodeError, decode_result

log = logging.getLogger(__name__)


class ResultsFanout:
    """Consumes the ``results`` topic and publishes each event to the broker."""

    def __init__(
        self,
        *,
        bootstrap: str,
        topic: str,
        broker: Broker,
        topics_ready: asyncio.Event,
        metadata_max_age_ms: int = 60_000,
    ) -> None:
        self._bootstrap = bootstrap
        self._topic = topic
        self._broker = broker
        self._topics_ready = topics_ready
        self._metadata_max_age_ms = metadata_max_age_ms
        self._outage = Outage(log, "Kafka (results fan-out)")
        self.live = asyncio.Event()
        """Set while every partition's position is known: an event produced from then on reaches the
        broker (``/readyz`` waits for it, so a new replica takes no stream that would miss events)."""

    def _make_consumer(self) -> AIOKafkaConsumer:
        consumer = AIOKafkaConsumer(
            bootstrap_servers=self._bootstrap,
            client_id="executioner-api-fanout",
            group_id=None,
            enable_auto_commit=False,
            auto_offset_reset="latest",
            # How soon partitions added to the topic are noticed (and assigned).
            metadata_max_age_ms=self._metadata_max_age_ms,
        )
        consumer.subscribe([self._topic])
        return consumer

    async def run(self) -> None:
        """Fan events out until cancelled."""
        await self._topics_ready.wait()
        consumer = await start_client(self._make_consumer, self._outage)
        try:
            # Positions are resolved lazily (at the end) by the first fetch after the partitions are
            # assigned; until then an event produced would be skipped, so resolve them before going live.
            while not consumer.assignment():
                self._publish_batch(await consumer.getmany(timeout_ms=100))
            for partition in consumer.assignment():
                await consumer.position(partition)
            self.live.set()
            while True:
                self._publish_batch(await consumer.getmany(timeout_ms=1000))
        finally:
            self.live.clear()
            await consumer.stop()

    def _publish_batch(self, batch: dict[TopicPartition, list[ConsumerRecord[bytes, bytes]]]) -> None:
        for records in batch.values():
            for record in records:
                self._publish(record.value, record.headers)
                observe_fanout(record.timestamp)

    def _publish(self, raw: bytes | None, headers: list[tuple[str, bytes]]) -> None:
        try:
            event = decode_result(raw or b"")
        except DecodeError as exc:
            # The recorder logs bad messages (it is the one that must skip them); here they are noise.
            log.debug("fan-out skips an undecodable result: %s", exc.reason)
            return
        trace = context_from_kafka(headers)
        self._broker.publish(event, trace if is_traced(trace) else None)
