"""Grading over Kafka: each job straight to ``jobs.<language>`` (key = its id), each result from
``results`` (and each refusal from ``dead-letter``) through a consumer group of this run's own.

The consumer is assigned and positioned at the end of its topics *before* the first job is sent, so no
result can be missed and none of earlier runs is read. Nothing is committed: across a rebalance the
consumer resumes from the positions it remembers.
"""

import asyncio
import logging
from functools import partial
from typing import Any
from uuid import uuid4

import orjson
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, ConsumerRebalanceListener, ConsumerRecord
from aiokafka.errors import KafkaError
from aiokafka.structs import TopicPartition
from pydantic import ValidationError

from common.kafka import make_producer
from common.lifecycle import first_of
from grader.errors import GradeError
from grader.tracker import Tracker, error
from schemas import DeadLetterHeaders, ResultEvent, Topics

log = logging.getLogger(__name__)

SETUP_TIMEOUT_S = 60.0
"""How long connecting, checking the topics and joining the consumer group may take."""


class _Positions(ConsumerRebalanceListener):  # type: ignore[misc]  # aiokafka is untyped
    """Where the run's consumer is in each partition, re-applied after a rebalance (there are no
    committed offsets to resume from)."""

    def __init__(self, consumer: AIOKafkaConsumer) -> None:
        self._consumer = consumer
        self.offsets: dict[TopicPartition, int] = {}
        self.assigned = asyncio.Event()

    async def on_partitions_revoked(self, revoked: set[TopicPartition]) -> None:
        """Nothing to do: the offsets are remembered as records are read."""

    async def on_partitions_assigned(self, assigned: set[TopicPartition]) -> None:
        """The first assignment starts at the end (``auto_offset_reset``); later ones resume, and a
        partition added during the run is read from its beginning."""
        if self.assigned.is_set():
            added = [tp for tp in assigned if tp not in self.offsets]
            beginnings = await self._consumer.beginning_offsets(added) if added else {}
            for tp in assigned:
                self._consumer.seek(tp, self.offsets.get(tp, beginnings.get(tp, 0)))
        self.assigned.set()


class KafkaGrading:
    """One run over Kafka."""

    def __init__(self, tracker: Tracker, bootstrap: str, topics: Topics) -> None:
        self._tracker = tracker
        self._bootstrap = bootstrap
        self._topics = topics
        self._index = {job.id.encode(): index for index, job in enumerate(tracker.jobs)}

    async def run(self) -> None:
        """Send every job and collect results until each job is settled (or the caller gives up)."""
        consumer = AIOKafkaConsumer(
            bootstrap_servers=self._bootstrap,
            client_id="executioner-grader",
            group_id=f"{self._topics.prefix}executioner-grader-{uuid4().hex}",
            enable_auto_commit=False,
            auto_offset_reset="latest",
        )
        producer = make_producer(self._bootstrap, "executioner-grader")
        try:
            async with asyncio.timeout(SETUP_TIMEOUT_S):
                positions = await self._join(consumer)
                await producer.start()
        except TimeoutError:
            await _stop(consumer, producer)
            raise GradeError(f"Kafka at {self._bootstrap}: not ready within {SETUP_TIMEOUT_S:g} s") from None
        except KafkaError as exc:
            await _stop(consumer, producer)
            raise GradeError(f"cannot use Kafka at {self._bootstrap}: {exc!r}") from exc
        except BaseException:
            await _stop(consumer, producer)
            raise
        try:
            # Whichever ends first ends the run: the sender once every job is settled, the collector
            # only by failing (raised here); the other one is cancelled.
            await first_of(self._collect(consumer, positions), self._send_all(producer))
        finally:
            await _stop(consumer, producer)

    async def _join(self, consumer: AIOKafkaConsumer) -> _Positions:
        """Start the consumer, check the topics exist, and wait until it is assigned and positioned."""
        await consumer.start()
        available: set[str] = await consumer.topics()
        needed = {self._topics.results} | {self._topics.jobs(job.language) for job in self._tracker.jobs}
        missing = sorted(needed - available)
        if missing:
            raise GradeError(
                f"Kafka at {self._bootstrap} has no topic {', '.join(missing)}: check the topic prefix "
                f"({self._topics.prefix!r}) and the languages (the cluster creates a topic per language)"
            )
        positions = _Positions(consumer)
        wanted = [self._topics.results]
        if self._topics.dead_letter in available:
            wanted.append(self._topics.dead_letter)
        consumer.subscribe(wanted, listener=positions)
        await positions.assigned.wait()
        for tp in consumer.assignment():
            positions.offsets[tp] = await consumer.position(tp)
        return positions

    async def _send_all(self, producer: AIOKafkaProducer) -> None:
        """Send every job, then wait until each one is settled."""
        tracker = self._tracker
        for index, job in enumerate(tracker.jobs):
            await tracker.slot()
            tracker.sent(index, job.id)
            try:
                future = await producer.send(
                    self._topics.jobs(job.language), orjson.dumps(job.message), key=job.id.encode()
                )
            except KafkaError as exc:
                tracker.failed(index, error("not_sent", f"Kafka refused the job: {exc!r}"))
                continue
            future.add_done_callback(partial(self._acknowledged, index))
        await tracker.all_settled.wait()

    def _acknowledged(self, index: int, future: "asyncio.Future[Any]") -> None:
        if future.cancelled():
            self._tracker.failed(index, error("not_delivered", "sending was cancelled"))
        elif (exc := future.exception()) is not None:
            self._tracker.failed(index, error("not_delivered", f"Kafka did not acknowledge it: {exc!r}"))

    async def _collect(self, consumer: AIOKafkaConsumer, positions: _Positions) -> None:
        while True:
            batch = await consumer.getmany(timeout_ms=1000)
            for tp, records in batch.items():
                for record in records:
                    self._handle(tp.topic, record)
                if records:
                    positions.offsets[tp] = records[-1].offset + 1

    def _handle(self, topic: str, record: ConsumerRecord[bytes, bytes]) -> None:
        index = self._index.get(record.key or b"")
        if index is None or self._tracker.is_settled(index):
            return  # another run's job, or a duplicate of a result we have
        if topic == self._topics.dead_letter:
            headers = dict(record.headers or ())
            reason = headers.get(DeadLetterHeaders.REASON, b"").decode(errors="replace")
            self._tracker.rejected(index, error("dead_letter", reason or "dead-lettered, no reason given"))
            return
        try:
            data = orjson.loads(record.value or b"")
        except orjson.JSONDecodeError:
            log.warning("skipping an undecodable message on %s for %s", topic, record.key)
            return
        if not isinstance(data, dict) or data.get("event") != "result":
            return  # status and test events
        try:
            event = ResultEvent.model_validate(data)
        except ValidationError as exc:
            log.warning("skipping an invalid result for %s: %s", record.key, exc.errors()[0]["msg"])
            return
        if str(event.id) == self._tracker.jobs[index].id:
            self._tracker.finished(index, event.outcome.verdict.value, data["outcome"])


async def _stop(consumer: AIOKafkaConsumer, producer: AIOKafkaProducer) -> None:
    # stop() is safe on clients that never started.
    await producer.stop()
    await consumer.stop()
