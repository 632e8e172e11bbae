"""What happens to one Kafka record, in four steps a method each: admit it (or reject it to the
dead-letter topic), answer it from the stored result when the job already finished, dead-letter it as
poison when it was started too often without finishing, or run it (our own failures retried in a fresh
pool process, :mod:`worker.retries`) and publish its events. Returns only once Kafka acknowledged them.

Only the last two *start* the job: once a pool process is reserved for it (the worker's one capacity
gate, :meth:`worker.pool.Pool.slot`), the consumer records the start (:data:`StartJob`). The checks
before run while the job waits for a process, and the process is given back as soon as the job's events
are sent: waiting for Kafka's acknowledgements does not keep it idle.
"""

import contextlib
import logging
import time
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass
from typing import Protocol
from uuid import UUID

from common.admission import first_refusal, runtime_mismatch
from common.contract import AdmissionLimits
from common.log_context import log_context
from common.runtimes import Runtime
from common.scoring import redacted, scored
from schemas.codec import DecodeError, decode_job
from schemas.jobs import JobMessage
from schemas.results import SEQ_RUNNING, Outcome, ResultEvent, TestReport, seq_for_test
from schemas.verdicts import Verdict
from worker.errors import InternalError, JobRejected
from worker.job_start import JobRecord, StartJob
from worker.metrics import job_finished, jobs_running
from worker.pool import Pool, Slot
from worker.publisher import Batch, Publisher
from worker.retries import RetryPolicy
from worker.spans import consuming, publishing_result, record_run
from worker.test_cache import TestCache

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class Admission:
    """What this worker accepts: job messages of its language within the cluster's admission limits."""

    language: str
    limits: AdmissionLimits
    runtime: Runtime | None = None
    """The runtime the jobs run on, whose compiler-option allow-list they must keep to."""

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
        if self.runtime is not None and (mismatch := runtime_mismatch(job, self.runtime)) is not None:
            raise JobRejected(mismatch.reason)
        return job


class FinishedLookup(Protocol):
    """Where stored results come from (worker/finished.py)."""

    async def lookup(self, job_id: UUID) -> ResultEvent | None:
        """The stored result of ``job_id`` when it already finished, else None."""

    async def key_refusal(self, key_id: str) -> str | None:
        """Why jobs of submitter key ``key_id`` may not run, or None."""


def poison_reason(started_before: int) -> str:
    """The dead-letter reason of a job whose workers kept dying."""
    return f"poison: a worker died {started_before} times while running this job"


class JobHandler:
    """Handles records of the jobs topic, one call per record (calls run concurrently)."""

    def __init__(
        self,
        admission: Admission,
        pool: Pool,
        publisher: Publisher,
        retries: RetryPolicy,
        *,
        worker_id: str,
        max_deliveries: int,
        finished: FinishedLookup | None = None,
        test_cache: TestCache | None = None,
    ) -> None:
        self._admission = admission
        self._pool = pool
        self._publisher = publisher
        self._retries = retries
        self._worker_id = worker_id
        self._max_deliveries = max_deliveries
        self._finished = finished
        self._test_cache = test_cache

    async def handle(self, record: JobRecord, start: StartJob) -> None:
        """Dead-letter ``record``, answer it from the stored result, or start its job through ``start`` and
        run it (or dead-letter it as poison). Raises only when Kafka would not take what we publish, or
        when ``start`` refuses (``JobAbandoned``)."""
        # Leaving the batch waits for Kafka's acknowledgements, after the pool slot was given back.
        with consuming(record) as span:
            async with self._publisher.batch() as batch:
                job = await self.admit(record, batch)
                if job is None:
                    return
                span.set_attribute("executioner.submission_id", str(job.id))
                with log_context(submission_id=job.id):
                    await self._answer_or_start(job, record, start, batch)

    async def _answer_or_start(
        self, job: JobMessage, record: JobRecord, start: StartJob, batch: Batch
    ) -> None:
        if await self.answer_from_store(job, batch):
            return
        async with self._pool.slot() as slot, start() as started_before:
            if self.is_poison(started_before):
                await self.poisoned(job, record, started_before, batch)
            else:
                await self.run(job, slot, batch)

    async def admit(self, record: JobRecord, batch: Batch) -> JobMessage | None:
        """The job of ``record``, or None when it was rejected (sent to the dead-letter topic)."""
        try:
            job = self._admission.admit(record.value)
            if job.key_id is not None and self._admission.limits.auth == "keys":
                await self.check_key(job.key_id)
            return job
        except JobRejected as exc:
            await batch.dead_letter(record, exc.reason)
            log.warning(
                "rejected %s[%d]@%d to dead-letter: %s", record.topic, record.partition, record.offset, exc
            )
            return None

    async def check_key(self, key_id: str) -> None:
        """Raise :class:`JobRejected` when the job's submitter key may not be used (EXECUTIONER_AUTH=keys)."""
        if self._finished is None:
            raise JobRejected(
                f"submitter key {key_id} cannot be checked: this worker has no EXECUTIONER_DATABASE_URL"
            )
        if (reason := await self._finished.key_refusal(key_id)) is not None:
            raise JobRejected(reason)

    async def answer_from_store(self, job: JobMessage, batch: Batch) -> bool:
        """Publish the stored result again when ``job`` already finished; whether it did."""
        stored = await self._finished.lookup(job.id) if self._finished is not None else None
        if stored is None:
            return False
        await batch.stored_result(stored)
        log.info("job %s already finished: its stored result was published again", job.id)
        return True

    def is_poison(self, started_before: int) -> bool:
        """Whether a job started ``started_before`` times without finishing must not run again."""
        return started_before >= self._max_deliveries

    async def poisoned(self, job: JobMessage, record: JobRecord, started_before: int, batch: Batch) -> None:
        """Give up a job that killed its workers: dead-letter it and publish an ``internal_error`` result,
        so whoever waits for it gets an answer."""
        reason = poison_reason(started_before)
        await batch.dead_letter(record, reason, result_published=True)
        # Above every seq an earlier delivery can have published (running, then one event per test).
        outcome = self.internal_error(job, f"dead-lettered as {reason}")
        with publishing_result():
            await batch.result(job, outcome, seq_for_test(len(job.tests or [])))
        log.error("job %s dead-lettered: %s", job.id, reason)

    async def run(self, job: JobMessage, slot: Slot, batch: Batch) -> Outcome:
        """Run a valid job on ``slot`` and publish ``running``, each test and the result; the outcome."""
        started = time.monotonic()
        running = jobs_running.labels(job.language)
        running.inc()
        try:
            outcome = await self._run(job, slot, batch, started)
        finally:
            running.dec()
        job_finished(job.language, outcome, time.monotonic() - started)
        return outcome

    async def _run(self, job: JobMessage, slot: Slot, batch: Batch, started: float) -> Outcome:
        await batch.running(job)
        last_seq = SEQ_RUNNING

        tests = job.tests or []

        async def on_test(report: TestReport) -> None:
            nonlocal last_seq
            record_run(f"test {report.index}", report)
            await batch.test(job, redacted(report, tests[report.index]))
            last_seq = max(last_seq, seq_for_test(report.index))

        async def attempt() -> Outcome:
            started_ns = time.time_ns()
            async with self._test_data(job):
                outcome = await slot.run(job, on_test)
            outcome = scored(
                outcome.model_copy(update={"tests": [redacted(r, tests[r.index]) for r in outcome.tests]}),
                tests,
            )
            if outcome.compile is not None:
                record_run("compile", outcome.compile, started_ns=started_ns)
            if outcome.run is not None:  # a job without tests: its one run
                record_run("run", outcome.run)
            return outcome

        outcome, attempts = await self._retries.run(
            job,
            attempt,
            lambda failure: self.internal_error(
                job, f"gave up after {self._retries.max_attempts} attempts: {failure}"
            ),
        )
        # One more than the last event published, including those of failed attempts, so the result is
        # never dropped as a duplicate by a consumer that keeps the highest seq.
        with publishing_result():
            await batch.result(job, outcome, last_seq + 1)
        elapsed_ms = round((time.monotonic() - started) * 1000)
        log.info("job %s %s in %d ms (attempts %d)", job.id, outcome.verdict, elapsed_ms, attempts)
        return outcome

    def _test_data(self, job: JobMessage) -> AbstractAsyncContextManager[None]:
        """The job's stored test files, present and verified while it runs (none needed: nothing)."""
        if not any(test.referenced for test in job.tests or ()):
            return contextlib.nullcontext()
        if self._test_cache is None:
            raise InternalError(
                "the job's tests are in the test store but this worker has no EXECUTIONER_DATABASE_URL"
            )
        return self._test_cache.holding(job.tests or [])

    def internal_error(self, job: JobMessage, message: str) -> Outcome:
        """An ``internal_error`` outcome of ``job`` from this worker: we, not the program, failed."""
        return Outcome(
            verdict=Verdict.INTERNAL_ERROR,
            limits=job.limits.effective(),
            message=message,
            worker=self._worker_id,
        )
