"""The bench's own Kafka clients: a watcher of the run's ``results`` topic (how every scenario knows a
job finished, and when) and a producer of job and result messages."""

import asyncio
import contextlib
import itertools
import time
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import datetime
from uuid import UUID

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient
from pydantic import BaseModel

from common.kafka import make_producer
from schemas import DecodeError, ResultEvent, decode_result, encode

TOPIC_WAIT_S = 60.0
SEND_CHUNK = 2000
"""Messages in flight at once while producing in bulk (bounds the futures kept alive)."""


@dataclass(frozen=True, slots=True)
class Finished:
    """A ``result`` event as the watcher read it."""

    at: datetime
    """The event's own timestamp (set by whoever published it)."""
    seen: float
    """``time.time()`` when the watcher read it."""
    verdict: str


async def _partitions(bootstrap: str, topic: str) -> list[int]:
    """The partitions of ``topic``, once it exists (the API creates its topics at start-up)."""
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap, client_id="bench")
    await admin.start()
    try:
        async with asyncio.timeout(TOPIC_WAIT_S):
            while True:
                (described,) = await admin.describe_topics([topic])
                if described["error_code"] == 0 and described["partitions"]:
                    return sorted(p["partition"] for p in described["partitions"])
                await asyncio.sleep(0.2)
    finally:
        await admin.close()


class _Waiter:
    def __init__(self, pending: set[UUID]) -> None:
        self.pending = pending
        self.done = asyncio.Event()
        if not pending:
            self.done.set()


class ResultsWatcher:
    """Reads every ``result`` event published to ``topic`` after :meth:`start` returned (all partitions,
    no consumer group, nothing committed)."""

    def __init__(self, bootstrap: str, topic: str) -> None:
        self._bootstrap = bootstrap
        self._topic = topic
        self._consumer: AIOKafkaConsumer | None = None
        self._reader: asyncio.Task[None] | None = None
        self._waiters: list[_Waiter] = []
        self.finished: dict[UUID, Finished] = {}

    async def start(self) -> None:
        """Assign every partition of the topic and position at its end; then read in the background."""
        partitions = await _partitions(self._bootstrap, self._topic)
        consumer = AIOKafkaConsumer(
            bootstrap_servers=self._bootstrap, group_id=None, enable_auto_commit=False, client_id="bench"
        )
        await consumer.start()
        self._consumer = consumer
        tps = [TopicPartition(self._topic, p) for p in partitions]
        consumer.assign(tps)
        await consumer.seek_to_end(*tps)
        for tp in tps:  # resolve the end offsets now: later events must not be skipped
            await consumer.position(tp)
        self._reader = asyncio.create_task(self._read(consumer), name="bench results watcher")

    async def stop(self) -> None:
        """Stop reading."""
        if self._reader is not None:
            self._reader.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._reader
        if self._consumer is not None:
            await self._consumer.stop()

    @contextlib.contextmanager
    def paused(self) -> Iterator[None]:
        """Read nothing while the block runs (its events are read afterwards), so that the bench's own
        decoding does not compete with what the block measures."""
        assert self._consumer is not None, "start() the watcher first"
        partitions = self._consumer.assignment()
        self._consumer.pause(*partitions)
        try:
            yield
        finally:
            self._consumer.resume(*partitions)

    async def _read(self, consumer: AIOKafkaConsumer) -> None:
        while True:
            batch = await consumer.getmany(timeout_ms=500, max_records=5000)
            seen = time.time()
            for records in batch.values():
                for record in records:
                    with contextlib.suppress(DecodeError):
                        event = decode_result(record.value or b"")
                        if isinstance(event, ResultEvent):
                            self._record(event, seen)

    def _record(self, event: ResultEvent, seen: float) -> None:
        if event.id in self.finished:
            return  # a re-run's duplicate: the first result counts
        self.finished[event.id] = Finished(event.at, seen, event.outcome.verdict.value)
        for waiter in self._waiters:
            waiter.pending.discard(event.id)
            if not waiter.pending:
                waiter.done.set()
        self._waiters = [w for w in self._waiters if w.pending]

    def count(self, ids: Iterable[UUID]) -> int:
        """How many of ``ids`` have finished."""
        return sum(1 for i in ids if i in self.finished)

    async def wait_for(self, ids: Iterable[UUID], timeout_s: float) -> None:
        """Return once every one of ``ids`` has a result; TimeoutError after ``timeout_s`` seconds."""
        waiter = _Waiter({i for i in ids if i not in self.finished})
        self._waiters.append(waiter)
        assert self._reader is not None, "start() the watcher first"
        done = asyncio.ensure_future(waiter.done.wait())
        try:
            await asyncio.wait({done, self._reader}, timeout=timeout_s, return_when=asyncio.FIRST_COMPLETED)
        finally:
            done.cancel()
        if self._reader.done():
            raise RuntimeError("the results watcher stopped") from self._reader.exception()
        if waiter.pending:
            raise TimeoutError(f"{len(waiter.pending):,} results still missing after {timeout_s:.0f} s")

    def verdicts(self, ids: Iterable[UUID]) -> dict[str, int]:
        """How many of ``ids`` ended with each verdict."""
        counts: dict[str, int] = {}
        for i in ids:
            if (found := self.finished.get(i)) is not None:
                counts[found.verdict] = counts.get(found.verdict, 0) + 1
        return counts


class Producer:
    """An idempotent producer (the settings the API's outbox relay uses) for bulk sends."""

    def __init__(self, bootstrap: str) -> None:
        self._producer: AIOKafkaProducer = make_producer(bootstrap, "bench")
        self.acknowledged = 0
        """Messages Kafka acknowledged so far (for progress lines)."""

    async def __aenter__(self) -> "Producer":
        await self._producer.start()
        return self

    async def __aexit__(self, *_exc: object) -> None:
        await self._producer.stop()

    async def send_all(
        self, topic: str, messages: Iterable[tuple[UUID, BaseModel]], *, rate: float | None = None
    ) -> None:
        """Send ``(key, message)`` pairs and wait until Kafka acknowledged all of them; at most ``rate``
        per second when given. ``messages`` may be a generator: each message is then made just before it
        is handed to the producer (after the pause, when paced)."""
        pending: list[asyncio.Future[object]] = []
        items = iter(messages)
        started = time.monotonic()
        for index in itertools.count():
            if rate and (pause := started + index / rate - time.monotonic()) > 0:
                await asyncio.sleep(pause)
            if (item := next(items, None)) is None:
                break
            key, message = item
            pending.append(await self._producer.send(topic, encode(message), key=str(key).encode()))
            if len(pending) >= SEND_CHUNK:
                await asyncio.gather(*pending)
                self.acknowledged += len(pending)
                pending.clear()
        await asyncio.gather(*pending)
        self.acknowledged += len(pending)
