"""Kafka consumption of one language's jobs: fetch only as many records as there are free pool slots,
run each as a named task, and commit per partition the highest offset below which every job is done.

Offsets are committed only after a job's result was acknowledged, and never past an unfinished job, so
a worker killed mid-job leaves that job (and everything after it) to the next owner of the partition.
Before a fetch's jobs start, a commit records in its metadata that they are starting (worker/deliveries.py),
so a job that keeps killing its workers can be recognised: the handler learns how often each job was
started before.
"""

import asyncio
import logging
from collections.abc import Awaitable, Callable, Iterable
from typing import Any, TypeAlias

from aiokafka import AIOKafkaConsumer, ConsumerRecord, TopicPartition
from aiokafka.abc import ConsumerRebalanceListener
from aiokafka.errors import KafkaError

from worker.committed import Committed
from worker.offsets import OffsetTracker, PartitionOffsets

log = logging.getLogger(__name__)

Record: TypeAlias = ConsumerRecord[bytes, bytes]
RecordHandler = Callable[[Record, int], Awaitable[None]]
"""Handles one record, given how many times its job was started before without finishing."""
CommittedReader = Callable[[list[TopicPartition]], Awaitable[Committed]]
FETCH_TIMEOUT_MS = 500
IDLE_POLL_S = 1.0
"""While every slot is busy, how often we still poll (paused) so the group knows we are alive."""


class JobConsumer(ConsumerRebalanceListener):  # type: ignore[misc]  # aiokafka is untyped
    """Owns the consumer, the in-flight job tasks and the offset bookkeeping."""

    def __init__(
        self,
        consumer: AIOKafkaConsumer,
        topic: str,
        handler: RecordHandler,
        read_committed: CommittedReader,
        *,
        capacity: int,
        drain_timeout_s: float,
    ) -> None:
        self._consumer = consumer
        self._topic = topic
        self._handler = handler
        self._read_committed = read_committed
        self._capacity = capacity
        self._drain_timeout_s = drain_timeout_s
        self._offsets: OffsetTracker[TopicPartition] = OffsetTracker()
        self._in_flight: dict[asyncio.Task[None], TopicPartition] = {}
        self._slot_freed = asyncio.Event()
        self._commit_lock = asyncio.Lock()
        self.failure: BaseException | None = None
        """Set when a job failed beyond recovery (Kafka would not take its result); the worker must stop."""

    async def start(self) -> None:
        """Join the group (partitions arrive with the first fetch)."""
        self._consumer.subscribe([self._topic], listener=self)
        await self._consumer.start()

    @property
    def in_flight(self) -> int:
        """Jobs running now."""
        return len(self._in_flight)

    async def run(self, stop: asyncio.Event, *, burst: bool) -> None:
        """Fetch and start jobs until ``stop`` is set, a job failed fatally, or (``burst``) the queue is
        empty. Returns with jobs possibly still running: :meth:`drain` waits for them."""
        while not stop.is_set() and self.failure is None:
            self._slot_freed.clear()
            free = self._capacity - len(self._in_flight)
            assignment = self._consumer.assignment()
            if free == 0:
                # Paused, a fetch returns nothing but still counts as a poll (max_poll_interval_ms).
                self._consumer.pause(*assignment)
                await self._consumer.getmany(timeout_ms=0)
                await _first_of(self._slot_freed, stop, within_s=IDLE_POLL_S)
                continue
            self._consumer.resume(*assignment)
            batch = await self._consumer.getmany(timeout_ms=FETCH_TIMEOUT_MS, max_records=free)
            if batch:
                await self._start_batch(batch)
            if burst and not batch and await self.caught_up():
                log.info("burst mode: every assigned partition is consumed; stopping")
                return

    async def _start_batch(self, batch: dict[TopicPartition, list[Record]]) -> None:
        """Start the jobs of one fetch, once a commit has recorded that they are starting."""
        unknown = [partition for partition in batch if not self._offsets.knows(partition)]
        if unknown:
            # The partition's first fetch since it was assigned: learn what earlier owners recorded.
            for partition, (offset, metadata) in (await self._read_committed(unknown)).items():
                self._offsets.load(partition, offset, metadata)
        starting = [
            (partition, record, *self._offsets.start(partition, record.offset))
            for partition, records in batch.items()
            for record in records
        ]
        # Awaited: a job that kills this worker must find its start already counted.
        await self.commit(batch)
        assigned = self._consumer.assignment()
        # Revoked while we awaited: the partition's new owner runs these jobs.
        lost = [partition for partition in batch if partition not in assigned]
        self._offsets.forget(lost)
        for partition, record, offsets, started_before in starting:
            if partition in lost:
                continue
            name = f"job:{partition.topic}[{partition.partition}]@{record.offset}"
            task = asyncio.create_task(self._process(partition, offsets, record, started_before), name=name)
            self._in_flight[task] = partition
            task.add_done_callback(self._job_ended)

    def _job_ended(self, task: asyncio.Task[None]) -> None:
        self._in_flight.pop(task, None)
        self._slot_freed.set()

    async def _process(
        self, partition: TopicPartition, offsets: PartitionOffsets, record: Record, started_before: int
    ) -> None:
        try:
            await self._handler(record, started_before)
        except Exception as exc:
            # Kafka would not take the job's events. Its offset stays uncommitted (another worker runs it
            # again) and this worker stops: it can no longer keep its promises.
            log.exception(
                "job at %s[%d]@%d cannot be completed", partition.topic, partition.partition, record.offset
            )
            self.failure = exc
            self._slot_freed.set()
            return
        offsets.finish(record.offset)
        await self.commit([partition])

    async def caught_up(self) -> bool:
        """Nothing running, and our position is the end offset on every assigned partition (there is at
        least one: before the first assignment we do not know yet)."""
        assignment = list(self._consumer.assignment())
        if self._in_flight or not assignment:
            return False
        ends = await self._consumer.end_offsets(assignment)
        for partition in assignment:
            if await self._consumer.position(partition) < ends[partition]:
                return False
        return True

    async def commit(self, partitions: Iterable[TopicPartition] | None = None) -> None:
        """Commit what is committable on ``partitions`` (default: all): the offset below which every job
        is done, with the delivery counts of the jobs above it as metadata. A failed commit is logged, not
        raised: the jobs concerned will simply run again on the partition's next owner."""
        async with self._commit_lock:
            commits = self._offsets.committable(partitions)
            assigned = self._consumer.assignment()
            commits = {tp: commit for tp, commit in commits.items() if tp in assigned}
            if not commits:
                return
            try:
                await self._consumer.commit(commits)
            except KafkaError as exc:
                log.warning("commit of %s failed: %s", commits, exc)
                return
            self._offsets.committed(commits)

    async def drain(self) -> None:
        """Wait (at most ``drain_timeout_s``) for running jobs, cancel the rest, commit what is done."""
        tasks = list(self._in_flight)
        if tasks:
            log.info("draining %d running job(s)", len(tasks))
            _, late = await asyncio.wait(tasks, timeout=self._drain_timeout_s)
            for task in late:
                log.warning(
                    "job %s did not finish in the drain timeout; it will run again elsewhere", task.get_name()
                )
                task.cancel()
            await asyncio.gather(*late, return_exceptions=True)
        await self.commit()

    async def stop(self) -> None:
        """Leave the group."""
        await self._consumer.stop()

    async def on_partitions_revoked(self, revoked: list[TopicPartition]) -> None:
        """Before a rebalance: let this worker's jobs on the lost partitions finish (bounded) and commit
        them, so their next owner does not run finished jobs again."""
        lost = set(revoked)
        tasks = [task for task, partition in self._in_flight.items() if partition in lost]
        if tasks:
            log.info("rebalance: waiting for %d job(s) of revoked partitions", len(tasks))
            await asyncio.wait(tasks, timeout=self._drain_timeout_s)
        await self.commit(lost)
        self._offsets.forget(lost)

    async def on_partitions_assigned(self, assigned: list[TopicPartition]) -> None:
        """Nothing to load yet: positions come from the committed offsets, and their metadata is read with
        each partition's first fetch (fetching may begin before this callback returns)."""
        log.info("assigned %s", sorted(f"{tp.topic}[{tp.partition}]" for tp in assigned))


async def _first_of(event: asyncio.Event, stop: asyncio.Event, *, within_s: float) -> None:
    waiters: set[asyncio.Task[Any]] = {
        asyncio.create_task(event.wait(), name="wait-slot"),
        asyncio.create_task(stop.wait(), name="wait-stop"),
    }
    await asyncio.wait(waiters, timeout=within_s, return_when=asyncio.FIRST_COMPLETED)
    for waiter in waiters:
        waiter.cancel()
    await asyncio.gather(*waiters, return_exceptions=True)
