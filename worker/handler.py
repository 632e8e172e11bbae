"""What happens to one Kafka record: reject it to the dead-letter topic, publish the stored result again
when the job already finished, dead-letter it as poison when it was started too often without finishing,
or run it (retrying our own failures in a fresh pool process) and publish its events. Returns only once
Kafka acknowledged them.

Only the last two *start* the job (the consumer's gate: a pool slot and a recorded start). The checks
before it run while the job still waits for a slot, and the slot is given back as soon as the job's
events are sent: waiting for Kafka's acknowledgements does not keep a pool process idle.
"""

import asyncio
import logging
import time
from dataclasses import dataclass
from typing import Protocol
from uuid import UUID

from common.admission import first_refusal
from common.contract import AdmissionLimits
from schemas.codec import DecodeError, decode_job
from schemas.jobs import JobMessage
from schemas.results import SEQ_RUNNING, Outcome, ResultEvent, TestReport, seq_for_test
from schemas.verdicts import Verdict
from worker.errors import InternalError, JobRejected
from worker.job_start import StartJob
from worker.pool import OnTest, Pool
from worker.publisher import Ack, Publisher

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class Admission:
    """What this worker accepts: job messages of its language within the cluster's admission limits."""

    language: str
    limits: AdmissionLimits

    def admit(self, raw: bytes | None) -> JobMessage:
        """Decode and check one record's value; :class:`JobRejected` says why it will never run here."""
        if raw is None:
            raise JobRejected("empty message (no value)")
        try:
            job = decode_job(raw)
        except DecodeError as exc:
            raise JobRejected(exc.reason) from exc
        if job.language != self.language:
            raise JobRejected(f"language {job.language!r} sent to the {self.language!r} workers")
        if (refusal := first_refusal(job, self.limits)) is not None:
            raise JobRejected(refusal.reason)
        return job


class FinishedLookup(Protocol):
    """Where stored results come from (worker/finished.py)."""

    async def lookup(self, job_id: UUID) -> ResultEvent | None:
        """The stored result of ``job_id`` when it already finished, else None."""


def poison_reason(started_before: int) -> str:
    """The dead-letter reason of a job whose workers kept dying."""
    return f"poison: a worker died {started_before} times while running this job"


@dataclass(frozen=True, slots=True)
class Source:
    """Where a record came from, as dead letters tell it."""

    key: bytes | None
    value: bytes | None
    topic: str
    partition: int
    offset: int


class JobHandler:
    """Handles records of the jobs topic, one call per record (calls run concurrently)."""

    def __init__(
        self,
        admission: Admission,
        pool: Pool,
        publisher: Publisher,
        *,
        worker_id: str,
        max_attempts: int,
        max_deliveries: int,
        finished: FinishedLookup | None = None,
    ) -> None:
        self._admission = admission
        self._pool = pool
        self._publisher = publisher
        self._worker_id = worker_id
        self._max_attempts = max_attempts
        self._max_deliveries = max_deliveries
        self._finished = finished

    async def handle(
        self,
        *,
        key: bytes | None,
        value: bytes | None,
        topic: str,
        partition: int,
        offset: int,
        start: StartJob,
    ) -> None:
        """Dead-letter, answer from the stored result, or start the job through ``start`` and run it (or
        dead-letter it as poison when ``start`` says it was started too often). Raises only when Kafka
        would not take what we publish, or when ``start`` refuses (``JobAbandoned``)."""
        source = Source(key, value, topic, partition, offset)
        try:
            job = self._admission.admit(value)
        except JobRejected as exc:
            ack = await self._send_dead_letter(source, exc.reason)
            await ack
            log.warning("rejected %s[%d]@%d to dead-letter: %s", topic, partition, offset, exc.reason)
            return
        stored = await self._finished.lookup(job.id) if self._finished is not None else None
        if stored is not None:
            ack = await self._publisher.stored_result(stored)
            await ack
            log.info("job %s already finished: its stored result was published again", job.id)
            return
        async with start() as started_before:
            if started_before >= self._max_deliveries:
                acks = await self.poisoned(job, source, started_before)
            else:
                _, acks = await self.run(job)
        await asyncio.gather(*acks)

    async def poisoned(self, job: JobMessage, source: Source, started_before: int) -> list[Ack]:
        """Give up a job that killed its workers: dead-letter it and publish an ``internal_error`` result,
        so whoever waits for it gets an answer. Returns Kafka's acknowledgements to wait for."""
        reason = poison_reason(started_before)
        outcome = Outcome(
            verdict=Verdict.INTERNAL_ERROR,
            limits=job.limits.effective(),
            message=f"dead-lettered as {reason}",
            worker=self._worker_id,
        )
        # Above every seq an earlier delivery can have published (running, then one event per test).
        seq = seq_for_test(len(job.tests or []))
        dead_letter = await self._send_dead_letter(source, reason, result_published=True)
        acks = [dead_letter, await self._publisher.result(job, outcome, seq)]
        log.error("job %s dead-lettered: %s", job.id, reason)
        return acks

    async def _send_dead_letter(self, source: Source, reason: str, *, result_published: bool = False) -> Ack:
        return await self._publisher.dead_letter(
            key=source.key,
            value=source.value,
            reason=reason,
            topic=source.topic,
            partition=source.partition,
            offset=source.offset,
            result_published=result_published,
        )

    async def run(self, job: JobMessage) -> tuple[Outcome, list[Ack]]:
        """Run a valid job and publish ``running``, each test and the result. Returns the outcome and
        Kafka's acknowledgements of those events, to wait for."""
        started = time.monotonic()
        acks: list[Ack] = [await self._publisher.running(job)]
        last_seq = SEQ_RUNNING

        async def on_test(report: TestReport) -> None:
            nonlocal last_seq
            acks.append(await self._publisher.test(job, report))
            last_seq = max(last_seq, seq_for_test(report.index))

        outcome, attempts = await self._run_with_retries(job, on_test)
        # One more than the last event published, including those of failed attempts, so the result is
        # never dropped as a duplicate by a consumer that keeps the highest seq.
        acks.append(await self._publisher.result(job, outcome, last_seq + 1))
        elapsed_ms = round((time.monotonic() - started) * 1000)
        log.info("job %s %s in %d ms (attempts %d)", job.id, outcome.verdict, elapsed_ms, attempts)
        return outcome, acks

    async def _run_with_retries(self, job: JobMessage, on_test: OnTest) -> tuple[Outcome, int]:
        failure = ""
        for attempt in range(1, self._max_attempts + 1):
            try:
                return await self._pool.run(job, on_test), attempt
            except InternalError as exc:
                failure = str(exc)
                log.warning(
                    "job %s attempt %d/%d failed on our side: %s", job.id, attempt, self._max_attempts, exc
                )
        outcome = Outcome(
            verdict=Verdict.INTERNAL_ERROR,
            limits=job.limits.effective(),
            message=f"gave up after {self._max_attempts} attempts: {failure}",
            worker=self._worker_id,
        )
        return outcome, self._max_attempts
