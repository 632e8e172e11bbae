"""Kafka consumption of one language's jobs: keep as many records in flight as there are pool processes
plus a few ahead (``prefetch``), handle each as a named task, and commit per partition the highest offset
below which every job is done.

This is flow control, not a capacity gate: the pool is the only one. A job *starts* only through
:meth:`JobConsumer.starting`, which the handler enters once a pool process is reserved for the job, and
which commits the start in the partition's metadata (worker/deliveries.py) before the job runs, so a job
that keeps killing its workers can be recognised: the handler learns how often the job was started
before. Prefetched jobs wait for a pool process with their look-ups done, holding none, so a freed process
gets its next job at once.

Offsets are committed only after a job's result was acknowledged, and never past an unfinished or
unstarted job, so a worker killed mid-job leaves that job (and everything after it) to the next owner of
the partition. Finished jobs are committed in the background, coalesced (the next start's commit
usually carries them).
"""

import asyncio
import contextlib
import logging
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable
from dataclasses import dataclass
from typing import TypeAlias

from aiokafka import AIOKafkaConsumer, ConsumerRecord, TopicPartition
from aiokafka.abc import ConsumerRebalanceListener
from aiokafka.errors import KafkaError

from common.lifecycle import first_of
from worker.committed import Committed
from worker.errors import JobAbandoned
from worker.job_start import StartJob
from worker.metrics import kafka_commit, kafka_fetch
from worker.offsets import OffsetTracker, PartitionOffsets

log = logging.getLogger(__name__)

Record: TypeAlias = ConsumerRecord[bytes, bytes]
RecordHandler = Callable[[Record, StartJob], Awaitable[None]]
"""Handles one record (:meth:`worker.handler.JobHandler.handle`); enters its :data:`StartJob` to run it
(not to reject it or answer it from a stored result)."""
CommittedReader = Callable[[list[TopicPartition]], Awaitable[Committed]]
FETCH_TIMEOUT_MS = 500
IDLE_POLL_S = 1.0
"""While as many jobs are in flight as we keep, how often we still poll (paused) so that the group knows
we are alive."""


@dataclass(eq=False)
class _Job:
    """One fetched record's place in its partition, and whether its job has started."""

    partition: TopicPartition
    offsets: PartitionOffsets
    offset: int
    started: bool = False


class JobConsumer(ConsumerRebalanceListener):  # type: ignore[misc]  # aiokafka is untyped
    """Owns the consumer, the in-flight job tasks and the offset bookkeeping."""

    def __init__(
        self,
        consumer: AIOKafkaConsumer,
        topic: str,
        handler: RecordHandler,
        read_committed: CommittedReader,
        *,
        language: str,
        pool_size: int,
        prefetch: int,
        drain_timeout_s: float,
    ) -> None:
        self._consumer = consumer
        self._language = language
        self._topic = topic
        self._handler = handler
        self._read_committed = read_committed
        self._capacity = pool_size + prefetch
        self._drain_timeout_s = drain_timeout_s
        self._offsets: OffsetTracker[TopicPartition] = OffsetTracker()
        self._in_flight: dict[asyncio.Task[None], _Job] = {}
        self._room_freed = asyncio.Event()
        self._commit_lock = asyncio.Lock()
        self._commit_wanted = asyncio.Event()
        self._committer: asyncio.Task[None] | None = None
        self._draining = False
        self.failure: BaseException | None = None
        """Set when a job failed beyond recovery (Kafka would not take its result); the worker must stop."""

    async def start(self) -> None:
        """Join the group (partitions arrive with the first fetch) and start the background committer."""
        self._consumer.subscribe([self._topic], listener=self)
        await self._consumer.start()
        self._committer = asyncio.create_task(self._commit_finished(), name="offset-committer")
        self._committer.add_done_callback(self._committer_ended)

    @property
    def in_flight(self) -> int:
        """Jobs fetched and not done: running, or waiting for a pool process."""
        return len(self._in_flight)

    async def run(self, stop: asyncio.Event, *, burst: bool) -> None:
        """Fetch and start jobs until ``stop`` is set, a job failed fatally, or (``burst``) the queue is
        empty. Returns with jobs possibly still running: :meth:`drain` waits for them."""
        while not stop.is_set() and self.failure is None:
            self._room_freed.clear()
            free = self._capacity - len(self._in_flight)
            assignment = self._consumer.assignment()
            if free == 0:
                # Paused, a fetch returns nothing but still counts as a poll (max_poll_interval_ms).
                self._consumer.pause(*assignment)
                await self._consumer.getmany(timeout_ms=0)
                await first_of(self._room_freed.wait(), stop.wait(), within_s=IDLE_POLL_S)
                continue
            self._consumer.resume(*assignment)
            fetching = time.monotonic()
            batch = await self._consumer.getmany(timeout_ms=FETCH_TIMEOUT_MS, max_records=free)
            if batch:
                kafka_fetch.labels(self._language).observe(time.monotonic() - fetching)
                await self._start_batch(batch)
            if burst and not batch and await self.caught_up():
                log.info("burst mode: every assigned partition is consumed; stopping")
                return

    async def _start_batch(self, batch: dict[TopicPartition, list[Record]]) -> None:
        """Hand each record of one fetch to a task of its own (each starts its job via :meth:`starting`)."""
        unknown = [partition for partition in batch if not self._offsets.knows(partition)]
        if unknown:
            # The partition's first fetch since it was assigned: learn what earlier owners recorded.
            for partition, (offset, metadata) in (await self._read_committed(unknown)).items():
                self._offsets.load(partition, offset, metadata)
        assigned = self._consumer.assignment()
        for partition, records in batch.items():
            if partition not in assigned:
                continue  # revoked while we read the committed offsets: its new owner runs these
            for record in records:
                job = _Job(partition, self._offsets.fetched(partition, record.offset), record.offset)
                name = f"job:{partition.topic}[{partition.partition}]@{record.offset}"
                task = asyncio.create_task(self._process(job, record), name=name)
                self._in_flight[task] = job
                task.add_done_callback(self._job_ended)

    def _job_ended(self, task: asyncio.Task[None]) -> None:
        self._in_flight.pop(task, None)
        self._room_freed.set()

    @contextlib.asynccontextmanager
    async def starting(self, job: _Job) -> AsyncIterator[int]:
        """The :data:`StartJob` of ``job``: a commit recording the start (a pool process is already
        reserved for it); yields how many times it was started before."""
        self._check_startable(job)
        started_before = job.offsets.start(job.offset)
        try:
            # Awaited: a job that kills this worker must find its start already counted.
            await self.commit([job.partition])
            self._check_startable(job)
        except BaseException:
            job.offsets.abandon(job.offset)
            raise
        job.started = True
        yield started_before

    def _check_startable(self, job: _Job) -> None:
        if self._draining:
            raise JobAbandoned("the worker is draining")
        if job.partition not in self._consumer.assignment() or not self._offsets.owns(
            job.partition, job.offsets
        ):
            raise JobAbandoned("its partition was revoked")

    async def _process(self, job: _Job, record: Record) -> None:
        try:
            await self._handler(record, lambda: self.starting(job))
        except JobAbandoned as exc:
            # Its offset stays uncommitted: the partition's next owner (or this worker, later) runs it.
            log.info("job at %s[%d]@%d not started: %s", record.topic, record.partition, record.offset, exc)
            return
        except Exception as exc:
            # Kafka would not take the job's events. Its offset stays uncommitted (another worker runs it
            # again) and this worker stops: it can no longer keep its promises.
            log.exception(
                "job at %s[%d]@%d cannot be completed", record.topic, record.partition, record.offset
            )
            self.failure = exc
            self._room_freed.set()
            return
        job.offsets.finish(job.offset)
        self._commit_wanted.set()

    async def _commit_finished(self) -> None:
        """Commit finished jobs in the background; commits asked for while one is under way coalesce."""
        while True:
            await self._commit_wanted.wait()
            self._commit_wanted.clear()
            await self.commit()

    def _committer_ended(self, task: asyncio.Task[None]) -> None:
        if not task.cancelled() and task.exception() is not None:
            log.error("the offset committer failed", exc_info=task.exception())
            self.failure = task.exception()
            self._room_freed.set()

    async def _stop_committer(self) -> None:
        if self._committer is not None:
            self._committer.cancel()
            await asyncio.gather(self._committer, return_exceptions=True)
            self._committer = None

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
            committing = time.monotonic()
            try:
                await self._consumer.commit(commits)
            except KafkaError as exc:
                kafka_commit.labels(self._language, "failed").observe(time.monotonic() - committing)
                log.warning("commit of %s failed: %s", commits, exc)
                return
            kafka_commit.labels(self._language, "ok").observe(time.monotonic() - committing)
            self._offsets.committed(commits)

    async def drain(self) -> None:
        """Start no more jobs; wait (at most ``drain_timeout_s``) for the running ones, cancel the rest,
        commit what is done."""
        self._draining = True
        tasks = list(self._in_flight)
        if tasks:
            started = sum(job.started for job in self._in_flight.values())
            log.info("draining %d running job(s), leaving %d not started", started, len(tasks) - started)
            _, late = await asyncio.wait(tasks, timeout=self._drain_timeout_s)
            for task in late:
                log.warning(
                    "job %s did not finish in the drain timeout; it will run again elsewhere", task.get_name()
                )
                task.cancel()
            await asyncio.gather(*late, return_exceptions=True)
        await self._stop_committer()
        await self.commit()

    async def stop(self) -> None:
        """Leave the group."""
        await self._stop_committer()
        await self._consumer.stop()

    async def on_partitions_revoked(self, revoked: list[TopicPartition]) -> None:
        """Before a rebalance: drop the jobs of the lost partitions that have not started, let the
        started ones finish (bounded) and commit them, so their next owner does not run finished jobs
        again."""
        lost = set(revoked)
        ours = {task: job for task, job in self._in_flight.items() if job.partition in lost}
        waiting = [task for task, job in ours.items() if not job.started]
        for task in waiting:
            task.cancel()
        running = [task for task, job in ours.items() if job.started]
        if running:
            log.info("rebalance: waiting for %d job(s) of revoked partitions", len(running))
            await asyncio.wait(running, timeout=self._drain_timeout_s)
        await asyncio.gather(*waiting, return_exceptions=True)
        await self.commit(lost)
        self._offsets.forget(lost)

    async def on_partitions_assigned(self, assigned: list[TopicPartition]) -> None:
        """Nothing to load yet: positions come from the committed offsets, and their metadata is read with
        each partition's first fetch (fetching may begin before this callback returns)."""
        log.info("assigned %s", sorted(f"{tp.topic}[{tp.partition}]" for tp in assigned))
